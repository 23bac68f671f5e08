// Torrent's parts of Session::status_all() and Session::session_stats().
#include "session/torrent.hpp"

namespace pw::session {

void Torrent::summary_status(piecewise::TorrentStatus& s) const {
    s.paused = paused_;
    s.save_path = storage_->root().string();
    s.piece_length = meta_.piece_length;
}

void Torrent::add_gauges(piecewise::SessionStats& s) const {
    for (auto& p : peers_)
        if (!p->closed() && p->choke_id != 0) ++s.peers_connected;
    s.half_open += connecting_;
    s.cache_bytes += cache_used_;
}

}  // namespace pw::session
