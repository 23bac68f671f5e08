// Streaming readers, the Torrent side: the picker's focus (swarm/stream_window.hpp) and
// helping to finish focused pieces. The readers themselves (windows, waiting reads, disk
// reads) are in session/streams.cpp.
#include "session/torrent.hpp"

namespace pw::session {

namespace {
// Focused partial pieces looked at per pick: the first few are the ones readers wait for.
constexpr std::size_t focus_partial_scan = 16;
}  // namespace

void Torrent::set_stream_focus(const std::vector<swarm::StreamSpan>& spans) {
    auto f = swarm::focus_pieces(spans, meta_.piece_length, meta_.total_size);
    if (f == picker_.focus()) return;
    picker_.set_focus(std::move(f));
    // Peers that were busy with other pieces (or found nothing) pick again now.
    for (auto& q : std::vector(peers_)) {
        if (q->closed()) continue;
        q->pick_failed_epoch = ~0ull;
        request_more(*q);
    }
}

bool Torrent::pick_focus_partial(PeerConnection& p, peer::OutRequest& out) {
    const auto& focus = picker_.focus();
    for (std::size_t i = 0; i < focus.size() && i < focus_partial_scan; ++i) {
        int piece = focus[i];
        auto f = partials_.find(piece);
        if (f == partials_.end() || f->second.hashing || !(p.seed || p.has.get(piece))) continue;
        if (int b = next_free_block(f->second); b >= 0) {
            p.current_piece = piece;
            take_block(f->second, b, out);
            return true;
        }
    }
    return false;
}

}  // namespace pw::session
