// Which piece to start next: rarest first with a random tie-break (BEP 3 leaves the
// strategy to the client; this is the one every major client uses).
//
// Candidates are pieces we neither have nor are downloading. They are kept in one
// array ordered by availability, with the end of each availability bucket recorded,
// so a change in availability is a single swap and starting or finishing a piece
// costs one swap per bucket. The initial order is shuffled, which makes the order
// within a bucket random. Peers that have every piece (seeds) are counted apart:
// they raise every piece equally and do not change the order.
//
// Priorities (0..7, see swarm/file_priority.hpp): a piece of priority 0 is never a
// candidate; among candidates the highest priority goes first, then the rarest (or, in
// sequential mode, the lowest index). While every candidate has the same priority and
// the mode is rarest-first, pick() is the plain walk of the availability order.
//
// Focus (streaming, see swarm/stream_window.hpp): an ordered list of pieces picked before
// everything else, whatever their priority or rarity, as long as they are candidates.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "swarm/bitfield.hpp"

namespace pw::swarm {

class PiecePicker {
public:
    PiecePicker(int num_pieces, std::uint64_t seed);

    int num_pieces() const { return static_cast<int>(avail_.size()); }
    int num_candidates() const { return static_cast<int>(order_.size()); }
    bool is_candidate(int piece) const { return pos_[static_cast<std::size_t>(piece)] >= 0; }
    int availability(int piece) const { return avail_[static_cast<std::size_t>(piece)] + seeds_; }

    // A peer announced a piece (have or bitfield), or went away.
    void inc(int piece);
    void dec(int piece);
    void add_seed() { ++seeds_; }
    int seeds() const { return seeds_; }  // peers counted as seeds
    void remove_seed() { --seeds_; }
    void inc_all(const Bitfield& b);
    void dec_all(const Bitfield& b);

    // Removes the piece from the candidates (started, or we have it).
    void remove(int piece);
    // Puts a piece back (download aborted, or it failed its hash check).
    void add(int piece);

    // The best candidate this peer has (highest priority, then rarest or lowest index), or -1.
    int pick(const Bitfield& peer_has, bool peer_is_seed) const;

    // 0 takes the piece out of the candidates (the caller adds it back with add() when it
    // becomes wanted and is neither had nor started); add() ignores a piece of priority 0.
    void set_priority(int piece, int prio);
    int priority(int piece) const { return prio_[static_cast<std::size_t>(piece)]; }
    void set_sequential(bool on) {
        sequential_ = on;
        ++epoch_;
    }
    bool sequential() const { return sequential_; }
    // Pieces to pick first, in this order (had, started and priority-0 ones are skipped).
    void set_focus(std::vector<int> pieces) {
        focus_ = std::move(pieces);
        ++epoch_;
    }
    const std::vector<int>& focus() const { return focus_; }
    // Grows whenever a piece becomes a candidate again: a peer for which pick() found
    // nothing needs no new pick() until this changes or the peer announces new pieces.
    std::uint64_t epoch() const { return epoch_; }

private:
    void swap_pos(int i, int j);
    int top_priority() const;      // the highest priority of any candidate, -1 when none
    std::vector<int> avail_;       // per piece, excluding seeds
    std::vector<int> pos_;         // per piece: index in order_, -1 when not a candidate
    std::vector<int> order_;       // candidates sorted by avail_
    std::vector<int> bucket_end_;  // bucket_end_[a]: one past the last candidate with avail a
    int seeds_ = 0;
    std::uint64_t epoch_ = 0;
    std::vector<std::uint8_t> prio_;  // per piece, 0..7
    std::vector<int> prio_count_;     // candidates per priority level
    bool sequential_ = false;
    mutable int seq_hint_ = 0;  // no candidate below this index
    std::vector<int> focus_;
};

}  // namespace pw::swarm
