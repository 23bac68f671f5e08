// Super-seeding (BEP 16): a seed that masquerades as a peer with no data and tells each
// peer of only a few pieces at a time, so that what it uploads is mostly pieces nobody has
// yet, and the peers have to trade the rest among themselves. For initial seeding: the BEP
// itself advises against it for general use, since a peer can only fetch the pieces it was
// told of.
//
// This is the pure part: which piece to offer a peer next, which blocks of an offer were
// sent, and when a peer's offer is used up. The torrent (session/torrent_super_seed.cpp) sends the HAVEs, keeps each
// connection's offers and counts the live offers of every piece here.
//
// The rules:
// - A peer holds at most `slots` offers (2, as libtorrent: while it fetches one, the
//   other keeps its requests flowing). A lone leecher, with no other leecher connected,
//   holds up to `lone_slots`: there is nobody it could pass pieces to, so holding back
//   only idles our upload, and clients that ask for a newly announced piece after a delay
//   of their own crawl at two offers (a lone Transmission 3.00 leecher cycles an offer
//   about once a second: 0.5 MiB/s with 256 KiB pieces).
// - The piece offered is one we have and the peer lacks, with the fewest copies: peers that
//   announced it plus live offers of it to others; among equals, a random one.
// - An offer is used up when the peer has the piece and the swarm has seen it pass it
//   on: another peer has it too (the BEP's rule), or no other connected peer lacks it, so
//   nobody could take it from this one (without this, a lone leecher would wait forever).
//   The peer has it once it announces it, or once we have sent it every block: waiting
//   for the HAVE costs a round trip and whatever the client holds its HAVEs back for (a
//   lone Transmission 3.00 leecher took 80 s for 16 MiB that way, 55 s without it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "swarm/bitfield.hpp"

namespace pw::swarm {

// One piece offered to one peer, and which of its 16 KiB blocks we have sent that peer.
class SuperOffer {
public:
    static constexpr std::int64_t block = 16 * 1024;

    SuperOffer(std::uint32_t piece, std::int64_t piece_size)
        : piece_(piece), sent_(static_cast<std::size_t>((piece_size + block - 1) / block)),
          piece_size_(piece_size) {}

    std::uint32_t piece() const { return piece_; }

    // Marks the blocks that a sent run [begin, begin + length) covered whole: blocks on the
    // 16 KiB grid (the last block of the piece may be shorter). Runs off the grid mark
    // nothing, so such a peer's offer waits for its HAVE. True when this run sent the last
    // unsent block.
    bool sent(std::int64_t begin, std::int64_t length) {
        if (begin < 0 || length <= 0 || begin % block || all_sent()) return false;
        const std::int64_t end = begin + length;
        for (std::int64_t at = begin; at < end; at += block) {
            auto b = static_cast<std::size_t>(at / block);
            if (b >= sent_.size()) break;
            if (std::min(at + block, piece_size_) > end) break;
            if (!sent_[b]) {
                sent_[b] = true;
                ++sent_count_;
            }
        }
        return all_sent();
    }

    bool all_sent() const { return sent_count_ == sent_.size(); }

private:
    std::uint32_t piece_;
    std::vector<bool> sent_;
    std::size_t sent_count_ = 0;
    std::int64_t piece_size_;
};

class SuperSeed {
public:
    static constexpr int slots = 2;
    static constexpr int lone_slots = 8;

    // How many offers a peer may hold: `others` is whether another leecher is connected.
    static int slots_for(bool others) { return others ? slots : lone_slots; }

    explicit SuperSeed(int num_pieces) : offers_(static_cast<std::size_t>(num_pieces), 0) {}

    // The piece to offer a peer that has `peer_has` and holds the offers `held`, or -1 when
    // there is none to offer. `ours`: the pieces we have; `copies(i)`: how many connected
    // peers announced piece i. `random` picks among equals.
    template <class Copies>
    int pick(const Bitfield& ours, const Bitfield& peer_has, const std::vector<std::uint32_t>& held,
             Copies&& copies, std::uint64_t random) const {
        const int n = static_cast<int>(offers_.size());
        if (n == 0) return -1;
        const int start = static_cast<int>(random % static_cast<std::uint64_t>(n));
        int best = -1;
        long best_copies = 0;
        for (int k = 0; k < n; ++k) {
            int i = start + k < n ? start + k : start + k - n;
            if (!ours.get(i) || peer_has.get(i)) continue;
            long c = static_cast<long>(copies(i)) + offers_[static_cast<std::size_t>(i)];
            if (best >= 0 && c >= best_copies) continue;
            if (is_held(held, i)) continue;
            best = i;
            best_copies = c;
            if (c == 0) break;  // nobody has it nor was offered it: nothing beats that
        }
        return best;
    }

    // Whether the offer of a piece to a peer is used up: the peer has it (announced, or
    // every block sent), and another peer has it too (`copies_elsewhere`: other peers that
    // announced it) or no other peer lacks it.
    static bool used_up(bool peer_has_it, int copies_elsewhere, bool another_lacks_it) {
        return peer_has_it && (copies_elsewhere >= 1 || !another_lacks_it);
    }

    void offered(int piece) { ++offers_[static_cast<std::size_t>(piece)]; }
    void withdrawn(int piece) {
        auto& o = offers_[static_cast<std::size_t>(piece)];
        if (o > 0) --o;
    }
    int offers(int piece) const { return offers_[static_cast<std::size_t>(piece)]; }

private:
    static bool is_held(const std::vector<std::uint32_t>& held, int piece) {
        for (auto h : held)
            if (h == static_cast<std::uint32_t>(piece)) return true;
        return false;
    }
    std::vector<int> offers_;  // per piece: live offers to connected peers
};

}  // namespace pw::swarm
