// Transmission's event scripts: script-torrent-added (a torrent added through the RPC or
// the watch dir), script-torrent-done (a torrent finished downloading; with an incomplete
// dir, once its files reached the download dir) and script-torrent-done-seeding (a torrent
// stopped by its seed ratio or idle limit). Each runs through ScriptRunner from the
// calling thread (the RPC's or the housekeeping's, never the network thread) with
// Transmission's variables: TR_APP_VERSION, TR_TIME_LOCALTIME, TR_TORRENT_BYTES_DOWNLOADED,
// TR_TORRENT_DIR, TR_TORRENT_HASH, TR_TORRENT_ID, TR_TORRENT_LABELS (comma-separated),
// TR_TORRENT_NAME, TR_TORRENT_TRACKERS (announce URLs, comma-separated).
#include <ctime>
#include <iostream>

#include "daemon/daemon.hpp"

namespace pw::daemon {

using piecewise::TorrentId;

namespace {

const char* key_of(ScriptEvent e) {
    return e == ScriptEvent::added  ? "script_torrent_added"
           : e == ScriptEvent::done ? "script_torrent_done"
                                    : "script_torrent_done_seeding";
}

const char* log_name(ScriptEvent e) {
    return e == ScriptEvent::added  ? "script-torrent-added"
           : e == ScriptEvent::done ? "script-torrent-done"
                                    : "script-torrent-done-seeding";
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) {
        if (!out.empty()) out += ',';
        out += s;
    }
    return out;
}

std::string local_time() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);  // as ctime(3)
    return buf;
}

}  // namespace

void Daemon::load_script_settings() {
    auto kv = store_->load_settings();
    for (auto e : {ScriptEvent::added, ScriptEvent::done, ScriptEvent::done_seeding}) {
        std::string k = key_of(e);
        if (auto it = kv.find(k + "_enabled"); it != kv.end()) scripts_[e].enabled = it->second == "1";
        if (auto it = kv.find(k + "_filename"); it != kv.end()) scripts_[e].filename = it->second;
    }
}

ScriptSettings Daemon::scripts() {
    std::lock_guard lk(mu_);
    return scripts_;
}

void Daemon::set_script(ScriptEvent e, const ScriptSetting& s) {
    std::lock_guard lk(mu_);
    std::string k = key_of(e);
    store_->set_setting(k + "_enabled", s.enabled ? "1" : "0");
    store_->set_setting(k + "_filename", s.filename);
    scripts_[e] = s;
}

void Daemon::run_script(ScriptEvent e, TorrentId id) {
    const auto& s = scripts_[e];
    if (!s.enabled) return;
    auto h = hashes_.find(id);
    auto st = session_->status(id);
    if (h == hashes_.end() || !st) return;
    std::vector<std::string> trackers;
    std::vector<std::string> labels;
    if (auto x = extras_.find(id); x != extras_.end()) {
        labels = x->second.labels;
        for (auto& tier : x->second.trackers)
            for (auto& url : tier) trackers.push_back(url);
    }
    if (trackers.empty())
        for (auto& t : st->trackers) trackers.push_back(t.url);
    std::vector<std::string> env = {
        "TR_APP_VERSION=" PW_VERSION,
        "TR_TIME_LOCALTIME=" + local_time(),
        "TR_TORRENT_BYTES_DOWNLOADED=" + std::to_string(st->downloaded),
        "TR_TORRENT_DIR=" + st->save_path,  // where the data is now
        "TR_TORRENT_HASH=" + h->second,
        "TR_TORRENT_ID=" + std::to_string(id),
        "TR_TORRENT_LABELS=" + joined(labels),
        "TR_TORRENT_NAME=" + st->name,
        "TR_TORRENT_TRACKERS=" + joined(trackers),
    };
    script_runner_.run(log_name(e), s.filename, env);
}

}  // namespace pw::daemon
