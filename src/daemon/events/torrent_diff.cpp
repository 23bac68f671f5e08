#include "daemon/events/torrent_diff.hpp"

namespace pw::daemon::events {

namespace json = boost::json;

TorrentDelta TorrentDiff::update(Snapshot next) {
    TorrentDelta d;
    for (auto& [id, now] : next) {
        auto old = current_.find(id);
        if (old == current_.end()) {
            d.added.push_back(now);
            continue;
        }
        json::object ch;
        for (auto& [k, v] : now) {
            auto* was = old->second.if_contains(k);
            if (!was || *was != v) ch[k] = v;
        }
        if (!ch.empty()) {
            ch["id"] = id;
            d.changed.push_back(std::move(ch));
        }
    }
    for (auto& [id, obj] : current_)
        if (!next.count(id)) d.removed.push_back(id);
    current_ = std::move(next);
    return d;
}

json::array TorrentDiff::all() const {
    json::array a;
    a.reserve(current_.size());
    for (auto& [id, obj] : current_) a.push_back(obj);
    return a;
}

}  // namespace pw::daemon::events
