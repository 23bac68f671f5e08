#include "swarm/super_seed.hpp"

#include <gtest/gtest.h>

#include <set>

using pw::swarm::Bitfield;
using pw::swarm::SuperOffer;
using pw::swarm::SuperSeed;

namespace {
Bitfield all(int n) { return Bitfield(n, true); }
}  // namespace

TEST(SuperSeedPick, FewestCopiesFirstCountingLiveOffers) {
    SuperSeed s(6);
    std::vector<int> copies{3, 1, 0, 2, 0, 1};
    auto c = [&](int i) { return copies[static_cast<std::size_t>(i)]; };
    Bitfield peer(6);
    std::set<int> got;
    for (std::uint64_t r = 0; r < 12; ++r) got.insert(s.pick(all(6), peer, {}, c, r));
    EXPECT_EQ(got, (std::set<int>{2, 4})) << "only the pieces nobody has, whatever the random start";
    s.offered(2);
    s.offered(4);
    got.clear();
    for (std::uint64_t r = 0; r < 12; ++r) got.insert(s.pick(all(6), peer, {}, c, r));
    EXPECT_EQ(got, (std::set<int>{1, 2, 4, 5})) << "an offer counts as a copy";
    s.withdrawn(2);
    EXPECT_EQ(s.offers(2), 0);
    s.withdrawn(2);
    EXPECT_EQ(s.offers(2), 0) << "never below zero";
}

TEST(SuperSeedPick, SkipsWhatThePeerHasWhatItHoldsAndWhatWeLack) {
    SuperSeed s(5);
    auto none = [](int) { return 0; };
    Bitfield peer(5);
    peer.set(0);
    Bitfield ours = all(5);
    ours.clear(1);
    std::vector<std::uint32_t> held{2};
    std::set<int> got;
    for (std::uint64_t r = 0; r < 10; ++r) got.insert(s.pick(ours, peer, held, none, r));
    EXPECT_EQ(got, (std::set<int>{3, 4}));
    held = {3, 4};
    peer.set(2);
    EXPECT_EQ(s.pick(ours, peer, held, none, 7), -1) << "nothing left to offer";
    EXPECT_EQ(SuperSeed(0).pick(Bitfield(0), Bitfield(0), {}, none, 1), -1);
}

TEST(SuperSeedPick, RandomStartSpreadsEqualPieces) {
    SuperSeed s(64);
    auto none = [](int) { return 0; };
    std::set<int> got;
    for (std::uint64_t r = 0; r < 64; ++r) got.insert(s.pick(all(64), Bitfield(64), {}, none, r * 7919));
    EXPECT_GT(got.size(), 32u);
}

TEST(SuperSeedUsedUp, OnlyOncePassedOnOrNobodyElseNeedsIt) {
    EXPECT_FALSE(SuperSeed::used_up(false, 5, false)) << "the peer does not have it yet";
    EXPECT_FALSE(SuperSeed::used_up(true, 0, true)) << "only it has it and another lacks it";
    EXPECT_TRUE(SuperSeed::used_up(true, 1, true)) << "seen at a second peer";
    EXPECT_TRUE(SuperSeed::used_up(true, 0, false)) << "nobody else to pass it to";
}

TEST(SuperSeedSlots, MoreForALoneLeecher) {
    EXPECT_EQ(SuperSeed::slots_for(true), SuperSeed::slots);
    EXPECT_EQ(SuperSeed::slots_for(false), SuperSeed::lone_slots);
    EXPECT_GT(SuperSeed::lone_slots, SuperSeed::slots);
}

TEST(SuperOffer, CountsAsSentOnceEveryBlockWent) {
    const std::int64_t k16 = SuperOffer::block;
    SuperOffer o(7, 4 * k16);
    EXPECT_EQ(o.piece(), 7u);
    EXPECT_FALSE(o.all_sent());
    EXPECT_FALSE(o.sent(0, k16));
    EXPECT_FALSE(o.sent(0, k16)) << "a block sent twice counts once";
    EXPECT_FALSE(o.sent(2 * k16, 2 * k16)) << "one run covering two blocks marks both";
    EXPECT_TRUE(o.sent(k16, k16)) << "the last unsent block completes the offer";
    EXPECT_TRUE(o.all_sent());
    EXPECT_FALSE(o.sent(0, k16)) << "completion is reported once";
}

TEST(SuperOffer, ShortLastBlockAndOffGridRuns) {
    const std::int64_t k16 = SuperOffer::block;
    SuperOffer o(0, 2 * k16 + 100);  // three blocks, the last 100 bytes long
    EXPECT_FALSE(o.sent(k16 / 2, k16)) << "off the grid: marks nothing";
    EXPECT_FALSE(o.sent(0, k16 - 1)) << "a part of a block marks nothing";
    EXPECT_FALSE(o.sent(0, 2 * k16 - 1)) << "marks the first block only";
    EXPECT_FALSE(o.sent(2 * k16, 99)) << "the short last block needs all its 100 bytes";
    EXPECT_FALSE(o.sent(2 * k16, 100));
    EXPECT_FALSE(o.all_sent()) << "block 1 is still unsent";
    EXPECT_FALSE(o.sent(-k16, k16));
    EXPECT_FALSE(o.sent(3 * k16, k16)) << "past the end: ignored";
    EXPECT_TRUE(o.sent(k16, k16));
}
