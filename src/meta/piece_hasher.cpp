// Piece verification for v1, v2 and hybrid torrents. See piece_hasher.hpp.
#include "meta/piece_hasher.hpp"

namespace pw::meta {

PieceHasher::PieceHasher(const Metainfo& m, int piece) : m_(m), piece_(piece) {
    if (piece < 0 || piece >= m.num_pieces()) return;
    if (!m.piece_hashes.empty()) sha1_.emplace();
    if (!m.piece_hashes_v2.empty()) {
        V2PieceShape shape = m.v2_piece(piece);
        merkle_.emplace(shape.data_len, shape.leaves);
    }
}

void PieceHasher::update(const char* data, std::size_t len) {
    if (sha1_) sha1_->update(data, len);
    if (merkle_) merkle_->update(data, len);
}

bool PieceHasher::finish() {
    if (!sha1_ && !merkle_) return false;  // out of range, or a torrent with no hashes
    auto i = static_cast<std::size_t>(piece_);
    if (sha1_ && sha1_->finish() != m_.piece_hashes[i]) return false;
    if (merkle_ && merkle_->finish() != m_.piece_hashes_v2[i]) return false;
    return true;
}

bool piece_matches(const Metainfo& m, int piece, std::string_view data) {
    PieceHasher h(m, piece);
    h.update(data);
    return h.finish();
}

}  // namespace pw::meta
