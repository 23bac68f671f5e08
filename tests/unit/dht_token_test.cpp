// Write tokens (rotation, previous secret accepted), the peer store's expiry and caps,
// and the per-address query rate limit.
#include <gtest/gtest.h>

#include "dht/peer_store.hpp"
#include "dht/rate_limiter.hpp"
#include "dht/token.hpp"

using namespace pw::dht;
using namespace std::chrono_literals;

TEST(DhtToken, BoundToAddressAndRotation) {
    auto t0 = TokenIssuer::Clock::now();
    TokenIssuer tokens(t0);
    const std::string ip1("\x7f\x00\x00\x01", 4), ip2("\x7f\x00\x00\x02", 4);
    std::string tok = tokens.make(ip1);
    EXPECT_EQ(tok.size(), 8u);
    EXPECT_TRUE(tokens.verify(ip1, tok));
    EXPECT_FALSE(tokens.verify(ip2, tok));
    EXPECT_FALSE(tokens.verify(ip1, tok.substr(0, 7)));
    EXPECT_FALSE(tokens.verify(ip1, ""));
    tokens.maybe_rotate(t0 + 4min);  // too early: no rotation
    EXPECT_EQ(tokens.make(ip1), tok);
    tokens.maybe_rotate(t0 + 5min);  // one rotation: the old token still works
    EXPECT_NE(tokens.make(ip1), tok);
    EXPECT_TRUE(tokens.verify(ip1, tok));
    tokens.maybe_rotate(t0 + 10min);  // two rotations: it is 10 minutes old, refused
    EXPECT_FALSE(tokens.verify(ip1, tok));
    EXPECT_TRUE(tokens.verify(ip1, tokens.make(ip1)));
}

TEST(DhtPeerStore, ExpiryAndCaps) {
    auto now = PeerStore::Clock::now();
    PeerStore store(3, 2);
    pw::Sha1Digest h1{}, h2{}, h3{};
    h1.bytes[0] = 1;
    h2.bytes[0] = 2;
    h3.bytes[0] = 3;
    for (std::uint16_t p = 1; p <= 5; ++p)
        EXPECT_TRUE(store.add(h1, Endpoint{{127, 0, 0, 1}, p}, now + std::chrono::seconds(p)));
    auto got = store.get(h1, 100, now + 10s);
    ASSERT_EQ(got.size(), 3u);  // capped; the oldest (ports 1, 2) were replaced
    for (const auto& ep : got) EXPECT_GE(ep.port, 3);
    EXPECT_EQ(store.get(h1, 2, now + 10s).size(), 2u);
    EXPECT_TRUE(store.add(h2, Endpoint{{127, 0, 0, 2}, 9}, now));
    EXPECT_FALSE(store.add(h3, Endpoint{{127, 0, 0, 3}, 9}, now));  // max_hashes
    EXPECT_EQ(store.hash_count(), 2u);
    // Re-announcing refreshes; entries expire after 30 minutes.
    store.add(h2, Endpoint{{127, 0, 0, 2}, 9}, now + 20min);
    EXPECT_TRUE(store.get(h1, 100, now + 31min).empty());
    EXPECT_EQ(store.get(h2, 100, now + 31min).size(), 1u);
    store.expire(now + 31min);
    EXPECT_EQ(store.hash_count(), 1u);
    EXPECT_EQ(store.peer_count(), 1u);
    EXPECT_TRUE(store.add(h3, Endpoint{{127, 0, 0, 3}, 9}, now + 31min));
}

TEST(DhtRateLimiter, BurstThenRefill) {
    auto now = RateLimiter::Clock::now();
    RateLimiter rl(10);
    int allowed = 0;
    for (int i = 0; i < 100; ++i) allowed += rl.allow("a", now);
    EXPECT_EQ(allowed, 10);
    EXPECT_TRUE(rl.allow("b", now));  // per address
    EXPECT_FALSE(rl.allow("a", now + 50ms));
    EXPECT_TRUE(rl.allow("a", now + 150ms));  // 1.5 tokens refilled
    allowed = 0;
    for (int i = 0; i < 100; ++i) allowed += rl.allow("a", now + 10s);
    EXPECT_EQ(allowed, 10);  // the bucket never holds more than the burst
}

TEST(DhtRateLimiter, TrackedAddressesBounded) {
    auto now = RateLimiter::Clock::now();
    RateLimiter rl(5, 100);
    for (int i = 0; i < 1000; ++i) rl.allow("addr" + std::to_string(i), now);
    EXPECT_LE(rl.tracked(), 100u);
    // Once the old buckets are idle (full again) they are forgotten for newcomers.
    EXPECT_TRUE(rl.allow("late", now + 5s));
    EXPECT_LE(rl.tracked(), 100u);
}
