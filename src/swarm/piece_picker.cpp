#include "swarm/piece_picker.hpp"

#include <algorithm>
#include <bit>
#include <random>

namespace pw::swarm {

PiecePicker::PiecePicker(int num_pieces, std::uint64_t seed)
    : avail_(static_cast<std::size_t>(num_pieces), 0),
      pos_(static_cast<std::size_t>(num_pieces)),
      order_(static_cast<std::size_t>(num_pieces)),
      prio_(static_cast<std::size_t>(num_pieces), 4),
      prio_count_(8, 0) {
    prio_count_[4] = num_pieces;
    for (int i = 0; i < num_pieces; ++i) order_[static_cast<std::size_t>(i)] = i;
    std::mt19937_64 rng(seed);
    std::shuffle(order_.begin(), order_.end(), rng);
    for (int i = 0; i < num_pieces; ++i) pos_[static_cast<std::size_t>(order_[static_cast<std::size_t>(i)])] = i;
    bucket_end_.push_back(num_pieces);
}

void PiecePicker::swap_pos(int i, int j) {
    if (i == j) return;
    auto ui = static_cast<std::size_t>(i), uj = static_cast<std::size_t>(j);
    std::swap(order_[ui], order_[uj]);
    pos_[static_cast<std::size_t>(order_[ui])] = i;
    pos_[static_cast<std::size_t>(order_[uj])] = j;
}

void PiecePicker::inc(int piece) {
    auto p = static_cast<std::size_t>(piece);
    int a = avail_[p];
    if (pos_[p] >= 0) {
        if (static_cast<std::size_t>(a + 1) >= bucket_end_.size())
            bucket_end_.push_back(static_cast<int>(order_.size()));
        // Move to the last slot of bucket a, then shrink bucket a: it is now first in a+1.
        auto ua = static_cast<std::size_t>(a);
        swap_pos(pos_[p], bucket_end_[ua] - 1);
        --bucket_end_[ua];
    }
    ++avail_[p];
}

void PiecePicker::dec(int piece) {
    auto p = static_cast<std::size_t>(piece);
    int a = avail_[p];
    if (a <= 0) return;
    if (pos_[p] >= 0) {
        // Move to the first slot of bucket a, then grow bucket a-1 over it.
        auto prev = static_cast<std::size_t>(a - 1);
        swap_pos(pos_[p], bucket_end_[prev]);
        ++bucket_end_[prev];
    }
    --avail_[p];
}

// Walks only the set bits, a byte at a time: a sparse bitfield of a large torrent costs
// little more than its set bits.
template <class F>
static void for_each_set(const Bitfield& b, F f) {
    auto bytes = b.wire();
    for (std::size_t k = 0; k < bytes.size(); ++k) {
        auto v = static_cast<std::uint8_t>(bytes[k]);
        while (v) {
            int bit = std::countl_zero(v);
            f(static_cast<int>(k * 8) + bit);
            v = static_cast<std::uint8_t>(v & ~(0x80u >> bit));
        }
    }
}

void PiecePicker::inc_all(const Bitfield& b) {
    for_each_set(b, [this](int i) { inc(i); });
}

void PiecePicker::dec_all(const Bitfield& b) {
    for_each_set(b, [this](int i) { dec(i); });
}

void PiecePicker::remove(int piece) {
    auto p = static_cast<std::size_t>(piece);
    if (pos_[p] < 0) return;
    // Walk the piece up through the buckets to the very end of the array.
    for (auto k = static_cast<std::size_t>(avail_[p]); k < bucket_end_.size(); ++k) {
        swap_pos(pos_[p], bucket_end_[k] - 1);
        --bucket_end_[k];
    }
    order_.pop_back();
    pos_[p] = -1;
    --prio_count_[prio_[p]];
}

void PiecePicker::add(int piece) {
    auto p = static_cast<std::size_t>(piece);
    if (pos_[p] >= 0 || prio_[p] == 0) return;
    ++epoch_;
    ++prio_count_[prio_[p]];
    seq_hint_ = std::min(seq_hint_, piece);
    int a = avail_[p];
    while (bucket_end_.size() <= static_cast<std::size_t>(a))
        bucket_end_.push_back(static_cast<int>(order_.size()));
    order_.push_back(piece);
    pos_[p] = static_cast<int>(order_.size()) - 1;
    ++bucket_end_.back();
    // Walk it down from the last bucket into bucket a.
    for (auto k = bucket_end_.size() - 1; k > static_cast<std::size_t>(a); --k) {
        swap_pos(pos_[p], bucket_end_[k - 1]);
        ++bucket_end_[k - 1];
    }
}

void PiecePicker::set_priority(int piece, int prio) {
    auto p = static_cast<std::size_t>(piece);
    auto np = static_cast<std::uint8_t>(std::clamp(prio, 0, 7));
    if (np == prio_[p]) return;
    if (pos_[p] >= 0) {
        if (np == 0) {
            remove(piece);
            prio_[p] = 0;
            return;
        }
        --prio_count_[prio_[p]];
        ++prio_count_[np];
    }
    prio_[p] = np;
    ++epoch_;  // a peer that found nothing may find a piece of the new order
}

int PiecePicker::top_priority() const {
    for (int k = 7; k >= 1; --k)
        if (prio_count_[static_cast<std::size_t>(k)] > 0) return k;
    return -1;
}

int PiecePicker::pick(const Bitfield& peer_has, bool peer_is_seed) const {
    if (order_.empty()) return -1;
    for (int piece : focus_) {
        if (piece < 0 || piece >= num_pieces()) continue;
        if (pos_[static_cast<std::size_t>(piece)] >= 0 && (peer_is_seed || peer_has.get(piece)))
            return piece;
    }
    int top = top_priority();
    bool uniform = prio_count_[static_cast<std::size_t>(top)] == num_candidates();
    if (sequential_) {
        int best = -1, best_prio = 0;
        int n = num_pieces();
        while (seq_hint_ < n && pos_[static_cast<std::size_t>(seq_hint_)] < 0) ++seq_hint_;
        for (int i = seq_hint_; i < n; ++i) {
            auto ui = static_cast<std::size_t>(i);
            if (pos_[ui] < 0 || prio_[ui] <= best_prio || (!peer_is_seed && !peer_has.get(i)))
                continue;
            best = i;
            best_prio = prio_[ui];
            if (best_prio == top) break;
        }
        return best;
    }
    if (uniform) {
        if (peer_is_seed) return order_.front();
        for (int piece : order_)
            if (peer_has.get(piece)) return piece;
        return -1;
    }
    // Mixed priorities: the first (rarest) candidate of the highest priority the peer has.
    int best = -1, best_prio = 0;
    for (int piece : order_) {
        int pr = prio_[static_cast<std::size_t>(piece)];
        if (pr <= best_prio || (!peer_is_seed && !peer_has.get(piece))) continue;
        best = piece;
        best_prio = pr;
        if (pr == top) break;
    }
    return best;
}

}  // namespace pw::swarm
