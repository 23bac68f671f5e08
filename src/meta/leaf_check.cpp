// Block-level checks of a failed v2 piece by its leaf hashes (BEP 52). See leaf_check.hpp.
#include "meta/leaf_check.hpp"

#include <algorithm>

namespace pw::meta {

const V2Span* span_of_piece(const Metainfo& m, int piece) {
    auto it = std::upper_bound(m.v2_spans.begin(), m.v2_spans.end(), piece,
                               [](int p, const V2Span& s) { return p < s.first_piece; });
    if (it == m.v2_spans.begin()) return nullptr;
    --it;
    if (piece >= it->first_piece + it->num_pieces) return nullptr;
    return &*it;
}

std::optional<LeafRequest> leaf_request(const Metainfo& m, int piece) {
    if (piece < 0 || static_cast<std::size_t>(piece) >= m.piece_hashes_v2.size()) return std::nullopt;
    const V2Span* s = span_of_piece(m, piece);
    if (!s) return std::nullopt;
    const std::int64_t per = piece_leaves(s->length, m.piece_length);
    if (per < 2) return std::nullopt;
    const std::int64_t first = std::int64_t(piece - s->first_piece) * per;
    if (first + per > (std::int64_t{1} << 32)) return std::nullopt;  // not addressable
    LeafRequest r;
    r.pieces_root = m.files[static_cast<std::size_t>(s->file)].pieces_root;
    r.index = static_cast<std::uint32_t>(first);
    r.length = static_cast<std::uint32_t>(per);
    r.proof_layers = static_cast<std::uint32_t>(log2_exact(static_cast<std::uint64_t>(per)) - 1);
    return r;
}

bool leaves_prove_piece(const Metainfo& m, int piece, std::span<const Sha256Digest> leaves) {
    auto r = leaf_request(m, piece);
    if (!r || leaves.size() != r->length) return false;
    return merkle_root(leaves, r->length, 0) == m.piece_hashes_v2[static_cast<std::size_t>(piece)];
}

ReceivedLeaves received_leaves(const Metainfo& m, int piece, std::string_view data) {
    const V2PieceShape shape = m.v2_piece(piece);
    const auto data_len = static_cast<std::size_t>(std::min<std::int64_t>(
        shape.data_len, static_cast<std::int64_t>(data.size())));
    ReceivedLeaves got;
    got.leaves = leaf_hashes(data.substr(0, data_len));
    const std::size_t nblocks = (data.size() + kMerkleBlock - 1) / kMerkleBlock;
    got.padding_zero.resize(nblocks, true);
    for (std::size_t i = data_len; i < data.size(); ++i)
        if (data[i] != 0) got.padding_zero[i / kMerkleBlock] = false;
    if (piece >= 0 && static_cast<std::size_t>(piece) < m.piece_hashes_v2.size() && shape.leaves > 0 &&
        got.leaves.size() <= static_cast<std::size_t>(shape.leaves))
        got.data_matches =
            merkle_root(got.leaves, static_cast<std::uint64_t>(shape.leaves), 0) ==
            m.piece_hashes_v2[static_cast<std::size_t>(piece)];
    return got;
}

std::vector<int> bad_blocks(const ReceivedLeaves& got, std::span<const Sha256Digest> leaves) {
    std::vector<int> bad;
    for (std::size_t b = 0; b < got.padding_zero.size(); ++b) {
        bool ok = got.padding_zero[b];
        if (b < got.leaves.size()) ok = ok && b < leaves.size() && got.leaves[b] == leaves[b];
        if (!ok) bad.push_back(static_cast<int>(b));
    }
    return bad;
}

std::vector<int> bad_blocks(const Metainfo& m, int piece, std::string_view data,
                            std::span<const Sha256Digest> leaves) {
    return bad_blocks(received_leaves(m, piece, data), leaves);
}

std::vector<Sha256Digest> piece_leaf_hashes(const Metainfo& m, int piece, std::string_view data) {
    const V2PieceShape shape = m.v2_piece(piece);
    const auto data_len = static_cast<std::size_t>(std::min<std::int64_t>(
        shape.data_len, static_cast<std::int64_t>(data.size())));
    std::vector<Sha256Digest> out = leaf_hashes(data.substr(0, data_len));
    if (out.size() < static_cast<std::size_t>(shape.leaves))
        out.resize(static_cast<std::size_t>(shape.leaves), merkle_pad(0));
    return out;
}

std::optional<std::vector<Sha256Digest>> leaf_proof(std::span<const Sha256Digest> leaves,
                                                    const MerkleTree* upper,
                                                    std::uint64_t first_piece,
                                                    std::uint64_t leaves_per_piece,
                                                    std::uint64_t index, std::uint64_t count,
                                                    int proof_layers) {
    const auto per = leaves_per_piece;
    auto pow2 = [](std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; };
    if (per < 2 || !pow2(per) || leaves.empty() || leaves.size() % per != 0) return std::nullopt;
    const std::uint64_t n = leaves.size() / per;  // pieces given
    if (!pow2(n) || first_piece % n != 0) return std::nullopt;
    if (count < 2 || !pow2(count) || index % count != 0) return std::nullopt;
    // The run lies inside the pieces given.
    const std::uint64_t begin = first_piece * per;
    if (index < begin || count > n * per || index - begin > n * per - count) return std::nullopt;
    const int k = log2_exact(per);  // the piece layer
    if (upper && upper->base_level() != k) return std::nullopt;
    if (upper && (first_piece >= upper->width(k) || n > upper->width(k) - first_piece))
        return std::nullopt;
    if (!upper && (first_piece != 0 || n != 1)) return std::nullopt;
    const int root_level = upper ? upper->root_level() : k;
    if (proof_layers < 0 || proof_layers >= root_level) return std::nullopt;
    const MerkleTree given(leaves, 0);  // n * per leaves: no padding added
    const int top = given.root_level();  // the pieces' common subtree
    const std::uint64_t in_given = index - begin;
    std::vector<Sha256Digest> out(leaves.begin() + static_cast<std::ptrdiff_t>(in_given),
                                  leaves.begin() + static_cast<std::ptrdiff_t>(in_given + count));
    int level = log2_exact(count);
    std::uint64_t at = index / count;  // node of the run's subtree at `level`, in the file
    for (int p = level - 1; p < proof_layers; ++p) {
        const std::uint64_t sib = at ^ 1;
        if (level < top)
            out.push_back(given.node(level, sib - (begin >> level)));
        else
            out.push_back(upper->node(level, sib));
        at /= 2;
        ++level;
    }
    return out;
}

std::optional<LeafServePlan> leaf_serve_plan(const Metainfo& m, const V2Span& span,
                                             std::uint64_t index, std::uint64_t count,
                                             int proof_layers) {
    if (span.num_pieces < 1 || span.length <= 0) return std::nullopt;
    const auto per = static_cast<std::uint64_t>(piece_leaves(span.length, m.piece_length));
    if (per < 2) return std::nullopt;  // one leaf per piece: no leaf run lies in a piece
    auto pow2 = [](std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; };
    if (count < 2 || !pow2(count) || index % count != 0) return std::nullopt;
    const std::uint64_t layer_pieces = next_pow2(static_cast<std::uint64_t>(span.num_pieces));
    const int root_level = log2_exact(per) + log2_exact(layer_pieces);
    if (proof_layers < 0 || proof_layers >= root_level) return std::nullopt;
    if (count > per && count > kMaxLeafRun) return std::nullopt;
    LeafServePlan plan;
    plan.leaves_per_piece = per;
    plan.run_pieces = count > per ? count / per : 1;
    plan.first_in_file = index / per;
    if (plan.first_in_file >= layer_pieces || plan.run_pieces > layer_pieces - plan.first_in_file)
        return std::nullopt;  // past the layer
    const auto real = static_cast<std::uint64_t>(span.num_pieces);
    if (plan.first_in_file >= real) return std::nullopt;  // only padding: no piece of ours
    plan.read_pieces = static_cast<int>(std::min(plan.run_pieces, real - plan.first_in_file));
    plan.first_piece = span.first_piece + static_cast<int>(plan.first_in_file);
    return plan;
}

}  // namespace pw::meta
