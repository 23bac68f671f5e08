// DhtNode on 127.0.0.1 against real nodes and a hand-driven raw UDP socket: queries and
// replies, tokens, BEP 43 read-only mode, state file, and hostile input (garbage, huge
// datagrams, floods, unsolicited node lists). Every wait is bounded by run_for.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "dht/node_id.hpp"
#include "dht/parse/krpc.hpp"
#include "dht/udp_dht_node.hpp"

using namespace pw::dht;
using namespace std::chrono_literals;
using namespace std::string_literals;
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

bool run_until(asio::io_context& io, std::chrono::milliseconds limit,
               const std::function<bool()>& pred) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(10ms);
    }
    return pred();
}

// A UDP socket driven by hand; it keeps every datagram it receives.
struct Raw {
    udp::socket sock;
    std::deque<std::pair<udp::endpoint, std::string>> inbox;
    std::size_t received = 0;
    std::array<char, 65536> buf{};
    udp::endpoint from;

    explicit Raw(asio::io_context& io) : sock(io, udp::endpoint(lo, 0)) { read(); }
    void read() {
        sock.async_receive_from(asio::buffer(buf), from,
                                [this](boost::system::error_code ec, std::size_t n) {
                                    if (ec == asio::error::operation_aborted) return;
                                    if (!ec) {
                                        ++received;
                                        inbox.emplace_back(from, std::string(buf.data(), n));
                                    }
                                    read();
                                });
    }
    void send(const udp::endpoint& to, const std::string& data) {
        sock.send_to(asio::buffer(data), to);
    }
    // Sends many datagrams, letting the io_context run in between so that the receiver's
    // socket buffer does not overflow (UDP would drop the excess silently).
    void flood(asio::io_context& io, const udp::endpoint& to,
               const std::function<std::string(int)>& make, int count) {
        for (int i = 0; i < count; ++i) {
            send(to, make(i));
            if (i % 20 == 19) {
                io.restart();
                io.poll();
            }
        }
    }
    std::uint16_t port() const { return sock.local_endpoint().port(); }
    std::optional<Message> next(asio::io_context& io, std::chrono::milliseconds limit = 2s) {
        if (!run_until(io, limit, [&] { return !inbox.empty(); })) return std::nullopt;
        auto d = decode_message(inbox.front().second);
        inbox.pop_front();
        if (!d.ok) return std::nullopt;
        return d.message;
    }
};

std::string query(Method m, const std::string& t, const NodeId& id, const NodeId& target = {},
                  bool ro = false) {
    Message q;
    q.type = MessageType::query;
    q.method = m;
    q.transaction = t;
    q.id = id;
    q.target = target;
    q.read_only = ro;
    return encode_message(q);
}

Message announce_query(const std::string& t, const NodeId& id, const pw::Sha1Digest& ih,
                       std::uint16_t port, const std::string& token) {
    Message a;
    a.type = MessageType::query;
    a.method = Method::announce_peer;
    a.transaction = t;
    a.id = id;
    a.target = ih;
    a.port = port;
    a.token = token;
    return a;
}

}  // namespace

TEST(DhtNodeTest, AnswersEveryQueryAndChecksTokens) {
    asio::io_context io;
    UdpDhtNode node(io, udp::endpoint(lo, 0), fast());
    node.start();
    Raw raw(io);
    auto ep = node.local_endpoint();
    NodeId me = random_node_id();

    raw.send(ep, query(Method::ping, "p1", me));
    auto r = raw.next(io);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, MessageType::response);
    EXPECT_EQ(r->transaction, "p1");
    EXPECT_EQ(r->id, node.node().id());

    raw.send(ep, query(Method::find_node, "f1", me, random_node_id()));
    // The node pings us back to check us before adding us: answer it.
    std::optional<Message> reply, verify;
    for (int i = 0; i < 2; ++i) {
        auto m = raw.next(io);
        ASSERT_TRUE(m);
        (m->type == MessageType::query ? verify : reply) = m;
    }
    ASSERT_TRUE(reply && verify);
    EXPECT_EQ(verify->method, Method::ping);
    Message pong;
    pong.type = MessageType::response;
    pong.transaction = verify->transaction;
    pong.id = me;
    raw.send(ep, encode_message(pong));
    ASSERT_TRUE(run_until(io, 2s, [&] { return node.node().routing_table_size() == 1; }));

    pw::Sha1Digest ih = random_node_id();
    raw.send(ep, query(Method::get_peers, "g1", me, ih));
    auto g = raw.next(io);
    ASSERT_TRUE(g);
    EXPECT_TRUE(g->values.empty());
    ASSERT_EQ(g->nodes.size(), 1u);  // us
    EXPECT_EQ(g->nodes[0].id, me);
    ASSERT_FALSE(g->token.empty());

    Message ann = announce_query("a1", me, ih, 7000, "wrong!!!");
    raw.send(ep, encode_message(ann));
    auto bad = raw.next(io);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->type, MessageType::error);
    EXPECT_EQ(bad->error_code, protocol_error);

    ann.token = g->token;
    ann.transaction = "a2";
    raw.send(ep, encode_message(ann));
    auto ok = raw.next(io);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->type, MessageType::response);
    ann.implied_port = true;  // the source port is stored instead of 7000
    ann.transaction = "a3";
    raw.send(ep, encode_message(ann));
    ASSERT_TRUE(raw.next(io));

    raw.send(ep, query(Method::get_peers, "g2", me, ih));
    auto g2 = raw.next(io);
    ASSERT_TRUE(g2);
    std::set<std::uint16_t> ports;
    for (const auto& v : g2->values) ports.insert(v.port);
    EXPECT_EQ(ports, (std::set<std::uint16_t>{7000, raw.port()}));

    raw.send(ep, "d1:ad2:id20:" + std::string(me.view()) + "e1:q6:frobby1:t2:u11:y1:qe");
    auto unk = raw.next(io);
    ASSERT_TRUE(unk);
    EXPECT_EQ(unk->error_code, method_unknown);
    EXPECT_EQ(node.node().stats().peers_stored, 2u);
}

TEST(DhtNodeTest, LookupFindsPeersAnnouncedToThisNode) {
    // A node that is itself among the closest to an info-hash holds its announces: its
    // own lookups must report them (after the call returns, before `done`).
    asio::io_context io;
    UdpDhtNode node(io, udp::endpoint(lo, 0), fast());
    node.start();
    Raw raw(io);
    auto ep = node.local_endpoint();
    NodeId me = random_node_id();
    pw::Sha1Digest ih = random_node_id();
    raw.send(ep, query(Method::get_peers, "g1", me, ih));
    std::optional<Message> g;
    for (int i = 0; i < 3 && !(g && g->type == MessageType::response); ++i) g = raw.next(io);
    ASSERT_TRUE(g && g->type == MessageType::response);
    ASSERT_FALSE(g->token.empty());
    raw.send(ep, encode_message(announce_query("a1", me, ih, 7000, g->token)));
    ASSERT_TRUE(run_until(io, 2s, [&] { return node.node().stats().peers_stored == 1; }));

    std::vector<udp::endpoint> found;
    bool done = false, found_before_done = false;
    node.node().get_peers(
        ih, 0, [&](std::vector<udp::endpoint> v) { found.insert(found.end(), v.begin(), v.end()); },
        [&] {
            done = true;
            found_before_done = !found.empty();
        });
    EXPECT_TRUE(found.empty());  // never from inside the call
    ASSERT_TRUE(run_until(io, 5s, [&] { return done; }));
    EXPECT_TRUE(found_before_done);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], udp::endpoint(lo, 7000));
}

TEST(DhtNodeTest, GarbageAndHugeDatagramsAreDropped) {
    asio::io_context io;
    UdpDhtNode node(io, udp::endpoint(lo, 0), fast());
    node.start();
    Raw raw(io);
    auto ep = node.local_endpoint();
    const std::string junk[] = {
        "d",
        "de",
        "d1:y1:qe",
        "d1:t2:xx1:y1:re",
        "d1:t2:xx1:y1:ee",
        "d" + std::string(3000, 'l') + std::string(3000, 'e') + "e",
        "d1:rd2:id20:" + std::string(20, 'a') + "5:nodes27:" + std::string(27, 'n') +
            "e1:t2:xx1:y1:re",
        std::string(60000, 'd'),
        "d1:ad2:id20:" + std::string(20, 'a') + "e1:q4:ping1:t2:aa1:y1:q" + std::string(20000, 'x'),
    };
    raw.flood(
        io, ep, [&](int i) { return junk[static_cast<std::size_t>(i) % std::size(junk)]; },
        20 * static_cast<int>(std::size(junk)));
    run_until(io, 300ms, [] { return false; });
    // Nearly all arrive (loopback may still drop a few of the 60 KB ones); none is accepted.
    EXPECT_GE(node.node().stats().malformed, 20u * std::size(junk) * 9 / 10);
    EXPECT_EQ(node.node().routing_table_size(), 0u);
    // A malformed query with a transaction id gets a 203 error.
    raw.inbox.clear();
    raw.send(ep, "d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe");
    auto e = raw.next(io);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, MessageType::error);
    EXPECT_EQ(e->error_code, protocol_error);
    EXPECT_EQ(e->transaction, "zz");
    // Still alive.
    raw.send(ep, query(Method::ping, "ok", random_node_id()));
    auto p = raw.next(io);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->transaction, "ok");
}

TEST(DhtNodeTest, QueryFloodIsRateLimited) {
    asio::io_context io;
    DhtSettings s = fast();
    s.max_queries_per_second_per_ip = 20;
    UdpDhtNode node(io, udp::endpoint(lo, 0), s);
    node.start();
    Raw raw(io);
    NodeId me = random_node_id();
    raw.flood(
        io, node.local_endpoint(),
        [&](int i) {
            return query(Method::find_node, "q" + std::to_string(i % 100), me, me, true);
        },
        2000);
    run_until(io, 500ms, [] { return false; });
    // The burst of 20 plus what refilled during the flood and the wait (20/s).
    EXPECT_LE(raw.received, 40u);
    EXPECT_GE(raw.received, 20u);
    EXPECT_GE(node.node().stats().rate_limited, 1900u);
    // A read-only querier (ro=1) is never pinged back nor added.
    EXPECT_EQ(node.node().routing_table_size(), 0u);
    EXPECT_EQ(node.node().stats().queries_sent, 0u);
}

TEST(DhtNodeTest, UnsolicitedNodeListsAreNeverContacted) {
    asio::io_context io;
    Raw boot(io), trap(io), attacker(io);
    DhtSettings s = fast();
    s.bootstrap = {"127.0.0.1:" + std::to_string(boot.port())};
    UdpDhtNode node(io, udp::endpoint(lo, 0), s);
    node.start();
    auto ep = node.local_endpoint();
    // Unsolicited replies naming the trap: wrong transactions, and a right-looking
    // transaction from the wrong address.
    auto bootq = boot.next(io);
    ASSERT_TRUE(bootq);
    ASSERT_EQ(bootq->method, Method::find_node);
    Message fake;
    fake.type = MessageType::response;
    fake.id = random_node_id();
    for (int i = 0; i < 8; ++i)
        fake.nodes.push_back({random_node_id(), Endpoint{{127, 0, 0, 1}, trap.port()}});
    fake.values.push_back(Endpoint{{127, 0, 0, 1}, trap.port()});
    attacker.flood(
        io, ep,
        [&](int i) {
            fake.transaction = std::string{static_cast<char>(i >> 8), static_cast<char>(i)};
            return encode_message(fake);
        },
        300);
    fake.transaction = bootq->transaction;
    attacker.send(ep, encode_message(fake));  // the bootstrap query's id, wrong sender
    // Queries whose arguments carry node lists are not trusted either.
    attacker.send(
        ep, "d1:ad2:id20:" + std::string(random_node_id().view()) +
                "5:nodes26:" + std::string(random_node_id().view()) + "\x7f\x00\x00\x01" +
                std::string{static_cast<char>(trap.port() >> 8), static_cast<char>(trap.port())} +
                "e1:q4:ping1:t2:qq1:y1:qe");
    run_until(io, 1500ms, [] { return false; });
    EXPECT_EQ(trap.received, 0u);
    EXPECT_EQ(node.node().routing_table_size(), 0u);
    EXPECT_GE(node.node().stats().unsolicited, 250u);  // some random ids may match a retry
    // A lookup uses neither the fake nodes nor the fake values.
    bool done = false;
    std::size_t peers = 0;
    node.node().get_peers(
        random_node_id(), 0, [&](auto v) { peers += v.size(); }, [&] { done = true; });
    ASSERT_TRUE(run_until(io, 5s, [&] { return done; }));
    EXPECT_EQ(peers, 0u);
    EXPECT_EQ(trap.received, 0u);
}

TEST(DhtNodeTest, HugeReplyFromQueriedNodeIsDropped) {
    asio::io_context io;
    Raw boot(io);
    DhtSettings s = fast();
    s.bootstrap = {"127.0.0.1:" + std::to_string(boot.port())};
    UdpDhtNode node(io, udp::endpoint(lo, 0), s);
    node.start();
    auto q = boot.next(io);
    ASSERT_TRUE(q);
    // A reply with the right transaction but 60 KB of nodes and values.
    std::string nodes;
    for (int i = 0; i < 2000; ++i)
        nodes += std::string(random_node_id().view()) + "\x7f\x00\x00\x01\x00\x09"s;
    std::string wire = "d1:rd2:id20:" + std::string(random_node_id().view()) + "5:nodes" +
                       std::to_string(nodes.size()) + ":" + nodes + "e1:t" +
                       std::to_string(q->transaction.size()) + ":" + q->transaction + "1:y1:re";
    boot.send(node.local_endpoint(), wire);
    run_until(io, 300ms, [] { return false; });
    EXPECT_GE(node.node().stats().malformed, 1u);
    EXPECT_EQ(node.node().routing_table_size(), 0u);
}

TEST(DhtNodeTest, ReadOnlyNeverAnswersAndFlagsItsQueries) {
    asio::io_context io;
    Raw boot(io);
    DhtSettings s = fast();
    s.read_only = true;
    s.bootstrap = {"127.0.0.1:" + std::to_string(boot.port())};
    UdpDhtNode node(io, udp::endpoint(lo, 0), s);
    node.start();
    auto q = boot.next(io);
    ASSERT_TRUE(q);
    EXPECT_TRUE(q->read_only);
    boot.inbox.clear();
    boot.send(node.local_endpoint(), query(Method::ping, "p1", random_node_id()));
    run_until(io, 500ms, [] { return false; });
    for (const auto& [from, data] : boot.inbox) {
        auto d = decode_message(data);
        ASSERT_TRUE(d.ok);
        EXPECT_EQ(d.message.type, MessageType::query);  // only its own (bootstrap) queries
        EXPECT_TRUE(d.message.read_only);
    }
    EXPECT_EQ(node.node().queries_served(), 0u);
}

TEST(DhtNodeTest, NodesMeetAndStateFileRoundTrips) {
    auto dir =
        std::filesystem::temp_directory_path() / ("pw-dht-" + random_node_id().hex().substr(0, 8));
    std::filesystem::create_directories(dir);
    auto state = (dir / "dht.state").string();
    asio::io_context io;
    UdpDhtNode a(io, udp::endpoint(lo, 0), fast());
    a.start();
    DhtSettings sb = fast();
    sb.bootstrap = {"127.0.0.1:" + std::to_string(a.local_endpoint().port())};
    sb.state_file = state;
    pw::Sha1Digest b_id;
    {
        UdpDhtNode b(io, udp::endpoint(lo, 0), sb);
        b.start();
        b_id = b.node().id();
        ASSERT_TRUE(run_until(io, 3s, [&] {
            return b.node().routing_table_size() == 1 && a.node().routing_table_size() == 1;
        }));
        b.stop();  // saves
    }
    ASSERT_TRUE(std::filesystem::exists(state));
    // Restarted without bootstrap: same id, and it finds A again from the saved nodes.
    sb.bootstrap.clear();
    {
        UdpDhtNode b2(io, udp::endpoint(lo, 0), sb);
        EXPECT_EQ(b2.node().id(), b_id);
        b2.start();
        ASSERT_TRUE(run_until(io, 3s, [&] { return b2.node().routing_table_size() == 1; }));
        EXPECT_EQ(b2.node().routing_table_endpoints().at(0), a.local_endpoint());
    }  // its save at stop is written before the directory goes
    a.stop();
    std::filesystem::remove_all(dir);
}

TEST(DhtNodeTest, StateFileIsSavedPeriodicallyWhileRunning) {
    auto dir =
        std::filesystem::temp_directory_path() / ("pw-dht-" + random_node_id().hex().substr(0, 8));
    std::filesystem::create_directories(dir);
    auto state = (dir / "dht.state").string();
    asio::io_context io;
    DhtSettings s = fast();
    s.state_file = state;
    s.save_interval = 200ms;
    {
        UdpDhtNode node(io, udp::endpoint(lo, 0), s);
        node.start();
        // Written by the node's writer thread while the io_context keeps running.
        EXPECT_TRUE(run_until(io, 3s, [&] { return std::filesystem::exists(state); }));
    }  // the destructor waits for the save of stop()
    std::filesystem::remove_all(dir);
}
