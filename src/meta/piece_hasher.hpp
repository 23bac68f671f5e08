// Verifying one piece against the metainfo, whatever its format: the SHA-1 of the whole
// piece for v1 (BEP 3), the Merkle root of its 16 KiB blocks for v2 (BEP 52), both for a
// hybrid (so neither half can be trusted alone). Pure: bytes in, verdict out.
#pragma once

#include <memory>
#include <optional>

#include "crypto/sha1.hpp"
#include "meta/merkle.hpp"
#include "meta/metainfo.hpp"

namespace pw::meta {

// Feed the bytes of a piece in order (exactly Metainfo::piece_size(piece) of them; for a
// hybrid they include the pad bytes, which the v1 hash covers and the v2 one does not).
class PieceHasher {
  public:
    PieceHasher(const Metainfo& m, int piece);
    void update(const char* data, std::size_t len);
    void update(std::string_view data) { update(data.data(), data.size()); }
    bool finish();  // whether the piece matches every hash the metainfo has for it

  private:
    const Metainfo& m_;
    int piece_;
    std::optional<crypto::Sha1> sha1_;
    std::optional<MerkleHasher> merkle_;
};

// Whole-piece convenience form.
bool piece_matches(const Metainfo& m, int piece, std::string_view data);

}  // namespace pw::meta
