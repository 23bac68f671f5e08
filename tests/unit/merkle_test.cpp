// BEP 52 Merkle helpers against roots computed by libtorrent 2.0.8 (lt.create_torrent with
// v2_only) for files of data(n, seed)[i] = (7 i + 13 seed) % 251.
#include "meta/merkle.hpp"

#include <gtest/gtest.h>

namespace pw::meta {
namespace {

std::string data(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed * 13) % 251);
    return s;
}

struct Vector {
    std::size_t size;
    int seed;
    std::int64_t piece;
    const char* root;
};

// From tests/unit/data/v2/multi_v2.torrent (32 KiB pieces) and single_v2.torrent (16 KiB).
const Vector kVectors[] = {
    {1000, 1, 32768, "ef15a258b533a53fc637ade076404bbabb723a313303cbcc69618e4527b9c483"},
    {16384, 2, 32768, "d6482ccb400387106428853dccec89b86358b7e51b4c682ec48ed34f2b97eca5"},
    {40000, 3, 32768, "d6255c7e0e57f91e811c1a2d7e29859778c2aaa8d687d2beda546bdc8afbab10"},
    {100000, 4, 32768, "c0b96a51629db0de03f07c0c8251c717091e580a2d396ced78b4730642354593"},
    {65536, 5, 32768, "d6167aed6558aeb53cf957ff1db26a7bb2974c1030ec29954603938598ee6e36"},
    {50000, 3, 16384, "5fd1cec578449e16cf7a95a7de073f339f6909548ce79a3715b90112e2b323e2"},
};

TEST(Merkle, FileRootsMatchLibtorrent) {
    for (const auto& v : kVectors) {
        auto leaves = leaf_hashes(data(v.size, v.seed));
        EXPECT_EQ(file_root(leaves, v.piece).hex(), v.root) << v.size;
    }
}

TEST(Merkle, RootFromPieceLayerEqualsRootFromLeaves) {
    for (const auto& v : kVectors) {
        auto leaves = leaf_hashes(data(v.size, v.seed));
        if (static_cast<std::int64_t>(v.size) <= v.piece) continue;
        auto layer = piece_layer(leaves, v.piece);
        EXPECT_EQ(layer.size(), (v.size + v.piece - 1) / v.piece);
        EXPECT_EQ(root_from_layer(layer, v.piece).hex(), v.root);
    }
}

TEST(Merkle, StreamingHasherGivesEachPieceHash) {
    for (const auto& v : kVectors) {
        std::string d = data(v.size, v.seed);
        auto layer = piece_layer(leaf_hashes(d), v.piece);
        std::int64_t leaves = piece_leaves(static_cast<std::int64_t>(v.size), v.piece);
        for (std::size_t p = 0; p * v.piece < v.size; ++p) {
            std::string_view piece = std::string_view(d).substr(p * v.piece, v.piece);
            MerkleHasher h(static_cast<std::int64_t>(piece.size()), leaves);
            // Odd chunk sizes, then trailing bytes (a hybrid's padding) that must be ignored.
            for (std::size_t at = 0; at < piece.size(); at += 1000)
                h.update(piece.data() + at, std::min<std::size_t>(1000, piece.size() - at));
            std::string zeros(100, '\0');
            h.update(zeros.data(), zeros.size());
            Sha256Digest want = static_cast<std::int64_t>(v.size) <= v.piece
                                    ? file_root(leaf_hashes(d), v.piece)
                                    : layer[p];
            EXPECT_EQ(h.finish(), want) << v.size << " piece " << p;
        }
    }
}

TEST(Merkle, PadHashesAreZeroSubtrees) {
    Sha256Digest zero{};
    EXPECT_EQ(merkle_pad(0), zero);
    EXPECT_EQ(merkle_pad(1), crypto::sha256(std::string(64, '\0')));
    EXPECT_EQ(merkle_pad(2), merkle_parent(merkle_pad(1), merkle_pad(1)));
    std::vector<Sha256Digest> one{crypto::sha256("x")};
    // Padding a layer to a wider tree uses the pads of the layer's level.
    EXPECT_EQ(merkle_root(one, 4, 1),
              merkle_parent(merkle_parent(one[0], merkle_pad(1)), merkle_pad(2)));
    EXPECT_EQ(merkle_root(one, 1, 0), one[0]);
}

TEST(Merkle, PieceLeaves) {
    EXPECT_EQ(piece_leaves(1, 1 << 20), 1);
    EXPECT_EQ(piece_leaves(16385, 1 << 20), 2);
    EXPECT_EQ(piece_leaves(40000, 1 << 20), 4);
    EXPECT_EQ(piece_leaves(40000, 32768), 2);
    EXPECT_EQ(next_pow2(0), 1u);
    EXPECT_EQ(next_pow2(5), 8u);
    EXPECT_EQ(log2_exact(64), 6);
}

}  // namespace
}  // namespace pw::meta
