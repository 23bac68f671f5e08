// BEP 52 Merkle trees: pure helpers, no I/O.
//
// A v2 file is cut into 16 KiB blocks; each block's SHA-256 is a leaf (the last block may
// be short). The tree is binary; leaves past the end of the file are all-zero hashes, so
// a subtree made only of padding has a fixed "pad" hash per level. The `pieces root` of a
// file is the root of its tree; the `piece layer` is the layer whose every hash covers
// `piece length` bytes. A file of at most one piece has no piece layer: its only piece
// hash is its root, whose tree is only as wide as the next power of two of its blocks.
//
// MerkleTree, merkle_proof and merkle_verify serve and check BEP 52 `hashes` messages: a
// run of hashes of one layer plus the uncle hashes that prove them against the root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/sha256.hpp"

namespace pw::meta {

inline constexpr std::int64_t kMerkleBlock = 16 << 10;

// Smallest power of two >= n (1 for n <= 1).
std::uint64_t next_pow2(std::uint64_t n);
// log2 of a power of two.
int log2_exact(std::uint64_t pow2);

Sha256Digest merkle_parent(const Sha256Digest& left, const Sha256Digest& right);
// Root of a subtree of 2^level all-zero leaves (level 0: the zero hash itself).
Sha256Digest merkle_pad(int level);
// Root over `nodes` (hashes at `level` above the leaves) padded with merkle_pad(level) to
// `width` entries; width must be a power of two >= nodes.size() (and >= 1).
Sha256Digest merkle_root(std::span<const Sha256Digest> nodes, std::uint64_t width, int level = 0);

// Leaf hashes of `data`: one per 16 KiB block, the last block possibly short.
std::vector<Sha256Digest> leaf_hashes(std::string_view data);

// Number of leaves the hash of one piece of a file covers: piece_length / 16 KiB, or for
// a file of at most one piece the next power of two of its block count.
std::int64_t piece_leaves(std::int64_t file_length, std::int64_t piece_length);

// The piece layer of a file from its leaf hashes (one hash per piece, each the root of
// piece_length/16 KiB leaves, zero-padded for the last piece).
std::vector<Sha256Digest> piece_layer(std::span<const Sha256Digest> leaves,
                                      std::int64_t piece_length);
// The pieces root of a file from its piece layer (files larger than one piece).
Sha256Digest root_from_layer(std::span<const Sha256Digest> layer, std::int64_t piece_length);
// The pieces root of a file from its leaf hashes (any non-empty file).
Sha256Digest file_root(std::span<const Sha256Digest> leaves, std::int64_t piece_length);

// Streams the bytes of one piece and gives its hash: the root of `leaves` leaves made of
// the first `data_len` bytes fed (later bytes, BEP 47 padding of a hybrid, are ignored).
class MerkleHasher {
  public:
    MerkleHasher(std::int64_t data_len, std::int64_t leaves);
    void update(const char* data, std::size_t len);
    // The piece hash; meaningful once data_len bytes were fed (missing bytes are not hashed).
    Sha256Digest finish();

  private:
    crypto::Sha256 sha_;
    std::int64_t data_len_;
    std::int64_t leaves_;
    std::int64_t fed_ = 0;       // bytes of data taken so far
    std::int64_t in_block_ = 0;  // bytes of the current block hashed so far
    std::vector<Sha256Digest> done_;
};

// The part of a file's tree from one known layer up to the root: built from the hashes at
// `level` levels above the leaves (e.g. a piece layer), padded with merkle_pad(level) to
// the next power of two.
class MerkleTree {
  public:
    MerkleTree(std::span<const Sha256Digest> layer, int level);  // layer non-empty
    int base_level() const { return level_; }
    int root_level() const { return level_ + static_cast<int>(layers_.size()) - 1; }
    const Sha256Digest& root() const { return layers_.back().front(); }
    // Nodes at `level` (base_level() <= level <= root_level()), padding included.
    std::uint64_t width(int level) const;
    const Sha256Digest& node(int level, std::uint64_t i) const;  // i < width(level)

  private:
    int level_;
    std::vector<std::vector<Sha256Digest>> layers_;  // layers_[0]: the padded base layer
};

// The hashes of a BEP 52 `hashes` answer from `tree`: `count` hashes of layer `base` from
// `index`, then the uncle hashes of proof layers log2(count) .. proof_layers - 1 above the
// base (the first log2(count) - 1 proof layers are implied by the hashes). nullopt when
// the tree does not hold that layer, the run is misaligned or runs past the layer, or the
// proof would reach the root (proof_layers must stay below root_level() - base).
std::optional<std::vector<Sha256Digest>> merkle_proof(const MerkleTree& tree, int base,
                                                      std::uint64_t index, std::uint64_t count,
                                                      int proof_layers);

// Checks `hashes` (count hashes of layer `base` from `index`, then uncles, the one closest
// to the root last) against `root`, the root of a tree whose root is `root_level` levels
// above the leaves. True when the hashes and uncles lead exactly to the root and hash to it.
bool merkle_verify(const Sha256Digest& root, int root_level, int base, std::uint64_t index,
                   std::uint64_t count, std::span<const Sha256Digest> hashes);

}  // namespace pw::meta
