// The daemon's side of GET /stream/ (daemon/http/stream.hpp): from an info-hash to a
// stream of the engine.
#include "daemon/daemon.hpp"

namespace pw::daemon {

piecewise::StreamInfo Daemon::open_stream(const std::string& info_hash, int index) {
    piecewise::TorrentId id = -1;
    {
        std::lock_guard lk(mu_);
        for (auto& [i, h] : hashes_)
            if (h == info_hash) id = i;
    }
    if (id < 0) return {};
    return session_->stream_open(id, index);
}

}  // namespace pw::daemon
