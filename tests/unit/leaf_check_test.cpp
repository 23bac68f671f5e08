// Block-level checks of failed v2 pieces (BEP 52 leaf hashes, meta/leaf_check.hpp): the
// leaf request of each piece, leaf hashes proving the piece hash, the bad blocks found,
// and leaf proofs served from one piece matching proofs over the whole file's tree. Files
// of one block, of one piece with padding leaves, and a last piece of one data block.
#include "meta/leaf_check.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "meta/creator.hpp"
#include "meta/piece_hasher.hpp"

namespace pw::meta {
namespace {

namespace fs = std::filesystem;

std::string data(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed * 13) % 251);
    return s;
}

const std::pair<const char*, std::size_t> kFiles[] = {
    {"a.bin", 1000}, {"b.bin", 40000}, {"c.bin", 200000}, {"d.bin", 65536}, {"e.bin", 16384 * 9}};

class LeafCheck : public ::testing::TestWithParam<Format> {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("pw-leaf-check-" + std::to_string(::getpid()));
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
    }
    void TearDown() override { fs::remove_all(root_); }

    // The bytes of a piece as downloaded: its file's data, then zeros (hybrid padding).
    std::string piece_bytes(int piece) const {
        const V2Span* s = span_of_piece(m_, piece);
        const std::string& f = contents_[file_index(s->file)];
        auto at = static_cast<std::size_t>(std::int64_t(piece - s->first_piece) * m_.piece_length);
        std::string out = f.substr(at, static_cast<std::size_t>(m_.piece_length));
        out.resize(static_cast<std::size_t>(m_.piece_size(piece)), '\0');
        return out;
    }
    std::size_t file_index(int file) const {
        // Files of the metainfo in order, pad files (hybrid) skipped.
        std::size_t n = 0;
        for (int i = 0; i < file; ++i)
            if (m_.files[static_cast<std::size_t>(i)].pieces_root != Sha256Digest{}) ++n;
        return n;
    }

    fs::path root_;
    std::vector<std::string> contents_;
    Metainfo m_;
};

TEST_P(LeafCheck, LeafHashesProveEachPieceAndFindTheBadBlock) {
    ASSERT_EQ(m_.v2_spans.size(), 5u);
    int checked = 0;
    for (int piece = 0; piece < m_.num_pieces(); ++piece) {
        const V2Span* s = span_of_piece(m_, piece);
        if (!s) continue;  // a hybrid's pad-only piece cannot happen, files start pieces
        std::string bytes = piece_bytes(piece);
        ASSERT_TRUE(piece_matches(m_, piece, bytes)) << piece;
        auto req = leaf_request(m_, piece);
        if (s->length <= 16384) {  // one leaf: the piece hash is the block's own
            EXPECT_FALSE(req) << piece;
            continue;
        }
        ASSERT_TRUE(req) << piece;
        EXPECT_EQ(req->pieces_root, m_.files[static_cast<std::size_t>(s->file)].pieces_root);
        const std::uint32_t per = s->length > m_.piece_length ? 4u
                                  : static_cast<std::uint32_t>(next_pow2((s->length + 16383) / 16384));
        EXPECT_EQ(req->length, per);
        EXPECT_EQ(req->index, static_cast<std::uint32_t>(piece - s->first_piece) * per);
        EXPECT_EQ(req->proof_layers, static_cast<std::uint32_t>(log2_exact(per) - 1));
        auto leaves = piece_leaf_hashes(m_, piece, bytes);
        ASSERT_EQ(leaves.size(), per);
        EXPECT_TRUE(leaves_prove_piece(m_, piece, leaves));
        EXPECT_TRUE(bad_blocks(m_, piece, bytes, leaves).empty());
        // Leaves past the file's end are zero hashes.
        const auto data_blocks = static_cast<std::size_t>((m_.v2_piece(piece).data_len + 16383) / 16384);
        for (std::size_t i = data_blocks; i < leaves.size(); ++i) EXPECT_EQ(leaves[i], Sha256Digest{});
        // A wrong leaf, a missing one, or one too many does not prove the piece.
        auto wrong = leaves;
        wrong.back().bytes[5] ^= 1;
        EXPECT_FALSE(leaves_prove_piece(m_, piece, wrong));
        EXPECT_FALSE(leaves_prove_piece(m_, piece, std::span(leaves).first(leaves.size() - 1)));
        // Each corrupted block, alone, is the one found (the last byte of the data part).
        for (std::size_t b = 0; b < data_blocks; ++b) {
            std::string bad = bytes;
            const auto end = std::min<std::size_t>((b + 1) * 16384, static_cast<std::size_t>(m_.v2_piece(piece).data_len));
            bad[end - 1] = static_cast<char>(~bad[end - 1]);
            EXPECT_EQ(bad_blocks(m_, piece, bad, leaves), std::vector<int>{static_cast<int>(b)}) << piece;
        }
        // Two bad blocks at once.
        if (data_blocks >= 2) {
            std::string bad = bytes;
            bad[0] ^= 1;
            bad[16384] ^= 1;
            EXPECT_EQ(bad_blocks(m_, piece, bad, leaves), (std::vector<int>{0, 1}));
        }
        // Hybrid padding (BEP 47) in the piece must be zeros: a non-zero pad byte is bad.
        if (bytes.size() > static_cast<std::size_t>(m_.v2_piece(piece).data_len)) {
            std::string bad = bytes;
            bad.back() = 1;
            EXPECT_EQ(bad_blocks(m_, piece, bad, leaves),
                      std::vector<int>{static_cast<int>((bytes.size() - 1) / 16384)});
        }
        ++checked;
    }
    EXPECT_EQ(checked, 1 + 4 + 1 + 3);  // b, c (4 pieces), d, e (3 pieces); not a (one leaf)
}

TEST_P(LeafCheck, LeafProofOfOnePieceEqualsTheWholeTreeProof) {
    for (const auto& s : m_.v2_spans) {
        const std::string& f = contents_[file_index(s.file)];
        const auto per = static_cast<std::uint64_t>(piece_leaves(s.length, m_.piece_length));
        if (per < 2) continue;
        const MerkleTree whole(leaf_hashes(f), 0);
        std::optional<MerkleTree> upper;
        if (s.num_pieces > 1)
            upper.emplace(std::span(m_.piece_hashes_v2).subspan(static_cast<std::size_t>(s.first_piece),
                                                                 static_cast<std::size_t>(s.num_pieces)),
                          log2_exact(per));
        ASSERT_EQ(whole.root(), m_.files[static_cast<std::size_t>(s.file)].pieces_root);
        int compared = 0;
        for (int i = 0; i < s.num_pieces; ++i) {
            auto leaves = piece_leaf_hashes(m_, s.first_piece + i, piece_bytes(s.first_piece + i));
            for (std::uint64_t count = 2; count <= per; count *= 2)
                for (std::uint64_t index = i * per; index < (i + 1) * per; index += count)
                    for (int proof = 0; proof < whole.root_level() + 1; ++proof) {
                        auto want = merkle_proof(whole, 0, index, count, proof);
                        auto got = leaf_proof(leaves, upper ? &*upper : nullptr,
                                              static_cast<std::uint64_t>(i), per, index, count, proof);
                        ASSERT_EQ(want.has_value(), got.has_value()) << s.file << " " << index << " " << proof;
                        if (!want) continue;
                        EXPECT_EQ(*want, *got);
                        EXPECT_TRUE(merkle_verify(whole.root(), whole.root_level(), 0, index, count, *got)
                                    == (static_cast<int>(got->size() - count) + log2_exact(count) == whole.root_level()));
                        ++compared;
                    }
            // Runs outside this piece are refused.
            EXPECT_FALSE(leaf_proof(leaves, upper ? &*upper : nullptr, static_cast<std::uint64_t>(i), per,
                                    (i + 1) * per, 2, 0));
        }
        EXPECT_GT(compared, 0);
    }
}

// Every base-0 request for every file: the serving plan takes what the whole tree can
// prove (and covers a piece of the file), the proof built from the leaves of the pieces
// the plan names (zero leaves for padding pieces) equals the whole tree's, and a run of
// padding pieces only is refused. Pieces given that do not hold the run are refused too.
TEST_P(LeafCheck, LeafRunsAcrossPiecesEqualTheWholeTreeProof) {
    int across = 0, padded = 0;
    for (const auto& s : m_.v2_spans) {
        const std::string& f = contents_[file_index(s.file)];
        const auto per = static_cast<std::uint64_t>(piece_leaves(s.length, m_.piece_length));
        const MerkleTree whole(leaf_hashes(f), 0);
        ASSERT_EQ(whole.root(), m_.files[static_cast<std::size_t>(s.file)].pieces_root);
        std::optional<MerkleTree> upper;
        if (s.num_pieces > 1)
            upper.emplace(std::span(m_.piece_hashes_v2).subspan(static_cast<std::size_t>(s.first_piece),
                                                                 static_cast<std::size_t>(s.num_pieces)),
                          log2_exact(per));
        const std::uint64_t width = whole.width(0);
        for (std::uint64_t count = 2; count <= 2 * width; count *= 2)
            for (std::uint64_t index = 0; index < 2 * width; index += count)
                for (int proof = 0; proof <= whole.root_level(); ++proof) {
                    auto plan = leaf_serve_plan(m_, s, index, count, proof);
                    auto want = per >= 2 ? merkle_proof(whole, 0, index, count, proof) : std::nullopt;
                    const bool only_padding =
                        per >= 2 && index / per >= static_cast<std::uint64_t>(s.num_pieces);
                    ASSERT_EQ(plan.has_value(), want.has_value() && !only_padding)
                        << s.file << " " << index << " " << count << " " << proof;
                    if (!plan) continue;
                    EXPECT_EQ(plan->leaves_per_piece, per);
                    EXPECT_EQ(plan->first_in_file, index / per);
                    EXPECT_EQ(plan->run_pieces, std::max<std::uint64_t>(1, count / per));
                    EXPECT_EQ(plan->first_piece, s.first_piece + static_cast<int>(index / per));
                    std::vector<Sha256Digest> leaves;
                    for (int i = 0; i < plan->read_pieces; ++i) {
                        auto l = piece_leaf_hashes(m_, plan->first_piece + i, piece_bytes(plan->first_piece + i));
                        ASSERT_TRUE(leaves_prove_piece(m_, plan->first_piece + i, l));
                        leaves.insert(leaves.end(), l.begin(), l.end());
                    }
                    if (static_cast<std::uint64_t>(plan->read_pieces) < plan->run_pieces) ++padded;
                    leaves.resize(static_cast<std::size_t>(plan->run_pieces * per), Sha256Digest{});
                    auto got = leaf_proof(leaves, upper ? &*upper : nullptr, plan->first_in_file, per,
                                          index, count, proof);
                    ASSERT_TRUE(got) << s.file << " " << index << " " << count << " " << proof;
                    EXPECT_EQ(*got, *want);
                    if (count > per) ++across;
                    // The same leaves given as a run of pieces starting elsewhere do not hold it.
                    if (plan->run_pieces * 2 <= (upper ? upper->width(log2_exact(per)) : 1)) {
                        EXPECT_FALSE(leaf_proof(leaves, &*upper, plan->first_in_file ^ plan->run_pieces, per,
                                                index, count, proof));
                    }
                }
    }
    EXPECT_GT(across, 0);
    EXPECT_GT(padded, 0);
}

// Runs longer than kMaxLeafRun leaves across pieces are not served; inside one piece the
// piece's own leaf count is the limit.
TEST(LeafServePlan, LongRunsAcrossPiecesAreRefused) {
    Metainfo m;
    m.piece_length = 64 << 10;  // 4 leaves per piece
    V2Span s;
    s.length = std::int64_t{4096} * (64 << 10);  // 4096 pieces: 16384 leaves, root level 14
    s.num_pieces = 4096;
    for (std::uint64_t count : {std::uint64_t{512}, std::uint64_t{1024}, std::uint64_t{8192}}) {
        auto plan = leaf_serve_plan(m, s, 0, count, 10);
        EXPECT_EQ(plan.has_value(), count <= kMaxLeafRun) << count;
    }
    m.piece_length = 16 << 20;  // 1024 leaves per piece: a run of 1024 lies in one piece
    s.length = std::int64_t{4} * (16 << 20);
    s.num_pieces = 4;
    auto in_piece = leaf_serve_plan(m, s, 2048, 1024, 3);
    ASSERT_TRUE(in_piece);
    EXPECT_EQ(in_piece->first_in_file, 2u);
    EXPECT_EQ(in_piece->read_pieces, 1);
    EXPECT_FALSE(leaf_serve_plan(m, s, 0, 2048, 3));
}

INSTANTIATE_TEST_SUITE_P(Formats, LeafCheck, ::testing::Values(Format::v2, Format::hybrid),
                         [](const auto& info) { return std::string(format_name(info.param)); });

}  // namespace
}  // namespace pw::meta
