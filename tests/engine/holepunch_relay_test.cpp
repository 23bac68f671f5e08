// BEP 55 holepunch decisions (swarm/holepunch.hpp): which error code a relay answers
// when, the per-peer rate limit, and the initiator's once-per-target memory.
#include <gtest/gtest.h>

#include "swarm/holepunch.hpp"

using namespace pw::swarm;

TEST(HolepunchRelay, ConnectsWhenTargetIsConnectedAndSupports) {
    RendezvousFacts f;
    f.sender_supports = true;
    f.target_connected = true;
    f.target_supports = true;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::connect);
    EXPECT_EQ(verdict_error_code(RendezvousVerdict::connect), 0u);
}

TEST(HolepunchRelay, ErrorCodes) {
    RendezvousFacts base;
    base.sender_supports = true;
    base.target_connected = true;
    base.target_supports = true;

    auto f = base;
    f.valid_endpoint = false;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::no_such_peer);
    EXPECT_EQ(verdict_error_code(judge_rendezvous(f)), 1u);

    f = base;
    f.target_connected = false;
    f.target_supports = false;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::not_connected);
    EXPECT_EQ(verdict_error_code(judge_rendezvous(f)), 2u);

    f = base;
    f.target_supports = false;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::no_support);
    EXPECT_EQ(verdict_error_code(judge_rendezvous(f)), 3u);

    f = base;
    f.is_us = true;
    f.target_connected = false;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::no_self);
    EXPECT_EQ(verdict_error_code(judge_rendezvous(f)), 4u);
}

TEST(HolepunchRelay, IgnoresSilently) {
    RendezvousFacts f;
    f.target_connected = true;
    f.target_supports = true;
    f.sender_supports = false;  // BEP 55: MUST ignore
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::ignore);
    f.sender_supports = true;
    f.within_rate = false;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::ignore);
    // Even what would be an error is not answered over the rate.
    f.target_connected = false;
    EXPECT_EQ(judge_rendezvous(f), RendezvousVerdict::ignore);
}

TEST(HolepunchRelay, RateLimitPerWindow) {
    HolepunchRate r;
    auto t0 = HolepunchClock::time_point{} + std::chrono::hours(1);
    for (int i = 0; i < HolepunchRate::burst; ++i) EXPECT_TRUE(r.allow(t0 + std::chrono::seconds(i)));
    EXPECT_FALSE(r.allow(t0 + std::chrono::seconds(30)));
    EXPECT_FALSE(r.allow(t0 + HolepunchRate::window - std::chrono::seconds(1)));
    EXPECT_TRUE(r.allow(t0 + HolepunchRate::window));
}

TEST(HolepunchInitiator, AsksOncePerTargetAndStaysBounded) {
    RendezvousMemory<int> mem;
    auto t0 = HolepunchClock::time_point{} + std::chrono::hours(1);
    EXPECT_TRUE(mem.may_ask(7, t0));
    EXPECT_FALSE(mem.may_ask(7, t0 + std::chrono::minutes(1)));
    EXPECT_TRUE(mem.may_ask(8, t0 + std::chrono::minutes(1)));
    EXPECT_TRUE(mem.may_ask(7, t0 + RendezvousMemory<int>::every));
    for (int i = 100; i < 100 + 1000; ++i) mem.may_ask(i, t0 + std::chrono::seconds(i));
    EXPECT_LE(mem.size(), RendezvousMemory<int>::max_targets);
}
