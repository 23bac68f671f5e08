// DhtNode over IPv6 (BEP 32) on ::1 and dual-stack on 127.0.0.1 + ::1: nodes6 in
// replies, the "want" argument, 18-byte peers in get_peers values, IPv6 announces, a
// lookup over the IPv6 DHT, and nodes6 in the state file. Every wait is bounded.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "bencode/bencode.hpp"
#include "dht/dht_node.hpp"
#include "dht/node_id.hpp"
#include "dht/parse/krpc.hpp"
#include "dht/udp_dht_node.hpp"

using namespace pw::dht;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

const auto lo4 = asio::ip::make_address("127.0.0.1");
const auto lo6 = asio::ip::make_address("::1");

DhtSettings fast() {
    DhtSettings s;
    s.query_timeout = 300ms;
    s.lookup_timeout = 3s;
    s.maintenance_interval = 100ms;
    s.bootstrap_retry = 200ms;
    return s;
}

bool run_until(asio::io_context& io, std::chrono::milliseconds limit,
               const std::function<bool()>& pred) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(10ms);
    }
    return pred();
}

// A hand-driven UDP client that answers the node's verification pings, so that it
// joins the node's table.
struct Client {
    udp::socket sock;
    NodeId id = random_node_id();
    std::deque<Message> replies;  // responses and errors
    std::size_t last_reply_size = 0;
    std::array<char, 65536> buf{};
    udp::endpoint from;

    Client(asio::io_context& io, const asio::ip::address& at) : sock(io, udp::endpoint(at, 0)) {
        read();
    }
    void read() {
        sock.async_receive_from(asio::buffer(buf), from,
                                [this](boost::system::error_code ec, std::size_t n) {
                                    if (ec == asio::error::operation_aborted) return;
                                    if (!ec) handle(std::string(buf.data(), n));
                                    read();
                                });
    }
    void handle(const std::string& data) {
        DecodeResult d = decode_message(data);
        if (!d.ok) return;
        if (d.message.type != MessageType::query) {
            replies.push_back(d.message);
            last_reply_size = data.size();
            return;
        }
        Message pong;
        pong.type = MessageType::response;
        pong.transaction = d.message.transaction;
        pong.id = id;
        sock.send_to(asio::buffer(encode_message(pong)), from);
    }
    std::optional<Message> ask(asio::io_context& io, const udp::endpoint& to, Message q) {
        q.type = MessageType::query;
        q.id = id;
        replies.clear();
        sock.send_to(asio::buffer(encode_message(q)), to);
        if (!run_until(io, 2s, [&] { return !replies.empty(); })) return std::nullopt;
        return replies.front();
    }
    Endpoint endpoint() const { return to_endpoint_for_test(sock.local_endpoint()); }
    static Endpoint to_endpoint_for_test(const udp::endpoint& ep) {
        Endpoint e;
        e.port = ep.port();
        if (ep.address().is_v6()) {
            e.v6 = true;
            e.ip = ep.address().to_v6().to_bytes();
        } else {
            auto b = ep.address().to_v4().to_bytes();
            std::copy(b.begin(), b.end(), e.ip.begin());
        }
        return e;
    }
};

Message find_node(const NodeId& target, std::uint8_t want = 0) {
    Message q;
    q.method = Method::find_node;
    q.transaction = "fn";
    q.target = target;
    q.want = want;
    return q;
}

// A DhtNode on two sockets of its own (IPv4 and IPv6), fed by two read loops: the way
// the session runs it with two listeners.
struct DualNode {
    udp::socket s4, s6;
    std::unique_ptr<DhtNode> node;
    std::array<char, 16 * 1024> b4{}, b6{};
    udp::endpoint f4, f6;

    DualNode(asio::io_context& io, DhtSettings s)
        : s4(io, udp::endpoint(lo4, 0)), s6(io, udp::v6()) {
        s6.set_option(asio::ip::v6_only(true));
        s6.bind(udp::endpoint(lo6, 0));
        node = std::make_unique<DhtNode>(io, &s4, &s6, std::move(s));
        node->start();
        read(s4, b4, f4);
        read(s6, b6, f6);
    }
    ~DualNode() {
        node->stop();
        s4.close();
        s6.close();
    }
    template <class Buf>
    void read(udp::socket& s, Buf& b, udp::endpoint& f) {
        s.async_receive_from(asio::buffer(b), f,
                             [this, &s, &b, &f](boost::system::error_code ec, std::size_t n) {
                                 if (ec == asio::error::operation_aborted) return;
                                 if (!ec && n > 0 && b[0] == 'd')
                                     node->on_packet(f, std::string_view(b.data(), n));
                                 read(s, b, f);
                             });
    }
};

}  // namespace

TEST(Dht6Test, AnswersOverIpv6WithNodes6AndIpv6Values) {
    asio::io_context io;
    UdpDhtNode node(io, udp::endpoint(lo6, 0), fast());
    node.start();
    EXPECT_TRUE(node.node().serves(true));
    EXPECT_FALSE(node.node().serves(false));
    Client c(io, lo6);
    auto ep = node.local_endpoint();

    // The first query makes the node ping us back; we answer, so we join its table.
    ASSERT_TRUE(c.ask(io, ep, find_node(random_node_id())));
    ASSERT_TRUE(run_until(io, 2s, [&] { return node.node().routing_table_size(true) == 1; }));

    // No "want": the family of the query, so nodes6 only.
    auto r = c.ask(io, ep, find_node(random_node_id()));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->nodes.empty());
    ASSERT_EQ(r->nodes6.size(), 1u);
    EXPECT_EQ(r->nodes6[0].id, c.id);
    EXPECT_EQ(r->nodes6[0].endpoint, c.endpoint());
    // want n4 from an IPv6-only node: it has no IPv4 table, so no nodes at all.
    auto r4 = c.ask(io, ep, find_node(random_node_id(), want_n4));
    ASSERT_TRUE(r4);
    EXPECT_TRUE(r4->nodes.empty());
    EXPECT_TRUE(r4->nodes6.empty());

    // get_peers, announce_peer from an IPv6 sender, and the 18-byte value back.
    pw::Sha1Digest ih = random_node_id();
    Message g;
    g.method = Method::get_peers;
    g.transaction = "g1";
    g.target = ih;
    auto gr = c.ask(io, ep, g);
    ASSERT_TRUE(gr);
    ASSERT_FALSE(gr->token.empty());
    EXPECT_TRUE(gr->values.empty());
    Message a;
    a.method = Method::announce_peer;
    a.transaction = "a1";
    a.target = ih;
    a.port = 7001;
    a.token = gr->token;
    auto ar = c.ask(io, ep, a);
    ASSERT_TRUE(ar);
    EXPECT_EQ(ar->type, MessageType::response);
    auto gr2 = c.ask(io, ep, g);
    ASSERT_TRUE(gr2);
    ASSERT_EQ(gr2->values.size(), 1u);
    EXPECT_TRUE(gr2->values[0].v6);
    EXPECT_EQ(gr2->values[0].to_string(), "[::1]:7001");
    EXPECT_EQ(node.node().stats().peers_stored, 1u);
}

TEST(Dht6Test, DualStackHonoursWant) {
    asio::io_context io;
    DualNode n(io, fast());
    EXPECT_TRUE(n.node->serves(false));
    EXPECT_TRUE(n.node->serves(true));
    Client c4(io, lo4), c6(io, lo6);
    auto ep4 = n.s4.local_endpoint(), ep6 = n.s6.local_endpoint();
    ASSERT_TRUE(c4.ask(io, ep4, find_node(random_node_id())));
    ASSERT_TRUE(c6.ask(io, ep6, find_node(random_node_id())));
    ASSERT_TRUE(run_until(io, 2s, [&] {
        return n.node->routing_table_size(false) == 1 && n.node->routing_table_size(true) == 1;
    }));
    EXPECT_EQ(n.node->routing_table_size(), 2u);

    // Over IPv4: nodes by default, nodes6 with want n6, both with both.
    auto plain = c4.ask(io, ep4, find_node(random_node_id()));
    ASSERT_TRUE(plain);
    ASSERT_EQ(plain->nodes.size(), 1u);
    EXPECT_EQ(plain->nodes[0].endpoint, c4.endpoint());
    EXPECT_TRUE(plain->nodes6.empty());
    auto both = c4.ask(io, ep4, find_node(random_node_id(), want_n4 | want_n6));
    ASSERT_TRUE(both);
    ASSERT_EQ(both->nodes.size(), 1u);
    ASSERT_EQ(both->nodes6.size(), 1u);
    EXPECT_EQ(both->nodes6[0].endpoint, c6.endpoint());
    EXPECT_EQ(both->nodes6[0].id, c6.id);
    // Over IPv6 asking for IPv4 nodes only.
    auto only4 = c6.ask(io, ep6, find_node(random_node_id(), want_n4));
    ASSERT_TRUE(only4);
    ASSERT_EQ(only4->nodes.size(), 1u);
    EXPECT_EQ(only4->nodes[0].id, c4.id);
    EXPECT_TRUE(only4->nodes6.empty());

    // The two DHTs are separate: an announce over IPv6 is not served over IPv4.
    pw::Sha1Digest ih = random_node_id();
    Message g;
    g.method = Method::get_peers;
    g.transaction = "g6";
    g.target = ih;
    auto gr = c6.ask(io, ep6, g);
    ASSERT_TRUE(gr);
    Message a;
    a.method = Method::announce_peer;
    a.transaction = "a6";
    a.target = ih;
    a.port = 7006;
    a.token = gr->token;
    ASSERT_TRUE(c6.ask(io, ep6, a));
    auto v6 = c6.ask(io, ep6, g);
    ASSERT_TRUE(v6);
    ASSERT_EQ(v6->values.size(), 1u);
    EXPECT_TRUE(v6->values[0].v6);
    g.transaction = "g4";
    auto v4 = c4.ask(io, ep4, g);
    ASSERT_TRUE(v4);
    EXPECT_TRUE(v4->values.empty());

    // The state (file) holds both tables: "nodes" and "nodes6".
    std::string state = n.node->save_state();
    auto doc = pw::bencode::decode(state);
    auto nodes = doc.root().find_string("nodes");
    auto nodes6 = doc.root().find_string("nodes6");
    ASSERT_TRUE(nodes && nodes6);
    EXPECT_EQ(nodes->size(), compact_node_size);
    EXPECT_EQ(nodes6->size(), compact_node6_size);
}

// BEP 32 "Bootstrapping": a dual-stack node whose IPv4 table is empty asks its IPv6
// contacts for IPv4 nodes too (want n4 n6), and pings those it hears of; the ones that
// answer fill its IPv4 table although it was given no IPv4 address at all.
TEST(Dht6Test, DualStackLearnsTheOtherFamilyWhileSmall) {
    asio::io_context io;
    DualNode b(io, fast());
    Client c4(io, lo4);
    ASSERT_TRUE(c4.ask(io, b.s4.local_endpoint(), find_node(random_node_id())));
    ASSERT_TRUE(run_until(io, 2s, [&] { return b.node->routing_table_size(false) == 1; }));

    DhtSettings sa = fast();
    sa.bootstrap = {"[::1]:" + std::to_string(b.s6.local_endpoint().port())};
    DualNode a(io, sa);
    ASSERT_TRUE(run_until(io, 3s, [&] {
        return a.node->routing_table_size(true) >= 1 && a.node->routing_table_size(false) >= 1;
    }));
    std::set<udp::endpoint> known;
    for (const auto& ep : a.node->routing_table_endpoints()) known.insert(ep);
    EXPECT_TRUE(known.count(c4.sock.local_endpoint()));
    EXPECT_TRUE(known.count(b.s6.local_endpoint()));
}

// BEP 32: no datagram over 1024 bytes, even with full "nodes" and "nodes6" and many
// stored peers.
TEST(Dht6Test, FullRepliesFitIn1024Bytes) {
    asio::io_context io;
    DhtSettings s = fast();
    s.max_queries_per_second_per_ip = 100000;
    DualNode n(io, s);
    auto ep4 = n.s4.local_endpoint(), ep6 = n.s6.local_endpoint();
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(std::make_unique<Client>(io, lo4));
        ASSERT_TRUE(clients.back()->ask(io, ep4, find_node(random_node_id())));
        clients.push_back(std::make_unique<Client>(io, lo6));
        ASSERT_TRUE(clients.back()->ask(io, ep6, find_node(random_node_id())));
    }
    ASSERT_TRUE(run_until(io, 3s, [&] {
        return n.node->routing_table_size(false) >= 8 && n.node->routing_table_size(true) >= 8;
    }));
    pw::Sha1Digest ih = random_node_id();
    for (int fam = 0; fam < 2; ++fam) {
        Client& c = *clients[static_cast<std::size_t>(fam)];
        auto to = fam ? ep6 : ep4;
        Message g;
        g.method = Method::get_peers;
        g.transaction = "gt";
        g.target = ih;
        auto gr = c.ask(io, to, g);
        ASSERT_TRUE(gr);
        for (int port = 1; port <= 60; ++port) {
            Message a;
            a.method = Method::announce_peer;
            a.transaction = "an";
            a.target = ih;
            a.port = static_cast<std::uint16_t>(port);
            a.token = gr->token;
            auto ar = c.ask(io, to, a);
            ASSERT_TRUE(ar && ar->type == MessageType::response);
        }
    }
    EXPECT_EQ(n.node->stats().peers_stored, 120u);
    for (int fam = 0; fam < 2; ++fam)
        for (std::uint8_t want : {std::uint8_t(0), std::uint8_t(want_n4 | want_n6)}) {
            Client& c = *clients[static_cast<std::size_t>(fam)];
            Message g;
            g.method = Method::get_peers;
            g.transaction = "gw";
            g.target = ih;
            g.want = want;
            auto gr = c.ask(io, fam ? ep6 : ep4, g);
            ASSERT_TRUE(gr);
            EXPECT_LE(c.last_reply_size, 1024u) << "family " << fam << " want " << int(want);
            EXPECT_FALSE(gr->values.empty());
            for (const Endpoint& v : gr->values) EXPECT_EQ(v.v6, fam == 1);
            EXPECT_EQ(gr->nodes.size(), fam == 0 || want ? 8u : 0u);
            EXPECT_EQ(gr->nodes6.size(), fam == 1 || want ? 8u : 0u);
        }
}

TEST(Dht6Test, LookupOverIpv6FindsAnnouncedPeer) {
    asio::io_context io;
    UdpDhtNode boot(io, udp::endpoint(lo6, 0), fast());
    boot.start();
    std::string boot_addr = "[::1]:" + std::to_string(boot.local_endpoint().port());
    std::vector<std::unique_ptr<UdpDhtNode>> nodes;
    for (int i = 0; i < 6; ++i) {
        DhtSettings s = fast();
        s.bootstrap = {boot_addr, "127.0.0.1:1"};  // the IPv4 literal is not for this DHT
        nodes.push_back(std::make_unique<UdpDhtNode>(io, udp::endpoint(lo6, 0), s));
        nodes.back()->start();
    }
    ASSERT_TRUE(run_until(io, 5s, [&] {
        for (auto& n : nodes)
            if (n->node().routing_table_size() < 3) return false;
        return true;
    }));

    pw::Sha1Digest ih = random_node_id();
    bool announced = false;
    LookupStats ann_stats;
    nodes[0]->node().get_peers_with_stats(
        ih, 7777, [](std::vector<udp::endpoint>) {},
        [&](const LookupStats& st) {
            ann_stats = st;
            announced = true;
        });
    ASSERT_TRUE(run_until(io, 8s, [&] { return announced; }));
    EXPECT_GT(ann_stats.announced, 0u);

    std::set<udp::endpoint> found;
    bool done = false;
    nodes[5]->node().get_peers(
        ih, 0, [&](std::vector<udp::endpoint> peers) { found.insert(peers.begin(), peers.end()); },
        [&] { done = true; });
    ASSERT_TRUE(run_until(io, 8s, [&] { return done; }));
    EXPECT_TRUE(found.count(udp::endpoint(lo6, 7777))) << found.size() << " peers found";
    for (const auto& ep : found) EXPECT_TRUE(ep.address().is_v6());
}
