// Streaming focus: read-ahead sizing, the interleaved focus list, and the picker taking
// focused pieces before rarer or higher-priority ones.
#include "swarm/stream_window.hpp"

#include <gtest/gtest.h>

#include "swarm/piece_picker.hpp"

using namespace pw::swarm;

TEST(StreamWindow, ReadaheadFollowsTheRate) {
    constexpr std::int64_t MiB = 1 << 20;
    EXPECT_EQ(readahead_bytes(0, 256 << 10), min_readahead);
    EXPECT_EQ(readahead_bytes(1 * MiB, 256 << 10), 10 * MiB);
    EXPECT_EQ(readahead_bytes(1e12, 256 << 10), max_readahead);
    EXPECT_EQ(readahead_bytes(0, 16 * MiB), 32 * MiB);  // at least two pieces
    EXPECT_EQ(readahead_bytes(-5, 0), min_readahead);
}

TEST(StreamWindow, FocusIsInOrderAndClipped) {
    // Pieces of 100 bytes, 1000 bytes in all: [250, 520) covers pieces 2..5.
    EXPECT_EQ(focus_pieces({{250, 520}}, 100, 1000), (std::vector<int>{2, 3, 4, 5}));
    EXPECT_EQ(focus_pieces({{950, 5000}}, 100, 1000), (std::vector<int>{9}));
    EXPECT_TRUE(focus_pieces({{1000, 2000}}, 100, 1000).empty());
    EXPECT_TRUE(focus_pieces({{-50, 0}}, 100, 1000).empty());
    EXPECT_TRUE(focus_pieces({{10, 5}}, 100, 1000).empty());
    EXPECT_TRUE(focus_pieces({{0, 100}}, 0, 1000).empty());
}

TEST(StreamWindow, SeveralReadersInterleave) {
    auto f = focus_pieces({{0, 300}, {700, 1000}, {100, 200}}, 100, 1000);
    // Each reader's next piece first; piece 1 appears once.
    EXPECT_EQ(f, (std::vector<int>{0, 7, 1, 8, 2, 9}));
}

TEST(StreamWindow, EachReaderIsCapped) {
    std::int64_t total = std::int64_t(10 * max_focus_per_stream) * 16;
    auto f = focus_pieces({{0, total}}, 16, total);
    ASSERT_EQ(static_cast<int>(f.size()), max_focus_per_stream);
    EXPECT_EQ(f.back(), max_focus_per_stream - 1);
}

TEST(PiecePickerFocus, FocusComesFirst) {
    PiecePicker p(20, 7);
    Bitfield all(20, true);
    for (int i = 0; i < 20; ++i)
        for (int k = 0; k < (i == 3 ? 1 : 5); ++k) p.inc(i);
    p.set_priority(11, 7);
    EXPECT_EQ(p.pick(all, false), 11);  // high priority first
    auto e = p.epoch();
    p.set_focus({15, 16});
    EXPECT_GT(p.epoch(), e);  // peers that found nothing look again
    EXPECT_EQ(p.pick(all, false), 15);
    p.remove(15);  // started: the next focused one
    EXPECT_EQ(p.pick(all, false), 16);
    Bitfield some(20);
    some.set(3);
    some.set(11);
    EXPECT_EQ(p.pick(some, false), 11);         // the peer lacks 16: the usual order
    EXPECT_EQ(p.pick(Bitfield(20), true), 16);  // a seed has it
    p.set_priority(16, 0);                      // skipped: never picked, focus or not
    EXPECT_EQ(p.pick(all, false), 11);
    p.set_focus({});
    EXPECT_EQ(p.pick(all, false), 11);
}

TEST(PiecePickerFocus, SequentialModeToo) {
    PiecePicker p(10, 1);
    p.set_sequential(true);
    Bitfield all(10, true);
    EXPECT_EQ(p.pick(all, false), 0);
    p.set_focus({9, 8});
    EXPECT_EQ(p.pick(all, false), 9);
}
