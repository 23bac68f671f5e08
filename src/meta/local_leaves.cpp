// What is known of a failed v2 piece's blocks without a peer's leaf hashes. See
// local_leaves.hpp.
#include "meta/local_leaves.hpp"

#include <algorithm>

namespace pw::meta {

LocalVerdict local_verdict(const ReceivedLeaves& got, std::span<const Sha256Digest> proven) {
    LocalVerdict v;
    auto padding_bad = [&](std::size_t b) { return b < got.padding_zero.size() && !got.padding_zero[b]; };
    if (!proven.empty()) {
        v.bad = bad_blocks(got, proven);
        for (int b : v.bad) {
            const auto i = static_cast<std::size_t>(b);
            if (i < got.leaves.size() && (i >= proven.size() || got.leaves[i] != proven[i]))
                v.leaf_differs.push_back(b);
        }
    } else if (got.data_matches) {
        // Every data leaf is right: only non-zero padding can be bad.
        for (std::size_t b = 0; b < got.padding_zero.size(); ++b)
            if (padding_bad(b)) v.bad.push_back(static_cast<int>(b));
    } else if (got.leaves.size() == 1) {
        // The one data block's leaf is pinned by the piece hash, and it does not match.
        v.bad.push_back(0);
        v.leaf_differs.push_back(0);
        for (std::size_t b = 1; b < got.padding_zero.size(); ++b)
            if (padding_bad(b)) v.bad.push_back(static_cast<int>(b));
    } else {
        return v;  // ask
    }
    v.kind = v.bad.empty() ? LocalVerdict::Kind::data_sound : LocalVerdict::Kind::blocks;
    return v;
}

void ProvenLeaves::put(int piece, std::vector<Sha256Digest> leaves) {
    erase(piece);
    if (leaves.empty() || leaves.size() > max_hashes_) return;
    std::size_t evicted = 0;  // from the front of order_: the oldest
    while (hashes_ + leaves.size() > max_hashes_ && evicted < order_.size()) {
        if (auto it = by_piece_.find(order_[evicted++]); it != by_piece_.end()) {
            hashes_ -= it->second.size();
            by_piece_.erase(it);
        }
    }
    order_.erase(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(evicted));
    hashes_ += leaves.size();
    by_piece_[piece] = std::move(leaves);
    order_.push_back(piece);
}

std::span<const Sha256Digest> ProvenLeaves::find(int piece) const {
    auto it = by_piece_.find(piece);
    if (it == by_piece_.end()) return {};
    return it->second;
}

void ProvenLeaves::erase(int piece) {
    auto it = by_piece_.find(piece);
    if (it == by_piece_.end()) return;
    hashes_ -= it->second.size();
    by_piece_.erase(it);
    order_.erase(std::find(order_.begin(), order_.end(), piece));
}

}  // namespace pw::meta
