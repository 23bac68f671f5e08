// What is known of a failed v2/hybrid piece without asking a peer (meta/local_leaves.hpp):
// a piece of one data block, a data part that matches the piece hash (only hybrid padding
// bad), leaves proven before; and that everything else is left to a peer's leaf hashes.
// The bounded store of proven leaves.
#include "meta/local_leaves.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "meta/creator.hpp"

namespace pw::meta {
namespace {

namespace fs = std::filesystem;

std::string data(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 11 + seed * 17) % 253);
    return s;
}

// a: one block in a piece of its own; c: four pieces, the last of one data block.
const std::pair<const char*, std::size_t> kFiles[] = {{"a.bin", 1000}, {"c.bin", 200000}};

class LocalLeaves : public ::testing::TestWithParam<Format> {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("pw-local-leaves-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        int seed = 0;
        for (auto [name, size] : kFiles) {
            fs::path p = root_ / "t" / name;
            fs::create_directories(p.parent_path());
            std::string d = data(size, seed++);
            contents_.push_back(d);
            std::ofstream(p, std::ios::binary).write(d.data(), static_cast<std::streamsize>(d.size()));
        }
        CreateOptions o;
        o.piece_size = 64 << 10;  // 4 leaves per piece
        o.creation_date = 0;
        o.format = GetParam();
        m_ = parse(create_torrent(root_ / "t", o));
        ASSERT_EQ(m_.v2_spans.size(), 2u);
    }
    void TearDown() override { fs::remove_all(root_); }

    // The bytes of a piece as sent by honest peers: file data, then zeros (hybrid padding).
    std::string piece_bytes(int piece) const {
        const V2Span* s = span_of_piece(m_, piece);
        const std::string& f = contents_[s == &m_.v2_spans[0] ? 0 : 1];
        auto at = static_cast<std::size_t>(std::int64_t(piece - s->first_piece) * m_.piece_length);
        std::string out = f.substr(at, static_cast<std::size_t>(m_.piece_length));
        out.resize(static_cast<std::size_t>(m_.piece_size(piece)), '\0');
        return out;
    }
    bool hybrid() const { return GetParam() == Format::hybrid; }

    fs::path root_;
    std::vector<std::string> contents_;
    Metainfo m_;
};

TEST_P(LocalLeaves, OneDataBlockIsPinnedByThePieceHash) {
    // a.bin's piece, and c.bin's last piece: one block of data each.
    for (int piece : {m_.v2_spans[0].first_piece, m_.v2_spans[1].first_piece + 3}) {
        std::string bytes = piece_bytes(piece);
        auto good = received_leaves(m_, piece, bytes);
        ASSERT_EQ(good.leaves.size(), 1u) << piece;
        EXPECT_TRUE(good.data_matches);
        bytes[10] ^= 1;
        auto v = local_verdict(received_leaves(m_, piece, bytes), {});
        EXPECT_EQ(v.kind, LocalVerdict::Kind::blocks) << piece;
        EXPECT_EQ(v.bad, std::vector<int>{0});
        EXPECT_EQ(v.leaf_differs, std::vector<int>{0});
        if (hybrid()) {
            // The hybrid's piece runs on in padding: a non-zero pad byte too.
            ASSERT_EQ(bytes.size(), static_cast<std::size_t>(m_.piece_length));
            bytes.back() = 7;
            v = local_verdict(received_leaves(m_, piece, bytes), {});
            EXPECT_EQ(v.kind, LocalVerdict::Kind::blocks);
            EXPECT_EQ(v.bad, (std::vector<int>{0, 3}));
            EXPECT_EQ(v.leaf_differs, std::vector<int>{0});  // block 3: padding only
        }
    }
}

TEST_P(LocalLeaves, MatchingDataLeavesOnlyPaddingToBlame) {
    const int piece = m_.v2_spans[0].first_piece;
    std::string bytes = piece_bytes(piece);
    auto got = received_leaves(m_, piece, bytes);
    ASSERT_TRUE(got.data_matches);
    // Nothing wrong that the leaves can see: the v1 half disagrees (whole-piece blame).
    EXPECT_EQ(local_verdict(got, {}).kind, LocalVerdict::Kind::data_sound);
    if (!hybrid()) return;
    bytes[20000] = 1;  // block 1: padding only
    bytes[1000] = 1;   // block 0: the first pad byte after the data
    got = received_leaves(m_, piece, bytes);
    EXPECT_TRUE(got.data_matches);
    auto v = local_verdict(got, {});
    EXPECT_EQ(v.kind, LocalVerdict::Kind::blocks);
    EXPECT_EQ(v.bad, (std::vector<int>{0, 1}));
    EXPECT_TRUE(v.leaf_differs.empty());  // block 0's data is right, its padding is not
}

TEST_P(LocalLeaves, SeveralDataBlocksNeedLeavesFromAPeerUnlessProvenBefore) {
    const int piece = m_.v2_spans[1].first_piece + 1;  // four full blocks of c.bin
    std::string bytes = piece_bytes(piece);
    const auto leaves = piece_leaf_hashes(m_, piece, bytes);
    ASSERT_TRUE(leaves_prove_piece(m_, piece, leaves));
    bytes[2 * 16384 + 5] ^= 0x40;
    auto got = received_leaves(m_, piece, bytes);
    EXPECT_FALSE(got.data_matches);
    auto v = local_verdict(got, {});
    EXPECT_EQ(v.kind, LocalVerdict::Kind::ask);
    EXPECT_TRUE(v.bad.empty());
    v = local_verdict(got, leaves);
    EXPECT_EQ(v.kind, LocalVerdict::Kind::blocks);
    EXPECT_EQ(v.bad, std::vector<int>{2});
    EXPECT_EQ(v.leaf_differs, std::vector<int>{2});
    // Proven leaves and blocks that all match them: nothing to blame block by block.
    EXPECT_EQ(local_verdict(received_leaves(m_, piece, piece_bytes(piece)), leaves).kind,
              LocalVerdict::Kind::data_sound);
}

INSTANTIATE_TEST_SUITE_P(Formats, LocalLeaves, ::testing::Values(Format::v2, Format::hybrid),
                         [](const auto& info) { return std::string(format_name(info.param)); });

std::vector<Sha256Digest> hashes(std::size_t n, std::uint8_t tag) {
    std::vector<Sha256Digest> out(n);
    for (auto& h : out) h.bytes[0] = tag;
    return out;
}

TEST(ProvenLeaves, KeptUntilErasedOldestDroppedPastTheBound) {
    ProvenLeaves store(16);
    EXPECT_TRUE(store.find(3).empty());
    store.put(3, hashes(4, 3));
    store.put(5, hashes(8, 5));
    ASSERT_EQ(store.find(3).size(), 4u);
    EXPECT_EQ(store.find(3)[0].bytes[0], 3);
    EXPECT_EQ(store.hashes(), 12u);
    // Put again: replaced, not counted twice.
    store.put(3, hashes(4, 33));
    EXPECT_EQ(store.hashes(), 12u);
    EXPECT_EQ(store.find(3)[0].bytes[0], 33);
    // Past the bound the oldest goes (5 now, since 3 was put again after it).
    store.put(7, hashes(8, 7));
    EXPECT_TRUE(store.find(5).empty());
    EXPECT_EQ(store.find(3).size(), 4u);
    EXPECT_EQ(store.find(7).size(), 8u);
    EXPECT_EQ(store.hashes(), 12u);
    EXPECT_EQ(store.pieces(), 2u);
    // More than the bound alone is not kept, and drops nothing.
    store.put(9, hashes(17, 9));
    EXPECT_TRUE(store.find(9).empty());
    EXPECT_EQ(store.pieces(), 2u);
    store.erase(3);
    store.erase(3);
    EXPECT_TRUE(store.find(3).empty());
    EXPECT_EQ(store.hashes(), 8u);
    store.put(11, hashes(8, 11));
    EXPECT_EQ(store.pieces(), 2u);
    EXPECT_EQ(store.hashes(), 16u);
}

}  // namespace
}  // namespace pw::meta
