// Rate limits: the token bucket, fair sharing of a budget among connections (nested
// per-torrent buckets), the alt-speed schedule and rate parsing. A made-up clock.
#include <gtest/gtest.h>

#include <map>

#include "swarm/alt_speed.hpp"
#include "swarm/bandwidth_queue.hpp"
#include "swarm/rate_units.hpp"
#include "swarm/token_bucket.hpp"

namespace {

using pw::swarm::BandwidthQueue;
using pw::swarm::TokenBucket;
using Clock = TokenBucket::Clock;
using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::time_point(1000s);

TEST(TokenBucket, RefillsAtTheRateUpToTheBurst) {
    TokenBucket b(t0);
    b.set_rate(100'000, t0);
    EXPECT_EQ(b.tokens(), 0);
    b.refill(t0 + 100ms);
    EXPECT_EQ(b.tokens(), 10'000);
    b.refill(t0 + 10s);  // a long pause fills it to the burst only
    EXPECT_EQ(b.tokens(), b.burst());
    EXPECT_EQ(b.burst(), 25'000);
}

TEST(TokenBucket, FractionsAreNotLost) {
    TokenBucket b(t0);
    b.set_rate(3, t0);  // 3 bytes/s refilled every 100 ms: 0.3 bytes each time
    for (int i = 1; i <= 100; ++i) b.refill(t0 + i * 100ms);
    EXPECT_EQ(b.tokens(), 30);
}

TEST(TokenBucket, LowerRateCapsTokensAtOnce) {
    TokenBucket b(t0);
    b.set_rate(1'000'000, t0);
    b.refill(t0 + 1s);
    EXPECT_EQ(b.tokens(), 250'000);
    b.set_rate(40'000, t0 + 1s);
    EXPECT_EQ(b.tokens(), 10'000);
    b.set_rate(0, t0 + 1s);
    EXPECT_TRUE(b.unlimited());
}

TEST(BandwidthQueue, ZeroIsUnlimited) {
    BandwidthQueue q(t0);
    q.add_bucket(1, BandwidthQueue::global, 0, t0);
    EXPECT_FALSE(q.limited(1));
    EXPECT_FALSE(q.limited(BandwidthQueue::global));
    EXPECT_EQ(q.take(1, 1 << 20, t0), 1 << 20);
    q.set_rate(BandwidthQueue::global, 1000, t0);
    EXPECT_TRUE(q.limited(1));
    q.set_rate(BandwidthQueue::global, 0, t0);
    EXPECT_FALSE(q.limited(1));
    EXPECT_EQ(q.take(1, 5 << 20, t0), 5 << 20);
}

TEST(BandwidthQueue, BurstIsBounded) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 100'000, t0);
    q.add_bucket(1, BandwidthQueue::global, 0, t0);
    // Idle for a minute: one quarter second of the rate at once, then nothing.
    auto now = t0 + 60s;
    EXPECT_EQ(q.take(1, 1 << 20, now), 25'000);
    EXPECT_EQ(q.take(1, 1 << 20, now), 0);
}

// Simulates `conns` connections that always want `want` bytes, for `seconds`, with the
// distribution timer at 50 ms; returns the bytes each moved.
std::vector<std::int64_t> simulate(BandwidthQueue& q,
                                   const std::vector<BandwidthQueue::BucketId>& conn_bucket,
                                   std::int64_t want, Clock::time_point start,
                                   std::chrono::milliseconds total) {
    std::vector<std::int64_t> moved(conn_bucket.size());
    std::vector<bool> waiting(conn_bucket.size());
    for (auto now = start; now < start + total; now += 50ms) {
        for (auto& g : q.distribute(now)) {
            moved[g.waiter] += g.bytes;
            waiting[g.waiter] = false;
        }
        // Every connection that is not waiting transfers what it may, then asks again.
        for (std::size_t c = 0; c < conn_bucket.size(); ++c) {
            if (waiting[c]) continue;
            for (;;) {
                auto n = q.take(conn_bucket[c], want, now);
                if (n == 0) break;
                moved[c] += n;
            }
            q.wait(c, conn_bucket[c], want);
            waiting[c] = true;
        }
    }
    return moved;
}

TEST(BandwidthQueue, ManyConnectionsShareTheGlobalBudgetFairly) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 1'000'000, t0);
    q.add_bucket(1, BandwidthQueue::global, 0, t0);
    std::vector<BandwidthQueue::BucketId> conns(20, 1);
    auto moved = simulate(q, conns, 64 * 1024, t0, 10s);
    std::int64_t sum = 0;
    for (auto m : moved) sum += m;
    // 10 s at 1 MB/s, plus at most one burst.
    EXPECT_LE(sum, 10'000'000 + 250'000);
    EXPECT_GE(sum, 9'800'000);
    for (auto m : moved) {
        EXPECT_GT(m, sum / 20 * 9 / 10);
        EXPECT_LT(m, sum / 20 * 11 / 10);
    }
}

TEST(BandwidthQueue, SmallBudgetManyConnectionsNobodyStarves) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 20'000, t0);  // 1,000 bytes per tick for 200 connections
    std::vector<BandwidthQueue::BucketId> conns(200, BandwidthQueue::global);
    auto moved = simulate(q, conns, 16 * 1024, t0, 60s);
    std::int64_t sum = 0;
    for (auto m : moved) {
        sum += m;
        EXPECT_GE(m, 1024);  // every connection moved something
    }
    EXPECT_LE(sum, 60 * 20'000 + 5'000);
    EXPECT_GE(sum, 60 * 20'000 * 95 / 100);
}

TEST(BandwidthQueue, TorrentBucketsNestUnderTheGlobalOne) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 1'000'000, t0);
    q.add_bucket(1, BandwidthQueue::global, 200'000, t0);  // a torrent held to 200 kB/s
    q.add_bucket(2, BandwidthQueue::global, 0, t0);        // one with no limit of its own
    std::vector<BandwidthQueue::BucketId> conns = {1, 1, 1, 1, 2, 2};
    auto moved = simulate(q, conns, 64 * 1024, t0, 10s);
    std::int64_t t1 = moved[0] + moved[1] + moved[2] + moved[3], t2 = moved[4] + moved[5];
    // Torrent 1 at its own limit; torrent 2 takes what the global limit leaves.
    EXPECT_NEAR(double(t1), 2'000'000, 2'000'000 * 0.05);
    EXPECT_NEAR(double(t2), 8'000'000, 8'000'000 * 0.05);
    EXPECT_NEAR(double(moved[4]), double(moved[5]), 8'000'000 * 0.05);
}

TEST(BandwidthQueue, TorrentThatDoesNotHonorSessionLimits) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 100'000, t0);
    q.add_bucket(1, BandwidthQueue::global, 0, t0);
    q.add_bucket(2, BandwidthQueue::global, 0, t0);
    q.set_parent(2, BandwidthQueue::none);  // honors_session_limits = false
    EXPECT_FALSE(q.limited(2));
    EXPECT_EQ(q.take(2, 10 << 20, t0 + 1s), 10 << 20);
    q.set_rate(2, 300'000, t0 + 1s);
    auto moved = simulate(q, {1, 2}, 64 * 1024, t0 + 1s, 10s);
    EXPECT_NEAR(double(moved[0]), 1'000'000, 1'000'000 * 0.05);
    EXPECT_NEAR(double(moved[1]), 3'000'000, 3'000'000 * 0.05);
}

TEST(BandwidthQueue, HighPriorityTorrentsAreServedFirst) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 1'000'000, t0);
    q.add_bucket(1, BandwidthQueue::global, 0, t0);
    q.add_bucket(2, BandwidthQueue::global, 0, t0);
    q.add_bucket(3, BandwidthQueue::global, 0, t0);
    q.set_priority(1, 1);
    q.set_priority(3, -1);
    EXPECT_EQ(q.priority(1), 1);
    EXPECT_EQ(q.priority(2), 0);
    // Two connections each; the high-priority torrent wants more than the budget.
    auto moved = simulate(q, {1, 1, 2, 2, 3, 3}, 64 * 1024, t0, 10s);
    std::int64_t high = moved[0] + moved[1], normal = moved[2] + moved[3],
                 low = moved[4] + moved[5];
    EXPECT_GT(high, 9'000'000);
    EXPECT_LT(normal + low, 1'000'000);
    EXPECT_NEAR(double(moved[0]), double(moved[1]), 1'000'000);  // fair within the class
}

TEST(BandwidthQueue, WhatHighPriorityCannotUseGoesToTheOthers) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 1'000'000, t0);
    q.add_bucket(1, BandwidthQueue::global, 200'000, t0);  // high, held to 200 kB/s
    q.add_bucket(2, BandwidthQueue::global, 0, t0);
    q.add_bucket(3, BandwidthQueue::global, 0, t0);
    q.set_priority(1, 1);
    q.set_priority(3, -1);
    q.set_priority(2, 5);  // out of range: clamped to high
    EXPECT_EQ(q.priority(2), 1);
    q.set_priority(2, 0);
    auto moved = simulate(q, {1, 2, 3}, 64 * 1024, t0, 10s);
    EXPECT_NEAR(double(moved[0]), 2'000'000, 2'000'000 * 0.05);
    // Normal takes the rest before low gets anything much; nothing is left unused.
    EXPECT_GT(moved[1], 7'000'000);
    EXPECT_LT(moved[2], 1'000'000);
    EXPECT_GE(moved[0] + moved[1] + moved[2], 9'800'000);
}

TEST(BandwidthQueue, ChangingTheLimitAtRunTime) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 100'000, t0);
    std::vector<BandwidthQueue::BucketId> conns(4, BandwidthQueue::global);
    auto a = simulate(q, conns, 32 * 1024, t0, 5s);
    q.set_rate(BandwidthQueue::global, 400'000, t0 + 5s);
    auto b = simulate(q, conns, 32 * 1024, t0 + 5s, 5s);
    std::int64_t sa = 0, sb = 0;
    for (auto v : a) sa += v;
    for (auto v : b) sb += v;
    EXPECT_NEAR(double(sa), 500'000, 500'000 * 0.06);
    EXPECT_NEAR(double(sb), 2'000'000, 2'000'000 * 0.06);
    // Lifting the limit releases every waiter with all it asked for at the next tick.
    for (std::size_t c = 0; c < 4; ++c) q.cancel(c);
    q.wait(7, BandwidthQueue::global, 1 << 20);
    q.set_rate(BandwidthQueue::global, 0, t0 + 10s);
    auto g = q.distribute(t0 + 10s + 50ms);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].bytes, 1 << 20);
    EXPECT_FALSE(q.waiting());
}

TEST(BandwidthQueue, NewcomersQueueBehindWaiters) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 100'000, t0);
    q.wait(1, BandwidthQueue::global, 4096);
    // Tokens have accumulated, but waiter 1 came first: the newcomer must wait too.
    EXPECT_EQ(q.take(BandwidthQueue::global, 4096, t0 + 1s), 0);
    auto g = q.distribute(t0 + 1s);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].waiter, 1u);
    EXPECT_EQ(g[0].bytes, 4096);
    EXPECT_EQ(q.take(BandwidthQueue::global, 4096, t0 + 1s), 4096);
}

TEST(BandwidthQueue, GrantsAreNeverTiny) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 2'000, t0);  // 100 bytes per 50 ms
    q.wait(1, BandwidthQueue::global, 16384);
    int ticks = 0;
    std::vector<BandwidthQueue::Grant> g;
    while (g.empty() && ticks < 100) g = q.distribute(t0 + ++ticks * 50ms);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_GE(g[0].bytes, BandwidthQueue::min_grant);
    EXPECT_NEAR(ticks, 11, 1);  // 1,024 bytes at 100 per tick
}

TEST(BandwidthQueue, CancelReturnsReservedBytes) {
    BandwidthQueue q(t0);
    q.set_rate(BandwidthQueue::global, 2'000, t0);
    q.wait(1, BandwidthQueue::global, 16384);
    EXPECT_TRUE(q.distribute(t0 + 250ms).empty());  // holds 500 bytes, below min_grant
    q.cancel(1);
    EXPECT_FALSE(q.waiting());
    EXPECT_EQ(q.take(BandwidthQueue::global, 500, t0 + 250ms), 500);
}

TEST(BandwidthQueue, RemovedBucketIsNotLimited) {
    BandwidthQueue q(t0);
    q.add_bucket(5, BandwidthQueue::none, 1000, t0);
    EXPECT_TRUE(q.limited(5));
    q.wait(1, 5, 100'000);
    q.remove_bucket(5);
    EXPECT_FALSE(q.limited(5));
    auto g = q.distribute(t0 + 50ms);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].bytes, 100'000);
}

TEST(AltSpeed, WindowWithinADay) {
    using pw::swarm::in_alt_speed_window;
    // 09:00-17:00 on weekdays (Monday..Friday: bits 1..5 = 62).
    EXPECT_TRUE(in_alt_speed_window(1, 9 * 60, 540, 1020, 62));
    EXPECT_TRUE(in_alt_speed_window(5, 16 * 60 + 59, 540, 1020, 62));
    EXPECT_FALSE(in_alt_speed_window(5, 17 * 60, 540, 1020, 62));
    EXPECT_FALSE(in_alt_speed_window(1, 8 * 60 + 59, 540, 1020, 62));
    EXPECT_FALSE(in_alt_speed_window(0, 10 * 60, 540, 1020, 62));  // Sunday
    EXPECT_FALSE(in_alt_speed_window(6, 10 * 60, 540, 1020, 62));  // Saturday
}

TEST(AltSpeed, WindowPastMidnight) {
    using pw::swarm::in_alt_speed_window;
    // 22:00-06:00 starting on Saturdays only (bit 6 = 64): runs into Sunday morning.
    EXPECT_TRUE(in_alt_speed_window(6, 23 * 60, 1320, 360, 64));
    EXPECT_TRUE(in_alt_speed_window(0, 5 * 60, 1320, 360, 64));
    EXPECT_FALSE(in_alt_speed_window(0, 6 * 60, 1320, 360, 64));
    EXPECT_FALSE(in_alt_speed_window(0, 23 * 60, 1320, 360, 64));
    EXPECT_FALSE(in_alt_speed_window(6, 5 * 60, 1320, 360, 64));  // Friday's night is not set
    // begin == end: the whole day.
    EXPECT_TRUE(in_alt_speed_window(3, 0, 600, 600, 127));
    EXPECT_TRUE(in_alt_speed_window(3, 1439, 600, 600, 127));
    EXPECT_FALSE(in_alt_speed_window(3, 700, 600, 600, 0));
}

TEST(AltSpeed, ScheduleSwitchesAtBoundariesOnly) {
    pw::swarm::AltSpeedSchedule s;
    EXPECT_EQ(s.update(false), std::optional<bool>(false));  // first look applies the window
    EXPECT_EQ(s.update(false), std::nullopt);                // a manual switch holds...
    EXPECT_EQ(s.update(true), std::optional<bool>(true));    // ...until the window opens
    EXPECT_EQ(s.update(true), std::nullopt);
    EXPECT_EQ(s.update(false), std::optional<bool>(false));
    s.reset();
    EXPECT_EQ(s.update(false), std::optional<bool>(false));
}

TEST(RateUnits, Parses) {
    using pw::swarm::parse_rate;
    EXPECT_EQ(parse_rate("500k"), 500'000);
    EXPECT_EQ(parse_rate("2M"), 2'000'000);
    EXPECT_EQ(parse_rate("1.5M"), 1'500'000);
    EXPECT_EQ(parse_rate("800000"), 800'000);
    EXPECT_EQ(parse_rate("64KiB"), 65'536);
    EXPECT_EQ(parse_rate("2MiB/s"), 2 * 1024 * 1024);
    EXPECT_EQ(parse_rate("100kB/s"), 100'000);
    EXPECT_EQ(parse_rate("0"), 0);
    EXPECT_EQ(parse_rate(""), std::nullopt);
    EXPECT_EQ(parse_rate("-5k"), std::nullopt);
    EXPECT_EQ(parse_rate("5x"), std::nullopt);
    EXPECT_EQ(parse_rate("1.2.3"), std::nullopt);
    EXPECT_EQ(parse_rate("k"), std::nullopt);
    EXPECT_EQ(parse_rate("99999999999G"), std::nullopt);
    EXPECT_EQ(parse_rate(std::string(400, '9')), std::nullopt);  // stod would throw
    EXPECT_EQ(parse_rate("5k/s/s"), std::nullopt);
}

}  // namespace
