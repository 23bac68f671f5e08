#include "session/connection_limits.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <vector>

using namespace std::chrono_literals;
using pw::session::ConnectionLimits;
using Refusal = ConnectionLimits::Refusal;
using boost::asio::ip::make_address;

namespace {
const auto t0 = ConnectionLimits::Clock::time_point{} + 1000s;
}

TEST(ConnectionLimits, TotalCapAndRelease) {
    ConnectionLimits l({3, 0, 0});
    std::vector<ConnectionLimits::Slot> slots;
    for (int i = 0; i < 3; ++i) {
        auto ip = make_address("127.0.1." + std::to_string(i + 1));
        ASSERT_EQ(l.check_incoming(ip), Refusal::none);
        slots.push_back(l.incoming(ip, t0, {}));
    }
    EXPECT_EQ(l.open(), 3);
    EXPECT_EQ(l.check_incoming(make_address("127.0.2.1")), Refusal::total);
    EXPECT_EQ(l.check_outgoing(make_address("127.0.2.1")), Refusal::total);
    slots[1].release();
    slots[1].release();  // once only
    EXPECT_EQ(l.open(), 2);
    EXPECT_EQ(l.check_incoming(make_address("127.0.2.1")), Refusal::none);
    slots.clear();
    EXPECT_EQ(l.open(), 0);
    EXPECT_EQ(l.pending(), 0);
}

TEST(ConnectionLimits, PerIpCapCountsBothDirections) {
    ConnectionLimits l({100, 0, 2});
    auto a = make_address("127.0.0.5");
    auto in = l.incoming(a, t0, {});
    auto out = l.outgoing(a);
    EXPECT_EQ(l.from(a), 2);
    EXPECT_EQ(l.check_incoming(a), Refusal::per_ip);
    EXPECT_EQ(l.check_outgoing(a), Refusal::per_ip);
    EXPECT_EQ(l.check_incoming(make_address("127.0.0.6")), Refusal::none);
    out.release();
    EXPECT_EQ(l.check_outgoing(a), Refusal::none);
    ConnectionLimits unlimited({100, 0, 0});
    std::vector<ConnectionLimits::Slot> many;
    for (int i = 0; i < 50; ++i) many.push_back(unlimited.incoming(a, t0, {}));
    EXPECT_EQ(unlimited.check_incoming(a), Refusal::none);
}

TEST(ConnectionLimits, HalfOpenUntilConnected) {
    ConnectionLimits l({100, 2, 0});
    auto s1 = l.outgoing(make_address("127.0.0.2"));
    auto s2 = l.outgoing(make_address("127.0.0.3"));
    EXPECT_EQ(l.half_open(), 2);
    EXPECT_EQ(l.check_outgoing(make_address("127.0.0.4")), Refusal::half_open);
    EXPECT_EQ(l.check_incoming(make_address("127.0.0.4")), Refusal::none);  // not for incoming
    s1.connected();
    s1.connected();
    EXPECT_EQ(l.half_open(), 1);
    EXPECT_EQ(l.open(), 2);
    s2.release();  // a failed connect
    EXPECT_EQ(l.half_open(), 0);
    EXPECT_EQ(l.open(), 1);
}

TEST(ConnectionLimits, EvictsOldestPendingAfterGrace) {
    ConnectionLimits l({2, 0, 0});
    std::vector<int> closed;
    auto a = l.incoming(make_address("127.0.0.2"), t0, [&] { closed.push_back(1); });
    auto b = l.incoming(make_address("127.0.0.3"), t0 + 1s, [&] { closed.push_back(2); });
    EXPECT_EQ(l.pending(), 2);
    EXPECT_FALSE(l.evict_pending(t0 + 199ms, 2s));  // nobody waited 2 s, nor 2 s / 10
    EXPECT_TRUE(l.evict_pending(t0 + 2s, 2s));
    EXPECT_EQ(closed, std::vector<int>{1});
    EXPECT_EQ(l.open(), 1);  // the place is free at once
    EXPECT_EQ(l.pending(), 1);
    a.release();  // the evicted connection's owner lets go later: counted once
    EXPECT_EQ(l.open(), 1);
    b.handshaken();  // no longer evictable
    EXPECT_EQ(l.pending(), 0);
    EXPECT_FALSE(l.evict_pending(t0 + 100s, 2s));
    EXPECT_EQ(l.open(), 1);
}

TEST(ConnectionLimits, EvictionCallbackMayDropTheSlot) {
    ConnectionLimits l({1, 0, 0});
    ConnectionLimits::Slot s;
    s = l.incoming(make_address("127.0.0.2"), t0, {});
    s.on_evict([&s] { s.release(); });
    EXPECT_TRUE(l.evict_pending(t0 + 5s, 2s));
    EXPECT_FALSE(s);
    EXPECT_EQ(l.open(), 0);
}

TEST(ConnectionLimits, SlotsOutliveTheLimits) {
    ConnectionLimits::Slot s;
    {
        ConnectionLimits l({5, 0, 0});
        s = l.incoming(make_address("127.0.0.2"), t0, {});
    }
    s.release();  // no dangling counts
    SUCCEED();
}

TEST(ConnectionLimits, HoldKeepsThePlace) {
    ConnectionLimits l({5, 0, 0});
    auto s = l.outgoing(make_address("127.0.0.2"));
    s.connected();
    std::shared_ptr<void> held = std::move(s).hold();
    EXPECT_EQ(l.open(), 1);
    held.reset();
    EXPECT_EQ(l.open(), 0);
}

#include "session/fd_budget.hpp"
#include "storage/splice_pipe.hpp"

TEST(FdBudget, CapFitsBesideTheReserve) {
    using pw::session::connection_budget;
    EXPECT_EQ(connection_budget(500, 1048576), 500);
    EXPECT_EQ(connection_budget(500, 1024), 500);
    // The reserve: 384, and two descriptors for each pipe of an upload by splice.
    const long reserve = 384 + 2 * pw::storage::SplicePipe::max_live;
    EXPECT_EQ(connection_budget(4000, 4096), 4096 - reserve);
    EXPECT_EQ(connection_budget(1000, 1024), 1024 - reserve);
    EXPECT_EQ(connection_budget(500, 800), 400);  // under twice the reserve: half of it
    EXPECT_EQ(connection_budget(500, 256), 128);  // a tiny limit: half of it
    EXPECT_EQ(connection_budget(500, 4), 8);      // never below 8
}

TEST(FdBudget, RaisesTheSoftLimitToTheHardOne) {
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    long soft = pw::session::raise_fd_limit();
    rlimit after{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
    if (after.rlim_cur != RLIM_INFINITY) {
        EXPECT_EQ(soft, static_cast<long>(after.rlim_cur));
    }
}

TEST(ConnectionLimits, PendingWithoutACloserIsNotEvicted) {
    ConnectionLimits l({1, 0, 0});
    auto s = l.incoming(make_address("127.0.0.2"), t0, {});
    EXPECT_FALSE(l.evict_pending(t0 + 10s, 500ms));
    EXPECT_EQ(l.open(), 1);
}

// Issue 14's flood: the pending connections that sent nothing go first (when none has
// waited the grace, the oldest that waited a tenth of it); one that spoke (a real peer in
// the middle of its MSE negotiation) only after 4 x the grace.
TEST(ConnectionLimits, SilentPendingGoBeforeThoseThatSpoke) {
    ConnectionLimits l({3, 0, 0});
    std::vector<int> closed;
    auto honest = l.incoming(make_address("127.0.0.2"), t0, [&] { closed.push_back(1); });
    auto silent = l.incoming(make_address("127.0.0.3"), t0 + 100ms, [&] { closed.push_back(2); });
    honest.spoke();
    honest.spoke();  // once only
    EXPECT_EQ(l.pending(), 2);
    EXPECT_FALSE(l.evict_pending(t0 + 149ms, 500ms));  // the silent one is 49 ms old
    EXPECT_TRUE(l.evict_pending(t0 + 150ms, 500ms));   // it goes first, though younger
    EXPECT_EQ(closed, std::vector<int>{2});
    EXPECT_FALSE(l.evict_pending(t0 + 1900ms, 500ms));  // the speaker gets 2 s
    EXPECT_TRUE(l.evict_pending(t0 + 2s, 500ms));
    EXPECT_EQ(closed, (std::vector<int>{2, 1}));
    EXPECT_EQ(l.pending(), 0);
    EXPECT_EQ(l.open(), 0);  // both places given back
}

// A full torrent answers a handshake and waits for the peer to talk: a flood's
// handshake-and-stall connection then holds its place only `grace` after the answer, and
// goes after the silent ones but before one still sending its handshake.
TEST(ConnectionLimits, AnsweredGoAfterSilentBeforeSpeakers) {
    ConnectionLimits l({4, 0, 0});
    std::vector<int> closed;
    auto speaker = l.incoming(make_address("127.0.0.2"), t0, [&] { closed.push_back(1); });
    auto staller = l.incoming(make_address("127.0.0.3"), t0, [&] { closed.push_back(2); });
    auto silent = l.incoming(make_address("127.0.0.4"), t0 + 400ms, [&] { closed.push_back(3); });
    speaker.spoke();
    staller.spoke();
    staller.answered(t0 + 420ms);
    staller.answered(t0 + 900ms);  // the first answer counts
    EXPECT_EQ(l.pending(), 3);
    EXPECT_FALSE(l.evict_pending(t0 + 449ms, 500ms));  // nobody ripe, nor 50 / 250 ms old
    EXPECT_TRUE(l.evict_pending(t0 + 920ms, 500ms));  // both ripe: the silent one first,
    EXPECT_EQ(closed, std::vector<int>{3});
    EXPECT_TRUE(l.evict_pending(t0 + 920ms, 500ms));  // then the one answered 500 ms ago
    EXPECT_EQ(closed, (std::vector<int>{3, 2}));      // (not the speaker, accepted first)
    EXPECT_FALSE(l.evict_pending(t0 + 1999ms, 500ms));  // the speaker keeps its 2 s
    EXPECT_TRUE(l.evict_pending(t0 + 2s, 500ms));
    EXPECT_EQ(l.open(), 0);
    // With nobody ripe: the oldest silent 50 ms old, then the oldest answered 250 ms ago.
    auto late = l.incoming(make_address("127.0.0.6"), t0, [&] { closed.push_back(5); });
    late.spoke();
    late.answered(t0 + 10ms);
    auto quiet = l.incoming(make_address("127.0.0.7"), t0 + 20ms, [&] { closed.push_back(6); });
    EXPECT_FALSE(l.evict_pending(t0 + 69ms, 500ms));
    EXPECT_TRUE(l.evict_pending(t0 + 70ms, 500ms));
    EXPECT_EQ(closed.back(), 6);
    EXPECT_FALSE(l.evict_pending(t0 + 259ms, 500ms));
    EXPECT_TRUE(l.evict_pending(t0 + 260ms, 500ms));
    EXPECT_EQ(closed.back(), 5);
    EXPECT_EQ(l.open(), 0);
    // A handshaken connection is no longer pending in any stage.
    auto done = l.incoming(make_address("127.0.0.5"), t0, [&] { closed.push_back(4); });
    done.spoke();
    done.answered(t0);
    done.handshaken();
    EXPECT_EQ(l.pending(), 0);
    EXPECT_FALSE(l.evict_pending(t0 + 100s, 500ms));
}

TEST(ConnectionLimits, Ipv6CountsPerSlash64) {
    ConnectionLimits l({100, 0, 2});
    std::vector<ConnectionLimits::Slot> slots;
    // Two addresses of one /64: its two places, in and out alike.
    slots.push_back(l.incoming(make_address("2001:db8:1:2::10"), t0, {}));
    ASSERT_EQ(l.check_outgoing(make_address("2001:db8:1:2:ffff:ffff:ffff:ffff")), Refusal::none);
    slots.push_back(l.outgoing(make_address("2001:db8:1:2:ffff:ffff:ffff:ffff")));
    EXPECT_EQ(l.from(make_address("2001:db8:1:2::99")), 2);
    EXPECT_EQ(l.check_incoming(make_address("2001:db8:1:2::11")), Refusal::per_ip);
    EXPECT_EQ(l.check_outgoing(make_address("2001:db8:1:2:abcd::1")), Refusal::per_ip);
    // The neighbouring /64s are not affected.
    EXPECT_EQ(l.check_incoming(make_address("2001:db8:1:3::10")), Refusal::none);
    EXPECT_EQ(l.check_incoming(make_address("2001:db8:1:1:ffff:ffff:ffff:ffff")), Refusal::none);
    EXPECT_EQ(l.from(make_address("2001:db8:1:3::10")), 0);
    // A place given back frees the prefix's count.
    slots[0].release();
    EXPECT_EQ(l.from(make_address("2001:db8:1:2::10")), 1);
    EXPECT_EQ(l.check_incoming(make_address("2001:db8:1:2::12")), Refusal::none);
    slots.clear();
    EXPECT_EQ(l.from(make_address("2001:db8:1:2::10")), 0);
}

TEST(ConnectionLimits, Ipv4CountsPerAddressAndMappedAsIpv4) {
    ConnectionLimits l({100, 0, 1});
    auto a = l.incoming(make_address("127.0.0.5"), t0, {});
    EXPECT_EQ(l.check_incoming(make_address("127.0.0.6")), Refusal::none);  // no prefix for IPv4
    EXPECT_EQ(l.check_incoming(make_address("::ffff:127.0.0.5")), Refusal::per_ip);
    EXPECT_EQ(l.from(make_address("::ffff:127.0.0.5")), 1);
    EXPECT_EQ(ConnectionLimits::cap_key(make_address("::ffff:127.1.2.3")), make_address("127.1.2.3"));
    EXPECT_EQ(ConnectionLimits::cap_key(make_address("2001:db8::1:2:3:4")), make_address("2001:db8::"));
    EXPECT_EQ(ConnectionLimits::cap_key(make_address("::1")), make_address("::"));
}
