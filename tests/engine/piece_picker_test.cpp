#include "swarm/piece_picker.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "swarm/choker.hpp"

using pw::swarm::Bitfield;
using pw::swarm::PiecePicker;

namespace {

// Reference: the rarest availability among candidates the peer has.
int rarest(const PiecePicker& p, const Bitfield& has, const std::vector<bool>& candidate) {
    int best = -1;
    for (int i = 0; i < p.num_pieces(); ++i)
        if (candidate[i] && has.get(i) && (best < 0 || p.availability(i) < p.availability(best))) best = i;
    return best < 0 ? -1 : p.availability(best);
}

}  // namespace

TEST(PiecePicker, PicksRarestFirst) {
    PiecePicker p(10, 1);
    Bitfield all(10, true);
    for (int i = 0; i < 10; ++i)
        for (int k = 0; k < (i == 7 ? 1 : 3); ++k) p.inc(i);
    EXPECT_EQ(p.pick(all, false), 7);
    p.remove(7);
    EXPECT_NE(p.pick(all, false), 7);
    EXPECT_EQ(p.num_candidates(), 9);
}

TEST(PiecePicker, OnlyPiecesThePeerHas) {
    PiecePicker p(8, 2);
    Bitfield has(8);
    has.set(5);
    EXPECT_EQ(p.pick(has, false), 5);
    Bitfield none(8);
    EXPECT_EQ(p.pick(none, false), -1);
    EXPECT_GE(p.pick(none, true), 0);  // a seed has everything
}

TEST(PiecePicker, RandomTieBreakSpreadsPicks) {
    std::set<int> firsts;
    Bitfield all(100, true);
    for (std::uint64_t seed = 0; seed < 20; ++seed) firsts.insert(PiecePicker(100, seed).pick(all, true));
    EXPECT_GT(firsts.size(), 10u);
}

TEST(PiecePicker, MatchesReferenceUnderRandomOperations) {
    std::mt19937 rng(7);
    const int n = 300;
    PiecePicker p(n, 3);
    std::vector<bool> candidate(n, true);
    std::vector<int> count(n, 0);
    for (int step = 0; step < 20000; ++step) {
        int piece = static_cast<int>(rng() % n);
        switch (rng() % 5) {
            case 0:
            case 1:
                p.inc(piece);
                ++count[piece];
                break;
            case 2:
                if (count[piece] > 0) {
                    p.dec(piece);
                    --count[piece];
                }
                break;
            case 3:
                p.remove(piece);
                candidate[piece] = false;
                break;
            case 4:
                p.add(piece);
                candidate[piece] = true;
                break;
        }
        if (step % 50 == 0) {
            Bitfield has(n);
            for (int i = 0; i < n; ++i)
                if (rng() % 3 == 0) has.set(i);
            int got = p.pick(has, false);
            int want = rarest(p, has, candidate);
            if (want < 0) {
                EXPECT_EQ(got, -1);
            } else {
                ASSERT_GE(got, 0);
                EXPECT_TRUE(candidate[got]);
                EXPECT_TRUE(has.get(got));
                EXPECT_EQ(p.availability(got), want) << "step " << step;
            }
            int cands = 0;
            for (bool c : candidate) cands += c;
            EXPECT_EQ(p.num_candidates(), cands);
            for (int i = 0; i < n; ++i) EXPECT_EQ(p.availability(i), count[i]);
        }
    }
}

TEST(Bitfield, WireRoundTripAndSpareBits) {
    Bitfield b(10);
    b.set(0);
    b.set(9);
    EXPECT_EQ(b.count(), 2);
    Bitfield c(10);
    EXPECT_TRUE(c.assign_wire(b.wire()));
    EXPECT_TRUE(c.get(0) && c.get(9) && !c.get(5));
    EXPECT_FALSE(c.assign_wire(std::string("\xff\xff", 2)));  // spare bits set
    EXPECT_FALSE(c.assign_wire(std::string("\xff", 1)));      // wrong length
}

TEST(Choker, UnchokesFastestPlusOneOptimistic) {
    pw::swarm::Choker ch(3, 1);
    std::vector<pw::swarm::ChokeCandidate> peers;
    for (int i = 0; i < 6; ++i) peers.push_back({i, true, false, double(i * 100), 0, false});
    peers.push_back({99, false, false, 1e9, 0, false});  // not interested: never unchoked
    auto out = ch.rechoke(peers, false);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], 5);
    EXPECT_EQ(out[1], 4);
    EXPECT_TRUE(out[2] >= 0 && out[2] <= 3);
    EXPECT_EQ(std::count(out.begin(), out.end(), 99), 0);
}

TEST(Choker, SeedingRanksByUploadRate) {
    pw::swarm::Choker ch(2, 1);
    std::vector<pw::swarm::ChokeCandidate> peers = {{1, true, false, 0, 10, false},
                                                     {2, true, false, 0, 500, false},
                                                     {3, true, false, 0, 20, false}};
    auto out = ch.rechoke(peers, true);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], 2);
}
