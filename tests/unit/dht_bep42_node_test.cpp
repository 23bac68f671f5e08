// BEP 42 in a running DhtNode: "ip" in answers, the external address from "ip" votes and
// from set_external_address giving a derived id, and enforcement (nonconforming ids stay
// out of the routing table; local networks exempt). Every wait is bounded by run_until.
//
// The Bep42Live tests need addresses that are not exempt: they run only where
// 198.51.100.1 and .2 are on a loopback interface of a network namespace of their own
// (tests/interop/bep42_netns_test.sh), and skip elsewhere.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "dht/node_id.hpp"
#include "dht/parse/krpc.hpp"
#include "dht/udp_dht_node.hpp"

using namespace pw::dht;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

const auto lo = asio::ip::make_address("127.0.0.1");

DhtSettings fast() {
    DhtSettings s;
    s.query_timeout = 300ms;
    s.lookup_timeout = 3s;
    s.maintenance_interval = 100ms;
    s.bootstrap_retry = 200ms;
    return s;
}

bool run_until(asio::io_context& io, std::chrono::milliseconds limit, const std::function<bool()>& pred) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(10ms);
    }
    return pred();
}

std::string bytes_of(const asio::ip::address& a) {
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        return std::string(b.begin(), b.end());
    }
    auto b = a.to_v6().to_bytes();
    return std::string(b.begin(), b.end());
}

Endpoint endpoint_of(const udp::endpoint& ep) {
    Endpoint e;
    std::string b = bytes_of(ep.address());
    std::copy(b.begin(), b.end(), e.ip.begin());
    e.v6 = ep.address().is_v6();
    e.port = ep.port();
    return e;
}

// A hand-driven UDP socket keeping what it receives.
struct Raw {
    udp::socket sock;
    std::deque<std::string> inbox;
    std::array<char, 65536> buf{};
    udp::endpoint from;

    Raw(asio::io_context& io, const udp::endpoint& at) : sock(io, at) { read(); }
    void read() {
        sock.async_receive_from(asio::buffer(buf), from, [this](boost::system::error_code ec, std::size_t n) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) inbox.emplace_back(buf.data(), n);
            read();
        });
    }
    std::optional<Message> next(asio::io_context& io) {
        if (!run_until(io, 2s, [&] { return !inbox.empty(); })) return std::nullopt;
        auto d = decode_message(inbox.front());
        inbox.pop_front();
        if (!d.ok) return std::nullopt;
        return d.message;
    }
    // Answers the next query (a ping from add_node) with `id` and, if given, "ip".
    bool answer(asio::io_context& io, const udp::endpoint& to, const NodeId& id,
                std::optional<Endpoint> ip = std::nullopt) {
        auto q = next(io);
        if (!q || q->type != MessageType::query) return false;
        Message r;
        r.type = MessageType::response;
        r.transaction = q->transaction;
        r.id = id;
        r.ip = ip;
        std::string wire = encode_message(r);
        sock.send_to(asio::buffer(wire), to);
        return true;
    }
};

}  // namespace

TEST(Bep42Node, AnswersCarryTheQueriersAddress) {
    asio::io_context io;
    UdpDhtNode node(io, udp::endpoint(lo, 0), fast());
    node.start();
    Raw raw(io, udp::endpoint(lo, 0));
    Message q;
    q.type = MessageType::query;
    q.method = Method::ping;
    q.transaction = "p1";
    q.id = random_node_id();
    q.read_only = true;  // BEP 43: not pinged back to join the table
    std::string wire = encode_message(q);
    raw.sock.send_to(asio::buffer(wire), node.local_endpoint());
    auto r = raw.next(io);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->ip.has_value());
    EXPECT_EQ(*r->ip, endpoint_of(raw.sock.local_endpoint()));
    // A bad query's error carries it too.
    std::string bad = "d1:ad2:id3:abce1:q4:ping1:t2:p21:y1:qe";
    raw.sock.send_to(asio::buffer(bad), node.local_endpoint());
    auto e = raw.next(io);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, MessageType::error);
    ASSERT_TRUE(e->ip.has_value());
    EXPECT_EQ(*e->ip, endpoint_of(raw.sock.local_endpoint()));
}

TEST(Bep42Node, KnownExternalAddressGivesADerivedId) {
    asio::io_context io;
    DhtSettings s = fast();
    s.node_id = NodeId{};  // all zeros: matches neither address below
    UdpDhtNode node(io, udp::endpoint(lo, 0), s);
    node.start();
    // Local addresses are exempt: every id fits them, nothing changes.
    node.node().set_external_address(asio::ip::make_address("192.168.1.20"));
    EXPECT_EQ(node.node().id(), NodeId{});
    // An IPv6 address is not this IPv4-only node's business.
    node.node().set_external_address(asio::ip::make_address("2001:db8::5"));
    EXPECT_EQ(node.node().id(), NodeId{});
    auto ext = asio::ip::make_address("198.51.100.7");
    node.node().set_external_address(ext);
    NodeId derived = node.node().id();
    EXPECT_NE(derived, NodeId{});
    EXPECT_TRUE(bep42_id_matches(derived, bytes_of(ext)));
    EXPECT_EQ(node.node().stats().id_changes, 1u);
    // Already fitting: kept.
    node.node().set_external_address(ext);
    EXPECT_EQ(node.node().id(), derived);
    EXPECT_EQ(node.node().stats().id_changes, 1u);
    // The saved state has the new id.
    EXPECT_NE(node.node().save_state().find(std::string(derived.view())), std::string::npos);
}

TEST(Bep42Node, IpVotesDecideTheExternalAddress) {
    for (std::size_t votes : {1u, 2u}) {
        asio::io_context io;
        DhtSettings s = fast();
        s.node_id = NodeId{};
        s.external_ip_votes = votes;
        UdpDhtNode node(io, udp::endpoint(lo, 0), s);
        node.start();
        Endpoint reported = endpoint_of(udp::endpoint(asio::ip::make_address("198.51.100.9"), 6881));
        // Two nodes, both at 127.0.0.1: one voter.
        for (int i = 0; i < 2; ++i) {
            Raw raw(io, udp::endpoint(lo, 0));
            node.node().add_node(raw.sock.local_endpoint());
            ASSERT_TRUE(raw.answer(io, node.local_endpoint(), random_node_id(), reported)) << votes;
        }
        io.restart();
        io.run_for(50ms);
        if (votes == 1) {
            EXPECT_TRUE(bep42_id_matches(node.node().id(), reported.ip_bytes()));
            EXPECT_EQ(node.node().stats().id_changes, 1u);
        } else {
            EXPECT_EQ(node.node().id(), NodeId{}) << "one address voted twice";
            EXPECT_EQ(node.node().stats().id_changes, 0u);
        }
        // Loopback repliers are exempt from enforcement: both joined the table.
        EXPECT_EQ(node.node().routing_table_size(), 2u) << votes;
        EXPECT_EQ(node.node().stats().nonconforming, 0u);
    }
}

namespace {
bool have_test_addresses(asio::io_context& io) {
    boost::system::error_code ec;
    udp::socket s(io);
    s.open(udp::v4(), ec);
    if (!ec) s.bind(udp::endpoint(asio::ip::make_address("198.51.100.2"), 0), ec);
    return !ec;
}
}  // namespace

TEST(Bep42Live, NonconformingIdsStayOutOfTheRoutingTable) {
    asio::io_context io;
    if (!have_test_addresses(io))
        GTEST_SKIP() << "198.51.100.1/.2 are not local (run tests/interop/bep42_netns_test.sh)";
    const auto a1 = asio::ip::make_address("198.51.100.1"), a2 = asio::ip::make_address("198.51.100.2");
    for (bool enforce : {true, false}) {
        DhtSettings s = fast();
        s.enforce_node_id = enforce;
        UdpDhtNode node(io, udp::endpoint(a1, 0), s);
        node.start();
        // A random id at 198.51.100.2 does not fit it.
        Raw liar(io, udp::endpoint(a2, 0));
        node.node().add_node(liar.sock.local_endpoint());
        ASSERT_TRUE(liar.answer(io, node.local_endpoint(), random_node_id()));
        io.restart();
        io.run_for(50ms);
        EXPECT_EQ(node.node().routing_table_size(), enforce ? 0u : 1u);
        EXPECT_EQ(node.node().stats().nonconforming, enforce ? 1u : 0u);
        // A derived id at the same address does.
        Raw honest(io, udp::endpoint(a2, 0));
        node.node().add_node(honest.sock.local_endpoint());
        ASSERT_TRUE(honest.answer(io, node.local_endpoint(), bep42_random_node_id(bytes_of(a2))));
        ASSERT_TRUE(run_until(io, 1s, [&] { return node.node().routing_table_size() == (enforce ? 1u : 2u); }));
        // The nonconforming node is still answered.
        Message q;
        q.type = MessageType::query;
        q.method = Method::ping;
        q.transaction = "pp";
        q.id = random_node_id();
        std::string wire = encode_message(q);
        liar.sock.send_to(asio::buffer(wire), node.local_endpoint());
        auto r = liar.next(io);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->type, MessageType::response);
        // It is not pinged back to join the table when enforcing.
        io.restart();
        io.run_for(100ms);
        EXPECT_EQ(liar.inbox.empty(), enforce);
        node.stop();
    }
}

TEST(Bep42Live, ADerivedIdIsAcceptedByEnforcingNodes) {
    asio::io_context io;
    if (!have_test_addresses(io))
        GTEST_SKIP() << "198.51.100.1/.2 are not local (run tests/interop/bep42_netns_test.sh)";
    const auto a1 = asio::ip::make_address("198.51.100.1"), a2 = asio::ip::make_address("198.51.100.2");
    // b learns its address from a's "ip" (one vote is enough here), takes a derived id,
    // and then a (enforcing) lets it into its table.
    DhtSettings sb = fast();
    sb.external_ip_votes = 1;
    sb.node_id = NodeId{};
    UdpDhtNode a(io, udp::endpoint(a1, 0), fast());
    UdpDhtNode b(io, udp::endpoint(a2, 0), sb);
    a.start();
    b.start();
    b.node().add_node(a.local_endpoint());
    ASSERT_TRUE(run_until(io, 3s, [&] { return b.node().stats().id_changes == 1; }));
    EXPECT_TRUE(bep42_id_matches(b.node().id(), bytes_of(a2)));
    a.node().add_node(b.local_endpoint());
    ASSERT_TRUE(run_until(io, 3s, [&] { return a.node().routing_table_size() == 1; }));
    EXPECT_EQ(a.node().routing_table_endpoints().front(), b.local_endpoint());
}
