// Session's bandwidth-group calls (see session.hpp and bandwidth_groups.hpp): each posts
// to the network thread; a torrent's group lives in its params, so it survives
// pause/resume and a magnet's metadata fetch.
#include "session/session_impl.hpp"

namespace piecewise {

bool Session::set_bandwidth_group(const BandwidthGroup& g) {
    if (g.name.empty()) throw Error("a bandwidth group needs a name");
    if (g.download_limit < 0 || g.upload_limit < 0) throw Error("rate limits must not be negative");
    return on_network(*impl_, impl_->stopped, [g](Impl& d) {
        d.groups->set(g);
        return true;
    });
}

bool Session::set_torrent_group(TorrentId id, const std::string& name) {
    return on_network(*impl_, impl_->stopped, [id, name](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_group(name);
            return true;
        }
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) {
            f->second.bandwidth_group = name;
            return true;
        }
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end()) {
            pm->second.params.bandwidth_group = name;
            return true;
        }
        return false;
    });
}

}  // namespace piecewise
