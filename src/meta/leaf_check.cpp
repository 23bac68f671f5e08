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
                                                    std::uint64_t piece_in_file,
                                                    std::uint64_t leaves_per_piece,
                                                    std::uint64_t index, std::uint64_t count,
                                                    int proof_layers) {
    const auto per = leaves_per_piece;
    if (per < 2 || (per & (per - 1)) != 0 || leaves.size() != per) return std::nullopt;
    if (count < 2 || (count & (count - 1)) != 0 || count > per || index % count != 0)
        return std::nullopt;
    if (index / per != piece_in_file) return std::nullopt;
    const int k = log2_exact(per);  // the piece layer
    if (upper && upper->base_level() != k) return std::nullopt;
    if (upper && piece_in_file >= upper->width(k)) return std::nullopt;
    if (!upper && piece_in_file != 0) return std::nullopt;
    const int root_level = upper ? upper->root_level() : k;
    if (proof_layers < 0 || proof_layers >= root_level) return std::nullopt;
    const MerkleTree piece_tree(leaves, 0);
    const std::uint64_t in_piece = index - piece_in_file * per;
    std::vector<Sha256Digest> out(leaves.begin() + static_cast<std::ptrdiff_t>(in_piece),
                                  leaves.begin() + static_cast<std::ptrdiff_t>(in_piece + count));
    int level = log2_exact(count);
    std::uint64_t at = index / count;  // node of the run's subtree at `level`, in the file
    for (int p = level - 1; p < proof_layers; ++p) {
        const std::uint64_t sib = at ^ 1;
        if (level < k)
            out.push_back(piece_tree.node(level, sib - piece_in_file * (per >> level)));
        else
            out.push_back(upper->node(level, sib));
        at /= 2;
        ++level;
    }
    return out;
}

}  // namespace pw::meta
