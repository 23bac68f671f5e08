// The iterative lookup state machine: alpha in flight, convergence on the k closest,
// failures, bounded candidates and queries.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "dht/lookup.hpp"

using namespace pw::dht;

namespace {

Endpoint ep(std::uint16_t port) {
    return Endpoint{{127, 0, 0, 1}, port};
}

// A simulated network of n nodes: each answers with the 8 nodes closest to the target
// among all of them.
struct World {
    std::vector<NodeInfo> nodes;
    explicit World(int n) {
        for (int i = 0; i < n; ++i)
            nodes.push_back({random_node_id(), ep(static_cast<std::uint16_t>(10000 + i))});
    }
    std::vector<NodeInfo> closest(const NodeId& target, std::size_t k) const {
        auto copy = nodes;
        std::sort(copy.begin(), copy.end(),
                  [&](const NodeInfo& a, const NodeInfo& b) { return closer(target, a.id, b.id); });
        copy.resize(std::min(k, copy.size()));
        return copy;
    }
    const NodeInfo* at(const Endpoint& e) const {
        for (const auto& n : nodes)
            if (n.endpoint == e) return &n;
        return nullptr;
    }
};

}  // namespace

TEST(DhtLookup, ConvergesOnTheClosest) {
    World w(500);
    NodeId target = random_node_id();
    Lookup l(target, random_node_id());
    l.add_seed_endpoint(w.nodes[0].endpoint);  // a router: id unknown
    int rounds = 0;
    while (!l.done() && rounds < 1000) {
        auto batch = l.next();
        EXPECT_LE(l.in_flight(), 3u);
        for (const auto& c : batch) {
            const NodeInfo* n = w.at(c.node.endpoint);
            ASSERT_NE(n, nullptr);
            l.on_response(n->endpoint, n->id, "tok");
            l.add_nodes(n->endpoint, w.closest(target, 8));
        }
        ++rounds;
    }
    ASSERT_TRUE(l.done());
    auto best = l.closest_responded(8, true);
    auto truth = w.closest(target, 8);
    ASSERT_EQ(best.size(), 8u);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(best[i].node.id, truth[i].id);
    EXPECT_LT(l.queries_sent(), 60u);
}

TEST(DhtLookup, FailuresAreSkipped) {
    World w(100);
    NodeId target = random_node_id();
    Lookup l(target, random_node_id());
    for (const auto& n : w.closest(target, 16)) l.add_seed(n);
    // The 4 closest never answer.
    auto dead = w.closest(target, 4);
    int guard = 0;
    while (!l.done() && guard++ < 100) {
        for (const auto& c : l.next()) {
            bool is_dead = std::any_of(dead.begin(), dead.end(), [&](const NodeInfo& d) {
                return d.endpoint == c.node.endpoint;
            });
            if (is_dead)
                l.on_failure(c.node.endpoint);
            else
                l.on_response(c.node.endpoint, c.node.id, "");
        }
    }
    ASSERT_TRUE(l.done());
    auto best = l.closest_responded(8, false);
    ASSERT_EQ(best.size(), 8u);
    auto truth = w.closest(target, 12);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(best[i].node.id, truth[i + 4].id);
    EXPECT_TRUE(l.closest_responded(8, true).empty());  // nobody gave a token
}

TEST(DhtLookup, WrongIdCountsAsFailureAndOwnIdIgnored) {
    NodeId own = random_node_id();
    Lookup l(random_node_id(), own);
    NodeInfo a{random_node_id(), ep(1)};
    l.add_seed(a);
    l.add_seed(NodeInfo{own, ep(2)});  // ourselves: never a candidate
    EXPECT_EQ(l.candidates().size(), 1u);
    auto batch = l.next();
    ASSERT_EQ(batch.size(), 1u);
    l.on_response(a.endpoint, random_node_id(), "x");
    EXPECT_TRUE(l.closest_responded(8, false).empty());
    EXPECT_TRUE(l.done());
    // An unsolicited "response" from an endpoint never queried changes nothing.
    l.on_response(ep(99), random_node_id(), "x");
    EXPECT_TRUE(l.closest_responded(8, false).empty());
}

TEST(DhtLookup, CandidatesAndQueriesBounded) {
    NodeId target = random_node_id();
    Lookup l(target, random_node_id(), 8, 3, 50, 20);
    l.add_seed(NodeInfo{random_node_id(), ep(1)});
    int guard = 0;
    std::uint16_t port = 100;
    while (!l.done() && guard++ < 1000) {
        for (const auto& c : l.next()) {
            l.on_response(c.node.endpoint, c.node.id, "");
            std::vector<NodeInfo> fake;
            for (int i = 0; i < 64; ++i) fake.push_back({random_node_id(), ep(port++)});
            l.add_nodes(c.node.endpoint, fake);
            EXPECT_LE(l.candidates().size(), 50u + 3u);
        }
    }
    EXPECT_TRUE(l.done());
    EXPECT_LE(l.queries_sent(), 20u);
}

// A round whose replies name nothing closer does not end the lookup: it goes on until
// the k closest candidates have all answered (or failed), a timeout passing the slot on
// to the next closest.
TEST(DhtLookup, RoundWithNothingCloserDoesNotStop) {
    World w(40);
    NodeId target = random_node_id();
    Lookup l(target, random_node_id());
    auto seeds = w.closest(target, 16);
    for (const auto& n : seeds) l.add_seed(n);
    // First round: three replies that name nobody new.
    auto first = l.next();
    ASSERT_EQ(first.size(), 3u);
    for (const auto& c : first) l.on_response(c.node.endpoint, c.node.id, "t");
    EXPECT_FALSE(l.done());
    // Second round: one answers, one times out, one answers.
    auto second = l.next();
    ASSERT_EQ(second.size(), 3u);
    l.on_response(second[0].node.endpoint, second[0].node.id, "t");
    l.on_failure(second[1].node.endpoint);
    l.on_response(second[2].node.endpoint, second[2].node.id, "t");
    EXPECT_FALSE(l.done());
    int guard = 0;
    while (!l.done() && guard++ < 100)
        for (const auto& c : l.next()) l.on_response(c.node.endpoint, c.node.id, "t");
    ASSERT_TRUE(l.done());
    // The 8 closest that did not fail all answered: seeds 0..8 minus the one that failed.
    auto best = l.closest_responded(8, true);
    ASSERT_EQ(best.size(), 8u);
    std::size_t s = 0;
    for (const auto& b : best) {
        if (seeds[s].endpoint == second[1].node.endpoint) ++s;
        EXPECT_EQ(b.node.id, seeds[s].id);
        ++s;
    }
    EXPECT_EQ(l.queries_sent(), 9u);
}

// BEP 42 "Enforcement": a noncompliant reply's nodes are followed, but its token is not
// a storage target and it does not count toward the k closest that end the lookup.
TEST(DhtLookup, NoncompliantRepliesGiveNodesButNoTokenAndDoNotEndTheLookup) {
    World w(60);
    NodeId target = random_node_id();
    Lookup l(target, random_node_id());
    for (const auto& n : w.nodes) l.add_seed(n);
    auto truth = w.closest(target, 9);
    const Endpoint bad = truth[0].endpoint;  // the closest node is noncompliant
    int rounds = 0;
    while (!l.done() && rounds < 1000) {
        for (const auto& c : l.next()) {
            const NodeInfo* n = w.at(c.node.endpoint);
            ASSERT_NE(n, nullptr);
            l.on_response(n->endpoint, n->id, "tok", !(n->endpoint == bad));
            EXPECT_TRUE(l.answered(n->endpoint));
        }
        ++rounds;
    }
    ASSERT_TRUE(l.done());
    auto best = l.closest_responded(8, true);
    ASSERT_EQ(best.size(), 8u);
    // The noncompliant node is skipped: the storage targets are the next 8, and all of
    // them were asked (the noncompliant one did not fill a place in the window).
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(best[i].node.id, truth[i + 1].id);
    for (const auto& c : l.candidates())
        if (c.node.endpoint == bad) {
            EXPECT_EQ(c.state, Lookup::State::noncompliant);
            EXPECT_TRUE(c.token.empty());
        }
    EXPECT_TRUE(l.closest_responded(8, false).size() == 8u);
    EXPECT_FALSE(l.answered(ep(1)));
}
