// Routing table (BEP 5): bucket splits, good/questionable/bad, replacement cache,
// refresh targets.
#include <gtest/gtest.h>

#include <set>

#include "dht/routing_table.hpp"

using namespace pw::dht;
using namespace std::chrono_literals;

namespace {

NodeId zero_id() {
    return NodeId{};
}

// An id sharing exactly `prefix` leading bits with the all-zero id, made unique by `n`.
NodeId id_at(int prefix, std::uint8_t n) {
    NodeId id;
    id.bytes[prefix / 8] = static_cast<std::uint8_t>(0x80 >> (prefix % 8));
    id.bytes[19] ^= n;
    if (prefix / 8 == 19) id.bytes[18] ^= n;
    return id;
}

Endpoint ep(std::uint16_t port, std::uint8_t host = 1) {
    return Endpoint{{127, 0, 0, host}, port};
}

}  // namespace

TEST(NodeIdTest, PrefixAndDistance) {
    NodeId a{}, b{};
    EXPECT_EQ(common_prefix_bits(a, b), 160);
    b.bytes[0] = 0x80;
    EXPECT_EQ(common_prefix_bits(a, b), 0);
    b.bytes[0] = 0x01;
    EXPECT_EQ(common_prefix_bits(a, b), 7);
    NodeId c{};
    c.bytes[0] = 0x02;
    EXPECT_TRUE(closer(a, b, c));
    EXPECT_FALSE(closer(a, c, b));
    EXPECT_EQ(distance(b, c).bytes[0], 0x03);
    for (int bits : {0, 1, 7, 8, 100, 159}) {
        NodeId r = random_id_with_prefix(b, bits, true);
        EXPECT_EQ(common_prefix_bits(b, r), bits);
        EXPECT_GE(common_prefix_bits(b, random_id_with_prefix(b, bits, false)), bits);
    }
}

TEST(RoutingTableTest, FillsFirstBucketThenSplits) {
    auto now = Clock::now();
    RoutingTable t(zero_id(), now);
    for (std::uint8_t i = 0; i < 8; ++i)
        EXPECT_EQ(t.node_responded({id_at(0, i), ep(1000 + i)}, now), RoutingTable::Insert::added);
    EXPECT_EQ(t.bucket_count(), 1u);
    // A ninth far node: the only bucket covers our id, so it splits; the far half is
    // still full, so the newcomer goes to the replacement cache.
    EXPECT_EQ(t.node_responded({id_at(0, 9), ep(1009)}, now), RoutingTable::Insert::cached);
    EXPECT_EQ(t.bucket_count(), 2u);
    EXPECT_EQ(t.bucket(0).nodes.size(), 8u);
    EXPECT_EQ(t.bucket(0).replacements.size(), 1u);
    // Near nodes land in the new bucket, which keeps splitting as it fills.
    for (std::uint8_t i = 0; i < 8; ++i)
        EXPECT_EQ(t.node_responded({id_at(5, i), ep(2000 + i)}, now), RoutingTable::Insert::added);
    EXPECT_EQ(t.node_responded({id_at(9, 0), ep(3000)}, now), RoutingTable::Insert::added);
    EXPECT_GT(t.bucket_count(), 2u);
    EXPECT_EQ(t.size(), 17u);
    // Far buckets never split: the far bucket stays at 8 whatever arrives.
    for (std::uint8_t i = 10; i < 40; ++i) t.node_responded({id_at(0, i), ep(4000 + i)}, now);
    EXPECT_EQ(t.bucket(0).nodes.size(), 8u);
    EXPECT_LE(t.bucket(0).replacements.size(), RoutingTable::k);
}

TEST(RoutingTableTest, RejectsOwnIdSecondAddressAndMovedId) {
    auto now = Clock::now();
    RoutingTable t(zero_id(), now);
    EXPECT_EQ(t.node_responded({zero_id(), ep(1)}, now), RoutingTable::Insert::rejected);
    EXPECT_EQ(t.node_responded({id_at(3, 1), ep(10)}, now), RoutingTable::Insert::added);
    EXPECT_EQ(t.node_responded({id_at(3, 2), ep(10)}, now), RoutingTable::Insert::rejected);
    EXPECT_EQ(t.node_responded({id_at(3, 1), ep(11)}, now), RoutingTable::Insert::rejected);
    EXPECT_EQ(t.node_responded({id_at(3, 1), ep(10)}, now), RoutingTable::Insert::updated);
    EXPECT_EQ(t.size(), 1u);
}

TEST(RoutingTableTest, GoodQuestionableBad) {
    auto now = Clock::now();
    RoutingTable t(zero_id(), now);
    NodeInfo n{id_at(0, 1), ep(1)};
    t.node_responded(n, now);
    const RoutingEntry* e = t.find(n.id);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(t.status(*e, now + 14min), NodeStatus::good);
    EXPECT_EQ(t.status(*e, now + 16min), NodeStatus::questionable);
    // A query from it keeps it good (it answered us once before).
    t.node_queried(n.id, n.endpoint, now + 10min);
    EXPECT_EQ(t.status(*e, now + 16min), NodeStatus::good);
    EXPECT_EQ(t.status(*e, now + 26min), NodeStatus::questionable);
    t.node_failed(n.id, n.endpoint, now + 26min);
    EXPECT_NE(t.status(*e, now + 26min), NodeStatus::bad);  // one miss: try once more
    t.node_failed(n.id, n.endpoint, now + 26min);
    EXPECT_EQ(t.status(*e, now + 26min), NodeStatus::bad);
    EXPECT_TRUE(t.closest(n.id, 8).empty());  // bad nodes are not handed out
    // An answer makes it good again.
    t.node_responded(n, now + 27min);
    EXPECT_EQ(t.status(*t.find(n.id), now + 27min), NodeStatus::good);
}

TEST(RoutingTableTest, QuestionableNodeIsPingedThenReplaced) {
    auto now = Clock::now();
    // Own id in the far half, so bucket 0 (ids starting with 1) cannot split.
    NodeId own{};
    RoutingTable t(own, now);
    for (std::uint8_t i = 0; i < 8; ++i) t.node_responded({id_at(0, i), ep(100 + i)}, now);
    t.node_responded({id_at(5, 0), ep(200)}, now);  // forces the split
    ASSERT_GE(t.bucket_count(), 2u);
    auto later = now + 20min;
    // Everyone in bucket 0 is questionable now; a newcomer waits in the cache.
    NodeInfo newcomer{id_at(0, 50), ep(300)};
    EXPECT_FALSE(t.has_room_for(newcomer.id, later));
    EXPECT_EQ(t.node_responded(newcomer, later), RoutingTable::Insert::cached);
    auto to_ping = t.nodes_to_ping(later, 10);
    ASSERT_FALSE(to_ping.empty());
    NodeInfo victim = to_ping[0];
    EXPECT_EQ(t.bucket_index(victim.id), t.bucket_index(newcomer.id));
    // The pinged node fails twice: the newcomer takes its place.
    t.node_failed(victim.id, victim.endpoint, later);
    EXPECT_NE(t.find(victim.id), nullptr);
    t.node_failed(victim.id, victim.endpoint, later);
    EXPECT_EQ(t.find(victim.id), nullptr);
    ASSERT_NE(t.find(newcomer.id), nullptr);
    EXPECT_EQ(t.bucket(0).nodes.size(), 8u);
    EXPECT_TRUE(t.bucket(0).replacements.empty());
}

TEST(RoutingTableTest, BadNodeReplacedDirectlyByNewcomer) {
    auto now = Clock::now();
    RoutingTable t(zero_id(), now);
    for (std::uint8_t i = 0; i < 8; ++i) t.node_responded({id_at(0, i), ep(100 + i)}, now);
    t.node_responded({id_at(5, 0), ep(200)}, now);
    NodeInfo first{id_at(0, 0), ep(100)};
    t.node_failed(first.id, first.endpoint, now);
    t.node_failed(first.id, first.endpoint, now);
    NodeInfo newcomer{id_at(0, 60), ep(400)};
    EXPECT_TRUE(t.has_room_for(newcomer.id, now));
    EXPECT_EQ(t.node_responded(newcomer, now), RoutingTable::Insert::added);
    EXPECT_EQ(t.find(first.id), nullptr);
}

TEST(RoutingTableTest, ClosestSortedByXor) {
    auto now = Clock::now();
    RoutingTable t(random_node_id(), now);
    std::vector<NodeInfo> all;
    for (std::uint16_t i = 0; i < 200; ++i) {
        NodeInfo n{random_node_id(), ep(static_cast<std::uint16_t>(1000 + i))};
        if (t.node_responded(n, now) == RoutingTable::Insert::added) all.push_back(n);
    }
    EXPECT_EQ(t.size(), all.size());
    NodeId target = random_node_id();
    auto got = t.closest(target, 8);
    ASSERT_EQ(got.size(), 8u);
    std::sort(all.begin(), all.end(),
              [&](const NodeInfo& a, const NodeInfo& b) { return closer(target, a.id, b.id); });
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(got[i].id, all[i].id);
    // Every bucket holds at most k nodes and only ids of its range.
    for (std::size_t b = 0; b < t.bucket_count(); ++b) {
        EXPECT_LE(t.bucket(b).nodes.size(), RoutingTable::k);
        for (const auto& e : t.bucket(b).nodes) EXPECT_EQ(t.bucket_index(e.node.id), b);
    }
}

TEST(RoutingTableTest, RefreshTargetsOncePerInterval) {
    auto now = Clock::now();
    RoutingTable t(zero_id(), now);
    for (std::uint8_t i = 0; i < 9; ++i) t.node_responded({id_at(0, i), ep(100 + i)}, now);
    ASSERT_EQ(t.bucket_count(), 2u);
    EXPECT_TRUE(t.refresh_targets(now + 1min, 15min).empty());
    auto targets = t.refresh_targets(now + 16min, 15min);
    ASSERT_EQ(targets.size(), 2u);
    EXPECT_EQ(t.bucket_index(targets[0]), 0u);
    EXPECT_EQ(t.bucket_index(targets[1]), 1u);
    EXPECT_TRUE(t.refresh_targets(now + 17min, 15min).empty());
}
