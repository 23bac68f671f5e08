// BEP 52 block-level checks for a v2 or hybrid piece that failed its hash check: which
// 16 KiB blocks are bad, judged by the piece's leaf hashes (fetched with a `hash request`
// for base layer 0 and proven against the piece-layer hash), and, on the serving side,
// the answer to such a request from the leaf hashes of one piece we have. Pure: hashes
// and bytes in, verdicts out.
//
// A piece of a file larger than one piece covers piece_length / 16 KiB leaves; the hash
// of a file of at most one piece is its root, over the next power of two of its blocks.
// Leaves past the end of the file are zero hashes (BEP 52 padding). In a hybrid the bytes
// of a piece past the file's data are BEP 47 padding and must be zero.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "meta/merkle.hpp"
#include "meta/metainfo.hpp"

namespace pw::meta {

// The hash request that fetches the leaf hashes of one piece, proven only up to the
// piece's own hash (no uncles): base 0, index its first leaf in the file, length its
// leaf count, proof_layers log2(length) - 1. nullopt when the piece has a single leaf
// (its hash is the leaf itself, so a failure already names the one block) or the
// torrent has no v2 hashes.
struct LeafRequest {
    Sha256Digest pieces_root;
    std::uint32_t index = 0;
    std::uint32_t length = 0;
    std::uint32_t proof_layers = 0;
};
std::optional<LeafRequest> leaf_request(const Metainfo& m, int piece);

// Whether `leaves` (exactly the request's length of them, no uncles) hash to the piece's
// v2 hash.
bool leaves_prove_piece(const Metainfo& m, int piece, std::span<const Sha256Digest> leaves);

// What bad_blocks needs of a received piece: the leaf hash of each block's data part
// (blocks that hold file data only) and whether each block's hybrid padding part (BEP 47)
// is zeros. Hashes the whole piece: computed on the disk pool with the piece check.
struct ReceivedLeaves {
    std::vector<Sha256Digest> leaves;
    std::vector<bool> padding_zero;  // one per block
};
ReceivedLeaves received_leaves(const Metainfo& m, int piece, std::string_view data);

// The blocks of a received piece that do not match `leaves` (proven with
// leaves_prove_piece): a block whose data part hashes to another leaf, or whose hybrid
// padding part is not zero. No hashing.
std::vector<int> bad_blocks(const ReceivedLeaves& got, std::span<const Sha256Digest> leaves);
// The same from the piece's bytes (Metainfo::piece_size of them).
std::vector<int> bad_blocks(const Metainfo& m, int piece, std::string_view data,
                            std::span<const Sha256Digest> leaves);

// The leaf hashes of one piece as a hash request wants them: one per 16 KiB of the
// file's data in the piece, then zero hashes up to the piece's leaf count.
std::vector<Sha256Digest> piece_leaf_hashes(const Metainfo& m, int piece, std::string_view data);

// The hashes of a `hashes` answer to a base-0 request whose run lies inside one piece:
// `leaves` that piece's leaf hashes (piece_leaf_hashes), `upper` the file's tree from the
// piece layer up (null for a file of one piece), `piece_in_file` the piece's place in its
// file, `leaves_per_piece` its leaf count. Same answer as merkle_proof() on the file's
// whole tree; nullopt for what that would refuse or what lies outside the piece.
std::optional<std::vector<Sha256Digest>> leaf_proof(std::span<const Sha256Digest> leaves,
                                                    const MerkleTree* upper,
                                                    std::uint64_t piece_in_file,
                                                    std::uint64_t leaves_per_piece,
                                                    std::uint64_t index, std::uint64_t count,
                                                    int proof_layers);

// The file span of a piece of a v2 or hybrid torrent; null when none holds it.
const V2Span* span_of_piece(const Metainfo& m, int piece);

}  // namespace pw::meta
