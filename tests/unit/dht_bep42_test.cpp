// BEP 42 (DHT security extension): CRC32C, IP-derived node ids against the BEP's test
// vectors, the id check and its local-network exemptions; the external address vote
// and a routing table moved to a new own id.
#include <algorithm>
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>

#include "crypto/crc32c.hpp"
#include "dht/ip_voter.hpp"
#include "dht/node_id.hpp"
#include "dht/routing_table.hpp"

using namespace pw::dht;

namespace {

std::string ip_bytes(const char* text) {
    auto a = boost::asio::ip::make_address(text);
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        return std::string(b.begin(), b.end());
    }
    auto b = a.to_v6().to_bytes();
    return std::string(b.begin(), b.end());
}

NodeId hex_id(const char* hex) {
    NodeId id;
    EXPECT_TRUE(pw::Sha1Digest::from_hex(hex, id)) << hex;
    return id;
}

struct Vector {
    const char* ip;
    std::uint8_t rand;
    const char* id;
};
// BEP 42 "test vectors": IP, rand (the id's last byte), an example id.
const Vector vectors[] = {
    {"124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
    {"21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
    {"65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
    {"84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
    {"43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
};

}  // namespace

TEST(Crc32c, KnownValues) {
    EXPECT_EQ(pw::crc32c(""), 0u);
    EXPECT_EQ(pw::crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check value
    std::string zeros(32, '\0');
    EXPECT_EQ(pw::crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
    std::string ones(32, '\xff');
    EXPECT_EQ(pw::crc32c(ones), 0x62A8AB43u);  // RFC 3720 B.4: 32 bytes of 0xff
}

TEST(Bep42, TestVectorsDeriveTheBoldPrefix) {
    for (const Vector& v : vectors) {
        NodeId example = hex_id(v.id);
        // Filled with the example's random bits, the derived id is the example itself.
        NodeId derived = bep42_node_id(ip_bytes(v.ip), v.rand, example);
        EXPECT_EQ(derived, example) << v.ip;
        // Filled with zeros: the 21 hashed bits, then nothing but the last byte.
        NodeId zero_fill = bep42_node_id(ip_bytes(v.ip), v.rand, NodeId{});
        EXPECT_EQ(zero_fill.bytes[0], example.bytes[0]) << v.ip;
        EXPECT_EQ(zero_fill.bytes[1], example.bytes[1]) << v.ip;
        EXPECT_EQ(zero_fill.bytes[2], example.bytes[2] & 0xf8) << v.ip;
        for (int i = 3; i < 19; ++i) EXPECT_EQ(zero_fill.bytes[i], 0) << v.ip;
        EXPECT_EQ(zero_fill.bytes[19], v.rand) << v.ip;
    }
}

TEST(Bep42, TestVectorIdsMatchTheirAddressOnly) {
    for (const Vector& v : vectors) {
        NodeId id = hex_id(v.id);
        EXPECT_TRUE(bep42_id_matches(id, ip_bytes(v.ip))) << v.ip;
        EXPECT_TRUE(bep42_valid(id, ip_bytes(v.ip))) << v.ip;
        for (const Vector& other : vectors) {
            if (&other != &v) {
                EXPECT_FALSE(bep42_id_matches(id, ip_bytes(other.ip))) << v.ip;
            }
        }
    }
}

TEST(Bep42, EachOfTheTwentyOneBitsCountsAndNoOther) {
    NodeId id = hex_id(vectors[0].id);
    std::string ip = ip_bytes(vectors[0].ip);
    for (int bit = 0; bit < 160; ++bit) {
        NodeId flipped = id;
        flipped.bytes[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
        // Bits 0..20 are the hash; the low 3 bits of the last byte are r, which changes
        // the hash; everything else is free.
        bool checked = bit < 21 || bit >= 157;
        EXPECT_EQ(bep42_id_matches(flipped, ip), !checked) << "bit " << bit;
    }
}

TEST(Bep42, AddressBitsOutsideTheMaskDoNotMatter) {
    // IPv4 mask 0x030f3fff: the top 6 bits of the first byte are ignored.
    NodeId id = hex_id(vectors[0].id);  // 124.31.75.21
    EXPECT_TRUE(bep42_id_matches(id, ip_bytes("0.31.75.21")));  // 124 & 0x03 == 0
    EXPECT_FALSE(bep42_id_matches(id, ip_bytes("124.31.75.22")));
    // IPv6: only the high 8 bytes count.
    NodeId id6 = bep42_random_node_id(ip_bytes("2001:db8:1:2::1"));
    EXPECT_TRUE(bep42_id_matches(id6, ip_bytes("2001:db8:1:2::1")));
    EXPECT_TRUE(bep42_id_matches(id6, ip_bytes("2001:db8:1:2:ffff::9")));
    EXPECT_FALSE(bep42_id_matches(id6, ip_bytes("2001:db8:1:3::1")));
}

TEST(Bep42, RandomIdsMatchAndDiffer) {
    for (const char* a : {"124.31.75.21", "8.8.4.4", "2a00:1450:4001:80b::200e"}) {
        std::string ip = ip_bytes(a);
        NodeId x = bep42_random_node_id(ip), y = bep42_random_node_id(ip);
        EXPECT_TRUE(bep42_id_matches(x, ip)) << a;
        EXPECT_TRUE(bep42_id_matches(y, ip)) << a;
        EXPECT_NE(x, y) << a;
    }
    // A random id almost never matches a given address (1 in 2^21).
    int matches = 0;
    for (int i = 0; i < 64; ++i) matches += bep42_id_matches(random_node_id(), ip_bytes("8.8.4.4"));
    EXPECT_LE(matches, 1);
}

TEST(Bep42, LocalNetworksAreExempt) {
    for (const char* a : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254",
                          "192.168.1.1", "169.254.3.4", "127.0.0.1", "127.9.9.9", "::1",
                          "fe80::1", "febf::1", "fc00::1", "fdff::1"})
        EXPECT_TRUE(bep42_exempt(ip_bytes(a))) << a;
    for (const char* a : {"11.0.0.1", "172.15.255.255", "172.32.0.1", "192.169.0.1", "169.253.0.1",
                          "128.0.0.1", "8.8.8.8", "198.51.100.7", "::2", "::", "fec0::1",
                          "fe00::1", "2001:db8::1", "::ffff:127.0.0.1"})
        EXPECT_FALSE(bep42_exempt(ip_bytes(a))) << a;
    NodeId random = hex_id("0000000000000000000000000000000000000001");
    EXPECT_TRUE(bep42_valid(random, ip_bytes("127.0.0.1")));
    EXPECT_TRUE(bep42_valid(random, ip_bytes("::1")));
    EXPECT_FALSE(bep42_valid(random, ip_bytes("198.51.100.7")));
}

TEST(Bep42, MalformedAddressesNeverMatch) {
    NodeId id = hex_id(vectors[0].id);
    EXPECT_FALSE(bep42_id_matches(id, ""));
    EXPECT_FALSE(bep42_id_matches(id, "abc"));
    EXPECT_FALSE(bep42_exempt(std::string(5, '\x7f')));
    EXPECT_FALSE(bep42_valid(id, std::string(8, '\0')));
    EXPECT_EQ(bep42_hash("xyz", 1), 0u);
}

TEST(IpVoter, NeedsEnoughDistinctVotersAndAClearMajority) {
    IpVoter v(3, 4);
    std::string x = ip_bytes("198.51.100.7"), y = ip_bytes("203.0.113.1");
    EXPECT_FALSE(v.vote(ip_bytes("8.8.8.8"), x));
    EXPECT_FALSE(v.vote(ip_bytes("8.8.8.8"), x));  // the same voter again: still one vote
    EXPECT_FALSE(v.vote(ip_bytes("8.8.4.4"), x));
    EXPECT_FALSE(v.winner().has_value());
    EXPECT_TRUE(v.vote(ip_bytes("1.1.1.1"), x));
    EXPECT_EQ(v.winner(), x);
    // Three voters change their minds, one of them at a time: the oldest drops out (4 max).
    EXPECT_FALSE(v.vote(ip_bytes("9.9.9.9"), y));  // 3 x, 1 y
    EXPECT_FALSE(v.vote(ip_bytes("8.8.8.8"), y));  // 2 x, 2 y: a tie keeps the winner
    EXPECT_EQ(v.winner(), x);
    EXPECT_TRUE(v.vote(ip_bytes("8.8.4.4"), y));  // 1 x, 3 y
    EXPECT_EQ(v.winner(), y);
    EXPECT_EQ(v.voters(), 4u);
    EXPECT_FALSE(v.vote("bad", x));
    EXPECT_FALSE(v.vote(ip_bytes("5.5.5.5"), "bad"));
    EXPECT_EQ(v.voters(), 4u);
}

TEST(RoutingTableOwnId, NodesFollowANewOwnId) {
    auto now = Clock::now();
    RoutingTable t(random_node_id(), now);
    std::vector<NodeInfo> nodes;
    for (int i = 0; i < 20; ++i) {
        NodeInfo n{random_node_id(), Endpoint{{127, 0, 0, 1}, static_cast<std::uint16_t>(1000 + i)}};
        t.node_responded(n, now);
        nodes.push_back(n);
    }
    t.node_failed(nodes[0].id, nodes[0].endpoint, now);
    NodeId fresh = bep42_random_node_id(ip_bytes("198.51.100.7"));
    RoutingTable u = t.with_own_id(fresh, now);
    EXPECT_EQ(u.own_id(), fresh);
    // How many fit depends on where the random ids fall around the new one; a bucket of
    // 8 always does (the first one, which holds the new id, splits as it fills).
    EXPECT_GE(u.size(), std::min<std::size_t>(t.size(), 8));
    for (const NodeInfo& n : u.all_nodes())  // none made up
        EXPECT_TRUE(std::any_of(nodes.begin(), nodes.end(), [&](const NodeInfo& m) { return m.id == n.id; }));
    for (const NodeInfo& n : t.all_nodes()) {
        const RoutingEntry* e = u.find(n.id);
        if (!e) continue;
        EXPECT_EQ(e->node.endpoint, n.endpoint);
        if (n.id == nodes[0].id) {
            EXPECT_EQ(e->fail_count, 1);
        }
    }
}
