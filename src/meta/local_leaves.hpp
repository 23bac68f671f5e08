// BEP 52: what can be said of the blocks of a failed v2 or hybrid piece without asking a
// peer for its leaf hashes (leaf_check.hpp asks when nothing here decides). Pure.
//
// What is knowable. A torrent carries each file's tree only down to its piece layer (BEP
// 52 `piece layers`; a file of one piece has only its root), and that holds for a torrent
// we created ourselves too: the leaves were hashed while creating it but the .torrent has
// no place for them. The leaves under one piece hash are not derivable from it, nor from
// the file's other data: the other pieces' leaves hash only to their own piece hashes.
// The leaves of a failed piece are therefore known here only in these cases:
//  - A peer's leaf hashes for this piece were proven against its piece hash before (its
//    bad blocks were then fetched again and the piece failed once more): proven leaves
//    stay true, and are kept until the piece passes (ProvenLeaves).
//  - The received data part of the piece, with the zero leaves past the file's end, hashes
//    to the piece hash: every data leaf is right, so only the piece's BEP 47 padding (a
//    hybrid's, which must be zeros) can be bad.
//  - The piece holds one block of file data: every other leaf under the piece hash is a
//    zero hash, so the piece hash pins that block's leaf, and a mismatch convicts it.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <vector>

#include "meta/leaf_check.hpp"

namespace pw::meta {

struct LocalVerdict {
    enum class Kind {
        ask,         // the leaves are not known here: ask a peer (leaf_check.hpp)
        blocks,      // `bad` (non-empty, ascending) are the bad blocks
        data_sound,  // every block matches its leaf: a hybrid's v1 hash disagrees with its v2 tree
    };
    Kind kind = Kind::ask;
    std::vector<int> bad;
    std::vector<int> leaf_differs;  // those of `bad` whose data differs from the leaf (the
                                    // others hold non-zero BEP 47 padding)
};

// The verdict on a failed piece from what it received (received_leaves) and, if not
// empty, its proven leaf hashes (exactly the piece's leaf count of them: kept from
// earlier, or just received from a peer and proven).
LocalVerdict local_verdict(const ReceivedLeaves& got, std::span<const Sha256Digest> proven);

// Proven leaf hashes of pieces that failed, by piece, until they pass. Bounded: at most
// `max_hashes` hashes in all (32 bytes each); the oldest entries go first, and a piece
// with more leaves than that is not kept.
class ProvenLeaves {
  public:
    explicit ProvenLeaves(std::size_t max_hashes = std::size_t{1} << 16) : max_hashes_(max_hashes) {}
    void put(int piece, std::vector<Sha256Digest> leaves);
    // Empty when none are kept for the piece.
    std::span<const Sha256Digest> find(int piece) const;
    void erase(int piece);
    std::size_t pieces() const { return by_piece_.size(); }
    std::size_t hashes() const { return hashes_; }

  private:
    std::size_t max_hashes_;
    std::size_t hashes_ = 0;
    std::map<int, std::vector<Sha256Digest>> by_piece_;
    // The pieces kept, oldest first. A vector: an empty std::deque allocates ~600 bytes,
    // and every torrent has one of these, nearly always empty.
    std::vector<int> order_;
};

}  // namespace pw::meta
