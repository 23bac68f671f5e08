// File priorities -> piece priorities, wanted totals, and the picker's priority and
// sequential orders.
#include "swarm/file_priority.hpp"

#include <gtest/gtest.h>

#include <random>

#include "swarm/piece_picker.hpp"

using namespace pw::swarm;

namespace {
// Files of 10, 25, 5, 0, 20 bytes with 10-byte pieces: pieces 0 | 1 2 3(25..34: file1+file2)
// | file2 ends at 40 | empty | file4 40..60 -> pieces 4, 5.
std::vector<FileSpan> layout() {
    return {{0, 10, false}, {10, 25, false}, {35, 5, false}, {40, 0, false}, {40, 20, false}};
}
}  // namespace

TEST(FilePriority, FilePieces) {
    auto f = layout();
    EXPECT_EQ(file_pieces(f[0], 10).first, 0);
    EXPECT_EQ(file_pieces(f[0], 10).last, 0);
    EXPECT_EQ(file_pieces(f[1], 10).first, 1);
    EXPECT_EQ(file_pieces(f[1], 10).last, 3);
    EXPECT_EQ(file_pieces(f[2], 10).first, 3);
    EXPECT_EQ(file_pieces(f[2], 10).last, 3);
    auto empty = file_pieces(f[3], 10);
    EXPECT_GT(empty.first, empty.last);
    EXPECT_GT(file_pieces({0, 10, true}, 10).first, file_pieces({0, 10, true}, 10).last);
}

TEST(FilePriority, BoundaryPieceTakesTheHighestPriority) {
    auto f = layout();
    auto pp = piece_priorities(f, {0, 1, 7, 4, 0}, 10, 6);
    EXPECT_EQ(pp, (std::vector<std::uint8_t>{0, 1, 1, 7, 0, 0}));
    // Only file 2 wanted: the boundary piece 3 (shared with unwanted file 1) is wanted.
    pp = piece_priorities(f, {0, 0, 4, 0, 0}, 10, 6);
    EXPECT_EQ(pp, (std::vector<std::uint8_t>{0, 0, 0, 4, 0, 0}));
    // Missing entries are normal; out-of-range values are clamped.
    pp = piece_priorities(f, {99}, 10, 6);
    EXPECT_EQ(pp, (std::vector<std::uint8_t>{7, 4, 4, 4, 4, 4}));
}

TEST(FilePriority, PadFilesNeverMakeAPieceWanted) {
    std::vector<FileSpan> f{{0, 5, false}, {5, 5, true}, {10, 10, false}};
    auto norm = normalise_priorities(f, {0, 4});
    EXPECT_EQ(norm, (std::vector<int>{0, 0, 4}));
    EXPECT_EQ(piece_priorities(f, norm, 10, 2), (std::vector<std::uint8_t>{0, 4}));
    EXPECT_EQ(normalise_priorities(f, {-3, 9, 2}), (std::vector<int>{0, 0, 2}));
}

TEST(FilePriority, WantedTotals) {
    auto f = layout();
    auto pp = piece_priorities(f, {0, 0, 4, 0, 4}, 10, 6);  // pieces 3, 4, 5
    Bitfield have(6);
    auto t = wanted_totals(pp, have, 10, 60);
    EXPECT_EQ(t.size_when_done, 30);
    EXPECT_EQ(t.left_until_done, 30);
    EXPECT_EQ(t.wanted_pieces, 3);
    have.set(5);
    have.set(0);  // had but unwanted: not counted
    t = wanted_totals(pp, have, 10, 60);
    EXPECT_EQ(t.left_until_done, 20);
    EXPECT_EQ(t.wanted_left_pieces, 2);
    // A short last piece counts its real size.
    t = wanted_totals(pp, Bitfield(6), 10, 55);
    EXPECT_EQ(t.size_when_done, 25);
}

TEST(FilePriority, FileBytesDone) {
    auto f = layout();
    Bitfield have(6);
    have.set(3);
    EXPECT_EQ(file_bytes_done(f[1], have, 10), 5);
    EXPECT_EQ(file_bytes_done(f[2], have, 10), 5);
    EXPECT_EQ(file_bytes_done(f[0], have, 10), 0);
    EXPECT_EQ(file_bytes_done(f[3], have, 10), 0);
}

TEST(PiecePickerPriority, SkippedPiecesAreNeverPicked) {
    PiecePicker p(10, 1);
    Bitfield all(10, true);
    for (int i = 0; i < 10; ++i)
        if (i != 6) p.set_priority(i, 0);
    EXPECT_EQ(p.num_candidates(), 1);
    EXPECT_EQ(p.pick(all, false), 6);
    EXPECT_EQ(p.pick(all, true), 6);
    p.remove(6);
    EXPECT_EQ(p.pick(all, true), -1);
    p.add(3);  // priority 0: ignored
    EXPECT_FALSE(p.is_candidate(3));
    p.set_priority(3, 4);
    p.add(3);
    EXPECT_EQ(p.pick(all, false), 3);
}

TEST(PiecePickerPriority, HigherPriorityFirstThenRarest) {
    PiecePicker p(10, 5);
    Bitfield all(10, true);
    for (int i = 0; i < 10; ++i)
        for (int k = 0; k < (i == 2 ? 1 : 3); ++k) p.inc(i);
    EXPECT_EQ(p.pick(all, false), 2);  // rarest
    p.set_priority(8, 7);
    p.set_priority(9, 7);
    p.inc(9);
    EXPECT_EQ(p.pick(all, false), 8);  // high first; rarer of the two high ones
    p.remove(8);
    EXPECT_EQ(p.pick(all, true), 9);
    Bitfield no9(10, true);
    no9.clear(9);
    EXPECT_EQ(p.pick(no9, false), 2);  // the peer lacks the high piece: rarest normal
    p.set_priority(1, 1);
    p.remove(9);
    EXPECT_EQ(p.pick(all, false), 2);
    for (int i = 0; i < 10; ++i)
        if (i != 1) p.remove(i);
    EXPECT_EQ(p.pick(all, false), 1);  // low still fetched once nothing else is left
}

TEST(PiecePickerPriority, SequentialTakesTheLowestIndex) {
    PiecePicker p(20, 9);
    Bitfield all(20, true);
    for (int i = 0; i < 20; ++i)
        for (int k = 0; k < (i == 15 ? 1 : 3); ++k) p.inc(i);
    std::uint64_t e = p.epoch();
    p.set_sequential(true);
    EXPECT_NE(p.epoch(), e);
    EXPECT_EQ(p.pick(all, false), 0);
    p.remove(0);
    p.remove(1);
    EXPECT_EQ(p.pick(all, true), 2);
    Bitfield some(20);
    some.set(7);
    some.set(12);
    EXPECT_EQ(p.pick(some, false), 7);
    p.set_priority(12, 7);
    EXPECT_EQ(p.pick(some, false), 12);  // priority before order
    p.add(0);
    EXPECT_EQ(p.pick(all, false), 12);
    p.set_priority(12, 4);
    EXPECT_EQ(p.pick(all, false), 0);  // the hint moved back for the re-added piece
    p.set_sequential(false);
    EXPECT_EQ(p.pick(all, false), 15);  // rarest again
}

TEST(PiecePickerPriority, MatchesReferenceUnderRandomOperations) {
    std::mt19937 rng(11);
    const int n = 200;
    PiecePicker p(n, 4);
    std::vector<bool> cand(n, true);
    std::vector<int> prio(n, 4), avail(n, 0);
    for (int step = 0; step < 20000; ++step) {
        int piece = static_cast<int>(rng() % n);
        switch (rng() % 6) {
            case 0:
                p.inc(piece);
                ++avail[piece];
                break;
            case 1:
                if (avail[piece] > 0) {
                    p.dec(piece);
                    --avail[piece];
                }
                break;
            case 2:
                p.remove(piece);
                cand[piece] = false;
                break;
            case 3:
                p.add(piece);
                if (prio[piece] > 0) cand[piece] = true;
                break;
            case 4: {
                int np = static_cast<int>(rng() % 8);
                p.set_priority(piece, np);
                prio[piece] = np;
                if (np == 0) cand[piece] = false;
                break;
            }
            case 5:
                p.set_sequential(rng() % 2);
                break;
        }
        Bitfield has(n);
        for (int i = 0; i < n; ++i)
            if (rng() % 3 == 0) has.set(i);
        int got = p.pick(has, false);
        int best = -1;
        for (int i = 0; i < n; ++i) {
            if (!cand[i] || !has.get(i)) continue;
            if (best < 0 || prio[i] > prio[best])
                best = i;
            else if (prio[i] == prio[best] && !p.sequential() && avail[i] < avail[best])
                best = i;
        }
        if (best < 0) {
            ASSERT_EQ(got, -1);
            continue;
        }
        ASSERT_GE(got, 0);
        ASSERT_TRUE(cand[got]);
        ASSERT_EQ(prio[got], prio[best]);
        if (p.sequential())
            ASSERT_EQ(got, best);
        else
            ASSERT_EQ(avail[got], avail[best]);
        int count = 0;
        for (int i = 0; i < n; ++i) count += cand[i];
        ASSERT_EQ(p.num_candidates(), count);
    }
}
