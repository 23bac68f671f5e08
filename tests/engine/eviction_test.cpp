#include "swarm/eviction.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace std::chrono_literals;
using pw::swarm::classify;
using pw::swarm::EvictionClass;
using pw::swarm::EvictionFacts;
using pw::swarm::pick_eviction;

namespace {
EvictionFacts silent(std::chrono::seconds age) {
    EvictionFacts f;
    f.age = age;
    f.since_payload = age;
    return f;
}
EvictionFacts talking(std::chrono::seconds age, std::chrono::seconds since_payload, bool peer_int,
                      bool am_int) {
    EvictionFacts f;
    f.age = age;
    f.since_payload = since_payload;
    f.said_anything = true;
    f.peer_interested = peer_int;
    f.am_interested = am_int;
    return f;
}
}  // namespace

TEST(Eviction, NothingToEvictAmongUsefulOrYoungPeers) {
    std::vector<EvictionFacts> peers = {
        silent(2s),                       // still starting up
        talking(30s, 1s, true, false),    // downloading from us
        talking(600s, 10s, false, true),  // we download from it
        talking(40s, 40s, false, false),  // useless, but not for long yet
    };
    EXPECT_FALSE(pick_eviction(peers));
    EXPECT_EQ(classify(silent(4s)), EvictionClass::none);
    EXPECT_EQ(classify(silent(5s)), EvictionClass::silent);
}

TEST(Eviction, SilentSinceHandshakeGoesFirstOldestFirst) {
    std::vector<EvictionFacts> peers = {
        talking(900s, 900s, false, false),                          // useless for 15 minutes
        silent(8s), silent(20s), talking(400s, 400s, true, false),  // stale
    };
    auto p = pick_eviction(peers);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->index, 2u);
    EXPECT_EQ(p->why, EvictionClass::silent);
}

TEST(Eviction, UselessBeforeStale) {
    std::vector<EvictionFacts> peers = {
        talking(1000s, 1000s, true, false),  // stale: interested, never served
        talking(61s, 61s, false, false),     // useless
        talking(120s, 5s, false, false),     // nobody interested, but data moved 5 s ago
    };
    auto p = pick_eviction(peers);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->index, 1u);
    EXPECT_EQ(p->why, EvictionClass::useless);
    peers.erase(peers.begin() + 1);
    p = pick_eviction(peers);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->index, 0u);
    EXPECT_EQ(p->why, EvictionClass::stale);
}

TEST(Eviction, InterestInEitherDirectionKeepsAPeerUntilStale) {
    EXPECT_EQ(classify(talking(200s, 200s, true, false)), EvictionClass::none);
    EXPECT_EQ(classify(talking(200s, 200s, false, true)), EvictionClass::none);
    EXPECT_EQ(classify(talking(300s, 300s, false, true)), EvictionClass::stale);
    EXPECT_EQ(classify(talking(300s, 299s, false, true)), EvictionClass::none);
}

TEST(Eviction, RulesAreTunable) {
    pw::swarm::EvictionRules r;
    r.silent_after = 1s;
    r.useless_after = 10s;
    EXPECT_EQ(classify(silent(1s), r), EvictionClass::silent);
    EXPECT_EQ(classify(talking(10s, 10s, false, false), r), EvictionClass::useless);
    std::vector<EvictionFacts> none;
    EXPECT_FALSE(pick_eviction(none, r));
}
