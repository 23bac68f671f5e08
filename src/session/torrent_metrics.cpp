// Torrent's parts of Session::status_all() and Session::session_stats().
#include "session/torrent.hpp"
#include "swarm/file_priority.hpp"

namespace pw::session {

void Torrent::summary_status(piecewise::TorrentStatus& s) const {
    s.paused = paused_;
    s.save_path = storage_->root().string();
    s.piece_length = meta_.piece_length;
    count_active_peers(s);
}

void Torrent::carry_totals(piecewise::AddTorrentParams& p) const {
    p.downloaded_before = downloaded_;
    p.uploaded_before = uploaded_;
    p.corrupt_before = corrupt_bytes_;
}

std::int64_t Torrent::wanted_size() const {
    return swarm::wanted_totals(piece_prio_, have_, meta_.piece_length, meta_.total_size)
        .size_when_done;
}

void Torrent::count_active_peers(piecewise::TorrentStatus& s) const {
    for (auto& p : peers_) {
        if (p->closed() || p->choke_id == 0) continue;  // not past the handshake
        s.peers_sending_to_us += p->am_interested && !p->peer_choking;
        s.peers_getting_from_us += p->peer_interested && !p->am_choking;
    }
}

void Torrent::add_gauges(piecewise::SessionStats& s) const {
    for (auto& p : peers_)
        if (!p->closed() && p->choke_id != 0) ++s.peers_connected;
    s.half_open += connecting_;
    s.cache_bytes += cache_used_;
}

}  // namespace pw::session
