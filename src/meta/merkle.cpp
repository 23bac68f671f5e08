// BEP 52 Merkle helpers. See merkle.hpp.
#include "meta/merkle.hpp"

#include <algorithm>
#include <array>

namespace pw::meta {

std::uint64_t next_pow2(std::uint64_t n) {
    std::uint64_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

int log2_exact(std::uint64_t pow2) {
    int l = 0;
    while (pow2 > 1) {
        pow2 >>= 1;
        ++l;
    }
    return l;
}

Sha256Digest merkle_parent(const Sha256Digest& left, const Sha256Digest& right) {
    crypto::Sha256 h;
    h.update(left.bytes.data(), left.bytes.size());
    h.update(right.bytes.data(), right.bytes.size());
    return h.finish();
}

Sha256Digest merkle_pad(int level) {
    // 64 levels cover any tree of 2^64 leaves; computed once.
    static const std::array<Sha256Digest, 64> pads = [] {
        std::array<Sha256Digest, 64> p{};
        for (std::size_t i = 1; i < p.size(); ++i) p[i] = merkle_parent(p[i - 1], p[i - 1]);
        return p;
    }();
    return pads[static_cast<std::size_t>(std::clamp(level, 0, 63))];
}

Sha256Digest merkle_root(std::span<const Sha256Digest> nodes, std::uint64_t width, int level) {
    if (width == 0) width = 1;
    std::vector<Sha256Digest> layer(nodes.begin(), nodes.end());
    Sha256Digest pad = merkle_pad(level);
    if (layer.empty()) return merkle_pad(level + log2_exact(width));
    while (width > 1) {
        // Only the real nodes are kept; a missing right sibling is this level's pad.
        std::vector<Sha256Digest> up((layer.size() + 1) / 2);
        for (std::size_t i = 0; i < up.size(); ++i)
            up[i] = merkle_parent(layer[2 * i], 2 * i + 1 < layer.size() ? layer[2 * i + 1] : pad);
        layer = std::move(up);
        pad = merkle_parent(pad, pad);
        width /= 2;
    }
    return layer[0];
}

std::vector<Sha256Digest> leaf_hashes(std::string_view data) {
    std::vector<Sha256Digest> out;
    out.reserve(data.size() / kMerkleBlock + 1);
    for (std::size_t at = 0; at < data.size(); at += kMerkleBlock)
        out.push_back(crypto::sha256(data.substr(at, kMerkleBlock)));
    return out;
}

std::int64_t piece_leaves(std::int64_t file_length, std::int64_t piece_length) {
    if (file_length > piece_length) return piece_length / kMerkleBlock;
    std::int64_t blocks = (file_length + kMerkleBlock - 1) / kMerkleBlock;
    return static_cast<std::int64_t>(
        next_pow2(static_cast<std::uint64_t>(std::max<std::int64_t>(blocks, 1))));
}

std::vector<Sha256Digest> piece_layer(std::span<const Sha256Digest> leaves,
                                      std::int64_t piece_length) {
    const auto per = static_cast<std::size_t>(piece_length / kMerkleBlock);
    std::vector<Sha256Digest> out;
    for (std::size_t at = 0; at < leaves.size(); at += per)
        out.push_back(merkle_root(leaves.subspan(at, std::min(per, leaves.size() - at)), per, 0));
    return out;
}

Sha256Digest root_from_layer(std::span<const Sha256Digest> layer, std::int64_t piece_length) {
    return merkle_root(layer, next_pow2(layer.size()),
                       log2_exact(static_cast<std::uint64_t>(piece_length / kMerkleBlock)));
}

Sha256Digest file_root(std::span<const Sha256Digest> leaves, std::int64_t piece_length) {
    if (static_cast<std::int64_t>(leaves.size()) * kMerkleBlock <= piece_length)
        return merkle_root(leaves, next_pow2(leaves.size()), 0);
    return root_from_layer(piece_layer(leaves, piece_length), piece_length);
}

MerkleHasher::MerkleHasher(std::int64_t data_len, std::int64_t leaves)
    : data_len_(std::max<std::int64_t>(data_len, 0)), leaves_(std::max<std::int64_t>(leaves, 1)) {
    done_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(leaves_, 1 << 14)));
}

void MerkleHasher::update(const char* data, std::size_t len) {
    auto take = static_cast<std::int64_t>(len);
    take = std::min(take, data_len_ - fed_);
    while (take > 0) {
        std::int64_t n = std::min(take, kMerkleBlock - in_block_);
        sha_.update(data, static_cast<std::size_t>(n));
        data += n;
        take -= n;
        fed_ += n;
        in_block_ += n;
        if (in_block_ == kMerkleBlock) {
            done_.push_back(sha_.finish());
            in_block_ = 0;
        }
    }
}

Sha256Digest MerkleHasher::finish() {
    if (in_block_ > 0) {
        done_.push_back(sha_.finish());
        in_block_ = 0;
    }
    if (static_cast<std::int64_t>(done_.size()) > leaves_)
        done_.resize(static_cast<std::size_t>(leaves_));
    return merkle_root(done_, next_pow2(static_cast<std::uint64_t>(leaves_)), 0);
}

}  // namespace pw::meta

namespace pw::meta {

MerkleTree::MerkleTree(std::span<const Sha256Digest> layer, int level) : level_(level) {
    std::vector<Sha256Digest> base(layer.begin(), layer.end());
    base.resize(static_cast<std::size_t>(next_pow2(std::max<std::size_t>(base.size(), 1))),
                merkle_pad(level));
    layers_.push_back(std::move(base));
    while (layers_.back().size() > 1) {
        const auto& below = layers_.back();
        std::vector<Sha256Digest> up(below.size() / 2);
        for (std::size_t i = 0; i < up.size(); ++i) up[i] = merkle_parent(below[2 * i], below[2 * i + 1]);
        layers_.push_back(std::move(up));
    }
}

std::uint64_t MerkleTree::width(int level) const {
    return layers_[static_cast<std::size_t>(level - level_)].size();
}

const Sha256Digest& MerkleTree::node(int level, std::uint64_t i) const {
    return layers_[static_cast<std::size_t>(level - level_)][static_cast<std::size_t>(i)];
}

namespace {
bool is_pow2(std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }
}  // namespace

std::optional<std::vector<Sha256Digest>> merkle_proof(const MerkleTree& tree, int base,
                                                      std::uint64_t index, std::uint64_t count,
                                                      int proof_layers) {
    if (base < tree.base_level() || base >= tree.root_level()) return std::nullopt;
    if (count < 2 || !is_pow2(count) || index % count != 0) return std::nullopt;
    const std::uint64_t w = tree.width(base);
    if (count > w || index > w - count) return std::nullopt;
    if (proof_layers < 0 || proof_layers >= tree.root_level() - base) return std::nullopt;
    std::vector<Sha256Digest> out;
    out.reserve(static_cast<std::size_t>(count) + 64);
    for (std::uint64_t i = 0; i < count; ++i) out.push_back(tree.node(base, index + i));
    // The subtree the hashes span has its root log2(count) levels up; one uncle per level
    // from there while proof layers remain.
    int level = base + log2_exact(count);
    std::uint64_t at = index / count;
    for (int p = log2_exact(count) - 1; p < proof_layers; ++p) {
        out.push_back(tree.node(level, at ^ 1));
        at /= 2;
        ++level;
    }
    return out;
}

bool merkle_verify(const Sha256Digest& root, int root_level, int base, std::uint64_t index,
                   std::uint64_t count, std::span<const Sha256Digest> hashes) {
    if (base < 0 || root_level > 63 || base >= root_level) return false;
    if (count < 2 || !is_pow2(count) || index % count != 0 || hashes.size() < count) return false;
    const int span_levels = log2_exact(count);
    const auto uncles = hashes.size() - count;
    if (static_cast<std::uint64_t>(base) + span_levels + uncles != static_cast<std::uint64_t>(root_level))
        return false;
    const std::uint64_t width = std::uint64_t{1} << (root_level - base);
    if (count > width || index > width - count) return false;
    std::vector<Sha256Digest> layer(hashes.begin(), hashes.begin() + static_cast<std::ptrdiff_t>(count));
    while (layer.size() > 1) {
        std::vector<Sha256Digest> up(layer.size() / 2);
        for (std::size_t i = 0; i < up.size(); ++i) up[i] = merkle_parent(layer[2 * i], layer[2 * i + 1]);
        layer = std::move(up);
    }
    Sha256Digest cur = layer[0];
    std::uint64_t at = index / count;
    for (std::size_t u = 0; u < uncles; ++u) {
        const auto& uncle = hashes[count + u];
        cur = (at & 1) ? merkle_parent(uncle, cur) : merkle_parent(cur, uncle);
        at /= 2;
    }
    return cur == root;
}

}  // namespace pw::meta
