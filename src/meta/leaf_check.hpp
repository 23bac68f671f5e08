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
// is zeros; and whether those leaves, with the zero leaves past the file's end, hash to
// the piece's v2 hash (then every data block is right). Hashes the whole piece: computed
// on the disk pool with the piece check.
struct ReceivedLeaves {
    std::vector<Sha256Digest> leaves;
    std::vector<bool> padding_zero;  // one per block
    bool data_matches = false;
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

// The hashes of a `hashes` answer to a base-0 request from the leaf hashes of the pieces
// its run covers: `leaves` those of `n` consecutive pieces of one file (n a power of two,
// n * leaves_per_piece of them, piece_leaf_hashes of each; pieces past the file's end,
// inside its padded layer, are zero hashes), the first of them `first_piece` of the file
// (a multiple of n); `upper` the file's tree from the piece layer up (null for a file of
// one piece). Uncles below the pieces' common subtree come from `leaves`, the others from
// `upper`. Same answer as merkle_proof() on the file's whole tree; nullopt for what that
// would refuse or for a run that leaves the pieces given.
std::optional<std::vector<Sha256Digest>> leaf_proof(std::span<const Sha256Digest> leaves,
                                                    const MerkleTree* upper,
                                                    std::uint64_t first_piece,
                                                    std::uint64_t leaves_per_piece,
                                                    std::uint64_t index, std::uint64_t count,
                                                    int proof_layers);

// The longest run of leaves served across pieces: BEP 52 says a request SHOULD NOT ask
// for more than 512 hashes, and such a run is read from the disk and hashed (8 MiB).
inline constexpr std::uint64_t kMaxLeafRun = 512;

// What answering a base-0 hash request for the file of `span` takes: the pieces its run
// covers. A run inside one piece needs that piece; a longer one (at most kMaxLeafRun
// leaves, BEP 52 allows runs of any power of two) needs every piece it covers, of which
// those past the file's end (inside its padded layer) are zero leaves and not read.
// nullopt when the run is not a valid request for this file's tree (misaligned, past the
// layer, a proof reaching the root: what merkle_proof would refuse), covers no piece of
// the file, or is longer than kMaxLeafRun across pieces. Whether we have the pieces is the
// caller's to check.
struct LeafServePlan {
    int first_piece = 0;               // torrent index of the first piece to read
    int read_pieces = 0;               // pieces of the file to read, from first_piece
    std::uint64_t first_in_file = 0;   // the run's first piece, counted in its file
    std::uint64_t run_pieces = 1;      // pieces the run covers, padding included
    std::uint64_t leaves_per_piece = 0;
};
std::optional<LeafServePlan> leaf_serve_plan(const Metainfo& m, const V2Span& span,
                                             std::uint64_t index, std::uint64_t count,
                                             int proof_layers);

// The file span of a piece of a v2 or hybrid torrent; null when none holds it.
const V2Span* span_of_piece(const Metainfo& m, int piece);

}  // namespace pw::meta
