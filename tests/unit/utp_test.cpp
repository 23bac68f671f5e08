// uTP (BEP 29): the packet codec and the connection state machine, the latter between
// two connections over a simulated link (delay, loss, reordering, duplication) with a
// simulated clock.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>

#include "utp/connection.hpp"
#include "utp/packet.hpp"

using namespace pw::utp;

namespace {

std::string encoded(const Header& h, std::string_view sack = {}, std::string_view payload = {}) {
    std::string s;
    encode(s, h, sack, payload);
    return s;
}

}  // namespace

TEST(UtpPacket, RoundTrip) {
    Header h;
    h.type = Type::data;
    h.conn_id = 0xbeef;
    h.timestamp_us = 0x01020304;
    h.timestamp_diff_us = 0xa0b0c0d0;
    h.wnd_size = 1 << 20;
    h.seq_nr = 65535;
    h.ack_nr = 7;
    std::string sack("\x05\x00\x00\x80", 4);
    auto d = encoded(h, sack, "hello");
    ASSERT_EQ(d.size(), header_size + 2 + 4 + 5);
    EXPECT_EQ(static_cast<unsigned char>(d[0]), 0x01);
    auto p = decode(d);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->h.type, Type::data);
    EXPECT_EQ(p->h.conn_id, 0xbeef);
    EXPECT_EQ(p->h.timestamp_us, 0x01020304u);
    EXPECT_EQ(p->h.timestamp_diff_us, 0xa0b0c0d0u);
    EXPECT_EQ(p->h.wnd_size, 1u << 20);
    EXPECT_EQ(p->h.seq_nr, 65535);
    EXPECT_EQ(p->h.ack_nr, 7);
    EXPECT_EQ(p->sack, sack);
    EXPECT_EQ(p->payload, "hello");
}

TEST(UtpPacket, TypesAndVersion) {
    Header h;
    h.type = Type::syn;
    auto d = encoded(h);
    EXPECT_EQ(static_cast<unsigned char>(d[0]), 0x41);
    EXPECT_TRUE(looks_like_utp(d));
    d[0] = 0x51;  // type 5 does not exist
    EXPECT_FALSE(decode(d));
    d[0] = 0x42;  // version 2
    EXPECT_FALSE(decode(d));
    EXPECT_FALSE(looks_like_utp("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe"));
    EXPECT_FALSE(decode(std::string(19, '\x01')));
}

TEST(UtpPacket, ExtensionBounds) {
    Header h;
    auto d = encoded(h);
    // Unknown extension 7 of 3 bytes, then SACK of 4: skipped, then read.
    std::string e = d;
    e[1] = 7;
    e += std::string("\x01\x03xyz\x00\x04\x01\x00\x00\x00", 11);
    e += "pl";
    auto p = decode(e);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->sack.size(), 4u);
    EXPECT_EQ(p->payload, "pl");
    // Extension longer than the datagram.
    std::string t = d;
    t[1] = 1;
    t += std::string("\x00\x08\x01\x02", 4);
    EXPECT_FALSE(decode(t));
    // Truncated extension header.
    std::string u = d;
    u[1] = 1;
    u += std::string("\x00", 1);
    EXPECT_FALSE(decode(u));
    // A bitmask over the bound, and one of length 0.
    std::string v = d;
    v[1] = 1;
    v += std::string("\x00\x81", 2) + std::string(0x81, '\xff');
    EXPECT_FALSE(decode(v));
    std::string w = d;
    w[1] = 1;
    w += std::string("\x00\x00", 2);
    EXPECT_FALSE(decode(w));
}

TEST(UtpPacket, MaxDatagramExtension) {
    Header h;
    h.type = Type::syn;
    std::string d;
    encode(d, h, {}, "pl", 9000);
    // libutp (Transmission 3.00) drops a packet whose first extension type is 3 or more:
    // the chain starts with BEP 29's extension bits (8 zero bytes).
    EXPECT_EQ(d[1], static_cast<char>(ext_bits));
    EXPECT_EQ(d.substr(20, 10), std::string("\x50\x08", 2) + std::string(8, '\0'));
    auto p = decode(d);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->max_datagram, 9000);
    EXPECT_TRUE(p->sack.empty());
    EXPECT_EQ(p->payload, "pl");
    // After a selective ACK.
    std::string sack("\x01\x00\x00\x00", 4);
    std::string e;
    encode(e, h, sack, "xy", 65535);
    p = decode(e);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->max_datagram, 65535);
    EXPECT_EQ(p->sack, sack);
    EXPECT_EQ(p->payload, "xy");
    // Absent: 0. Of another length than 2: skipped, not read.
    EXPECT_EQ(decode(encoded(h))->max_datagram, 0);
    std::string f = encoded(h);
    f[1] = static_cast<char>(ext_max_datagram);
    f += std::string("\x00\x03\x10\x00\x00", 5) + "pl";
    p = decode(f);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->max_datagram, 0);
    EXPECT_EQ(p->payload, "pl");
}

TEST(UtpPacket, SeqWrap) {
    EXPECT_TRUE(seq_less(65535, 0));
    EXPECT_TRUE(seq_less(65000, 100));
    EXPECT_FALSE(seq_less(100, 65000));
    EXPECT_FALSE(seq_less(5, 5));
}

namespace {

// Two connections over a simulated link. Each direction delays datagrams by `delay`
// plus jitter (which reorders), drops `loss` of them and duplicates `dup` of them.
struct Link {
    Micros now = 1'000'000;
    Micros delay = 1000, jitter = 0;
    double loss = 0, dup = 0;
    std::mt19937_64 rng{42};
    std::multimap<Micros, std::pair<int, std::string>> wire;  // arrival -> (to side, bytes)
    std::optional<Connection> side[2];
    std::string got[2];
    std::uint64_t datagrams = 0;
    // Path MTU: a datagram over it is lost unless fragment_ok (0: no limit).
    std::size_t path_mtu = 0;
    std::size_t largest[2] = {0, 0};  // the largest datagram each side sent
    // A queue that another flow keeps full: a datagram larger than this is lost whether
    // fragmentable or not (0: no such queue).
    std::size_t queue_room = 0;
    // Data packets side 0 sent larger than both Config::max_payload and half its
    // window at the time (resends of large packets, fragmentable, aside).
    std::size_t oversize = 0;
    Config accept_cfg;                // of the side that accepts

    void collect(int from) {
        auto& out = side[from]->outbox();
        for (auto& d : out) {
            ++datagrams;
            largest[from] = std::max(largest[from], d.bytes.size());
            if (from == 0 && !d.fragment_ok) {
                auto p = decode(d.bytes);
                if (p && p->h.type == Type::data &&
                    p->payload.size() > std::max(Config{}.max_payload, side[0]->cwnd() / 2))
                    ++oversize;
            }
            if (path_mtu && d.bytes.size() > path_mtu && !d.fragment_ok) continue;
            if (queue_room && d.bytes.size() > queue_room) continue;
            std::uniform_real_distribution<double> u(0, 1);
            if (u(rng) < loss) continue;
            Micros j = jitter ? rng() % jitter : 0;
            wire.emplace(now + delay + j, std::make_pair(1 - from, d.bytes));
            if (u(rng) < dup) wire.emplace(now + delay + j + 100, std::make_pair(1 - from, d.bytes));
        }
        out.clear();
    }
    void drain(int k) {
        char buf[65536];
        while (side[k]->readable()) got[k].append(buf, side[k]->read(buf, sizeof buf, now));
    }
    // Runs until `done` or `limit` of simulated time.
    template <class F>
    bool run(F done, Micros limit) {
        Micros end = now + limit;
        while (now < end) {
            for (int k = 0; k < 2; ++k)
                if (side[k]) collect(k);
            if (done()) return true;
            for (int k = 0; k < 2; ++k)
                if (side[k]) collect(k);
            Micros next = end;
            if (!wire.empty()) next = std::min(next, wire.begin()->first);
            for (int k = 0; k < 2; ++k)
                if (side[k]) next = std::min(next, side[k]->next_tick());
            now = std::max(now, next);
            while (!wire.empty() && wire.begin()->first <= now) {
                auto [to, bytes] = wire.begin()->second;
                wire.erase(wire.begin());
                auto p = decode(bytes);
                if (!p) continue;
                if (!side[to]) {
                    if (p->h.type == Type::syn) side[to] = Connection::accept(*p, 30000, now, accept_cfg);
                    continue;
                }
                side[to]->on_packet(*p, now);
            }
            for (int k = 0; k < 2; ++k)
                if (side[k]) {
                    side[k]->flush(now);
                    side[k]->tick(now);
                    drain(k);
                }
        }
        return done();
    }
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131) ^ (i >> 9));
    return s;
}

// Writes `data` from side 0 as far as the connection takes it; called again as it drains.
struct Pump {
    Link& l;
    const std::string& data;
    std::size_t off = 0;
    void operator()() {
        while (off < data.size() && l.side[0]->state() == State::connected) {
            std::size_t n = l.side[0]->write(std::string_view(data).substr(off, 100'000), l.now);
            if (n == 0) break;
            off += n;
        }
    }
};

// Path MTU probing towards a peer that takes 64 KiB datagrams, on both sides.
Config probing(Link& l) {
    Config c;
    c.max_probe_payload = payload_for_datagram(65507);
    l.accept_cfg = c;
    return c;
}

// Writes `data` from side 0 (with the writes interleaved with the link) and checks side 1
// receives it all; then both close.
void transfer(Link& l, const std::string& data, Micros limit, Config c = {}) {
    l.side[0] = Connection::connect(1000, 65500, l.now, c);  // sequence numbers wrap
    const Micros start = l.now;
    Pump pump{l, data};
    ASSERT_TRUE(l.run(
        [&] {
            pump();
            return l.got[1].size() == data.size();
        },
        limit))
        << "received " << l.got[1].size() << " of " << data.size();
    EXPECT_TRUE(l.got[1] == data);
    std::printf(
        "transfer: %zu bytes in %.3f s simulated, %llu datagrams, %llu retransmits, cwnd %zu\n",
        data.size(), static_cast<double>(l.now - start) / 1e6,
        static_cast<unsigned long long>(l.datagrams),
        static_cast<unsigned long long>(l.side[0]->retransmits()), l.side[0]->cwnd());
    l.side[0]->shutdown(l.now);
    l.side[1]->shutdown(l.now);
    EXPECT_TRUE(l.run([&] { return l.side[0]->done() && l.side[1]->done(); }, 60'000'000));
    EXPECT_EQ(l.side[0]->state(), State::closed);
    EXPECT_EQ(l.side[1]->state(), State::closed);
    EXPECT_TRUE(l.side[1]->eof());
}

}  // namespace

TEST(UtpConnection, HandshakeAndIds) {
    Link l;
    l.side[0] = Connection::connect(1000, 1, l.now);
    ASSERT_TRUE(
        l.run([&] { return l.side[1] && l.side[0]->state() == State::connected; }, 10'000'000));
    EXPECT_EQ(l.side[0]->recv_id(), 1000);
    EXPECT_EQ(l.side[1]->recv_id(), 1001);
    // The acceptor is connected once the initiator's first packet arrives.
    l.side[0]->write("hi", l.now);
    ASSERT_TRUE(l.run([&] { return l.got[1] == "hi"; }, 10'000'000));
    EXPECT_EQ(l.side[1]->state(), State::connected);
    l.side[1]->write("yo", l.now);
    ASSERT_TRUE(l.run([&] { return l.got[0] == "yo"; }, 10'000'000));
}

TEST(UtpConnection, CleanLinkBulk) {
    Link l;
    transfer(l, pattern(8 << 20), 60'000'000);
    EXPECT_EQ(l.side[0]->retransmits(), 0u);
}

TEST(UtpConnection, LossyReorderingLink) {
    Link l;
    l.delay = 50'000;
    l.jitter = 5'000;
    l.loss = 0.01;
    l.dup = 0.01;
    transfer(l, pattern(2 << 20), 600'000'000);
    EXPECT_GT(l.side[0]->retransmits(), 0u);
}

TEST(UtpConnection, HeavyLoss) {
    Link l;
    l.delay = 10'000;
    l.jitter = 20'000;
    l.loss = 0.15;
    transfer(l, pattern(300'000), 1200'000'000);
}

// Path MTU discovery: both sides may send up to 64 KiB, the path carries 9000 bytes.
TEST(UtpConnection, PathMtuProbing) {
    Link l;
    l.path_mtu = 9000;
    transfer(l, pattern(8 << 20), 60'000'000, probing(l));
    // The search ends within 1/64 of the path's size, at a size the path carries.
    EXPECT_GT(l.side[0]->packet_payload(), 8800u);
    EXPECT_LE(l.side[0]->packet_payload() + header_size, 9000u);
    EXPECT_LT(l.side[0]->retransmits(), 20u);  // the lost probes
}

// A peer that does not announce larger datagrams (as other implementations) gets the
// default size; one that announces a bound gets packets within it.
TEST(UtpConnection, ProbesOnlyWhatThePeerTakes) {
    Config c;
    c.max_probe_payload = payload_for_datagram(65507);
    {
        Link l;
        l.accept_cfg.recv_datagram = 0;
        transfer(l, pattern(2 << 20), 60'000'000, c);
        EXPECT_LE(l.largest[0], 1400u);
        EXPECT_EQ(l.side[0]->packet_payload(), Config{}.max_payload);
    }
    {
        Link l;
        l.accept_cfg.recv_datagram = 4000;
        transfer(l, pattern(2 << 20), 60'000'000, c);
        EXPECT_LE(l.largest[0], 4000u);
        EXPECT_GT(l.side[0]->packet_payload(), 3800u);
    }
}

// The path shrinks mid-transfer: the large packets in flight are lost, resent
// fragmentable, and the packet size falls back and settles within the new path.
TEST(UtpConnection, PathMtuShrinks) {
    Link l;
    l.path_mtu = 9000;
    const std::string data = pattern(6 << 20);
    l.side[0] = Connection::connect(1000, 1, l.now, probing(l));
    Pump pump{l, data};
    ASSERT_TRUE(l.run([&] { pump(); return l.got[1].size() >= (2u << 20); }, 60'000'000));
    EXPECT_GT(l.side[0]->packet_payload(), 4000u);
    l.path_mtu = 1400;
    ASSERT_TRUE(l.run([&] { pump(); return l.got[1].size() == data.size(); }, 600'000'000))
        << "received " << l.got[1].size();
    EXPECT_TRUE(l.got[1] == data);
    EXPECT_LE(l.side[0]->packet_payload() + header_size, 1400u);
}

// Large packets beside another flow: on a path that carries 64 KiB datagrams another
// flow builds a standing queue (150 ms more delay), then keeps it full, so that only
// datagrams of at most 16 KiB find room. A large packet lost there would be resent
// whole and never fit; the sender sees the queuing delay first and sends packets of at
// most 8 KiB from then on, so the transfer goes on.
TEST(UtpConnection, LargePacketsYieldToAStandingQueue) {
    Link l;
    const std::string data = pattern(64 << 20);
    l.side[0] = Connection::connect(1000, 1, l.now, probing(l));
    Pump pump{l, data};
    ASSERT_TRUE(l.run(
        [&] {
            pump();
            return l.got[1].size() >= (8u << 20);
        },
        60'000'000));
    EXPECT_GT(l.side[0]->packet_payload(), 60'000u);
    EXPECT_GT(l.largest[0], 60'000u);
    l.delay += 150'000;
    const Micros queue_start = l.now;
    l.run(
        [&] {
            pump();
            return l.now >= queue_start + 3'000'000;
        },
        10'000'000);
    l.queue_room = 16384;
    l.largest[0] = 0;
    const std::size_t before = l.got[1].size();
    const Micros full_at = l.now;
    ASSERT_TRUE(l.run(
        [&] {
            pump();
            return l.got[1].size() >= before + (8u << 20);
        },
        120'000'000))
        << "stalled: " << l.got[1].size() - before << " bytes in 120 s, "
        << l.side[0]->retransmits() << " retransmits, state "
        << static_cast<int>(l.side[0]->state());
    std::printf("after the queue filled: %zu bytes in %.3f s simulated, cwnd %zu\n",
                l.got[1].size() - before, static_cast<double>(l.now - full_at) / 1e6,
                l.side[0]->cwnd());
    EXPECT_LE(l.largest[0], header_size + 36 + 8192);
    EXPECT_EQ(l.oversize, 0u);
    EXPECT_TRUE(std::string_view(l.got[1]) == std::string_view(data).substr(0, l.got[1].size()));
}

// A fast path with a standing queue (60 ms; it may be our own: a receiver short of CPU):
// behind it packets are 8 KiB, a small share of the large window, not the default size
// (which would cost that receiver more CPU still); once the queue is gone they grow to
// the path's size again.
TEST(UtpConnection, LargePacketsShrinkBehindAQueue) {
    Link l;
    const std::string data = pattern(96 << 20);
    l.side[0] = Connection::connect(1000, 1, l.now, probing(l));
    Pump pump{l, data};
    auto move = [&](std::size_t bytes) {
        const std::size_t from = l.got[1].size();
        return l.run(
            [&] {
                pump();
                return l.got[1].size() >= from + bytes;
            },
            60'000'000);
    };
    ASSERT_TRUE(move(8u << 20));
    EXPECT_GT(l.side[0]->packet_payload(), 60'000u);
    l.delay = 61'000;
    ASSERT_TRUE(move(4u << 20));  // the sender sees the queue
    l.largest[0] = 0;
    ASSERT_TRUE(move(16u << 20));
    EXPECT_EQ(l.largest[0], header_size + 8192);
    EXPECT_GT(l.side[0]->packet_payload(), 60'000u);  // the path's size, still known
    l.delay = 1000;
    ASSERT_TRUE(move(4u << 20));
    l.largest[0] = 0;
    ASSERT_TRUE(move(16u << 20));
    EXPECT_GT(l.largest[0], 60'000u);
}

TEST(UtpConnection, LostSynIsRetried) {
    Link l;
    l.side[0] = Connection::connect(7, 1, l.now);
    l.side[0]->outbox().clear();  // the first SYN is lost
    ASSERT_TRUE(l.run([&] { return l.side[0]->state() == State::connected; }, 10'000'000));
    EXPECT_GE(l.now, 2'000'000u);  // after the initial 1 s timeout
}

TEST(UtpConnection, UnansweredSynFails) {
    Link l;
    l.loss = 1.0;
    l.side[0] = Connection::connect(7, 1, l.now);
    ASSERT_TRUE(l.run([&] { return l.side[0]->done(); }, 600'000'000));
    EXPECT_EQ(l.side[0]->state(), State::failed);
    EXPECT_FALSE(l.side[0]->error().empty());
}

TEST(UtpConnection, ResetFailsThePeer) {
    Link l;
    l.side[0] = Connection::connect(7, 1, l.now);
    l.side[0]->write("x", l.now);
    ASSERT_TRUE(l.run([&] { return l.got[1] == "x"; }, 10'000'000));
    l.side[1]->reset(l.now);
    ASSERT_TRUE(l.run([&] { return l.side[0]->done(); }, 10'000'000));
    EXPECT_EQ(l.side[0]->state(), State::failed);
    EXPECT_EQ(l.side[0]->error(), "reset by peer");
}

TEST(UtpConnection, SilentPeerTimesOutAndBacksOff) {
    Link l;
    l.side[0] = Connection::connect(7, 1, l.now);
    l.side[0]->write("x", l.now);
    ASSERT_TRUE(l.run([&] { return l.got[1] == "x"; }, 10'000'000));
    l.loss = 1.0;
    Micros start = l.now;
    Micros rto0 = l.side[0]->rto();
    l.side[0]->write("more", l.now);
    ASSERT_TRUE(l.run([&] { return l.side[0]->done(); }, 1000'000'000));
    EXPECT_EQ(l.side[0]->state(), State::failed);
    EXPECT_GT(l.side[0]->rto(), rto0 * 8);  // backed off
    EXPECT_GT(l.now - start, 30'000'000u);
}

TEST(UtpConnection, KeepAliveHoldsAnIdleConnection) {
    Link l;
    l.side[0] = Connection::connect(7, 1, l.now);
    l.side[0]->write("x", l.now);
    ASSERT_TRUE(l.run([&] { return l.got[1] == "x"; }, 10'000'000));
    auto before = l.datagrams;
    l.run([] { return false; }, 300'000'000);  // 5 minutes idle
    EXPECT_FALSE(l.side[0]->done());
    EXPECT_FALSE(l.side[1]->done());
    EXPECT_GT(l.datagrams, before);
    EXPECT_LT(l.datagrams - before, 100u);  // keep-alives, not a storm
}

TEST(UtpConnection, PeerWindowBoundsFlight) {
    Link l;
    l.side[0] = Connection::connect(7, 1, l.now);
    l.side[0]->write("x", l.now);
    ASSERT_TRUE(l.run([&] { return l.got[1] == "x"; }, 10'000'000));
    // Side 1 stops reading: side 0 can send at most side 1's receive buffer.
    l.got[1].clear();
    std::string big = pattern(12 << 20);
    std::size_t off = 0, received = 0;
    Config c;
    for (int i = 0; i < 200; ++i) {
        off += l.side[0]->write(std::string_view(big).substr(off), l.now);
        for (auto& d : l.side[0]->outbox()) {
            auto p = decode(d.bytes);
            ASSERT_TRUE(p);
            l.side[1]->on_packet(*p, l.now);
            received = l.side[1]->readable();
        }
        l.side[0]->outbox().clear();
        for (auto& d : l.side[1]->outbox()) l.side[0]->on_packet(*decode(d.bytes), l.now);
        l.side[1]->outbox().clear();
        l.now += 1000;
        l.side[0]->tick(l.now);
        l.side[1]->tick(l.now);
    }
    EXPECT_LE(received, c.recv_buffer);
    EXPECT_GE(received, c.recv_buffer - c.max_payload);
    EXPECT_LE(l.side[0]->bytes_in_flight(), c.max_payload);
    // Reading opens the window again and the rest flows.
    ASSERT_TRUE(l.run(
        [&] {
            off += l.side[0]->write(std::string_view(big).substr(off), l.now);
            return l.got[1].size() == big.size();
        },
        100'000'000));
    EXPECT_TRUE(l.got[1] == big);
}

TEST(UtpConnection, LedbatBacksOffAboveTarget) {
    // One-way delay that grows with the amount in flight (a queue): the window must stay
    // where the queuing delay is near the 100 ms target rather than grow without bound.
    Link l;
    l.delay = 10'000;
    l.side[0] = Connection::connect(7, 1, l.now);
    std::string chunk(1 << 20, 'z');
    std::size_t max_cwnd_seen = 0;
    // Simulate a bottleneck of 1 MB/s: the queue's delay is flight / rate.
    l.run(
        [&] {
            if (l.side[0]->state() == State::connected) l.side[0]->write(chunk, l.now);
            l.delay = 10'000 + l.side[0]->bytes_in_flight();  // 1 byte = 1 us: 1 MB/s
            if (l.now > 30'000'000) max_cwnd_seen = std::max(max_cwnd_seen, l.side[0]->cwnd());
            return false;
        },
        60'000'000);
    EXPECT_GT(max_cwnd_seen, 20'000u);
    EXPECT_LT(max_cwnd_seen, 400'000u);  // ~100 KB of queue is the target
}
