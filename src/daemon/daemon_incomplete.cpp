// incomplete-dir (Transmission's): while incomplete-dir-enabled, a torrent added whose data
// is not in its download dir yet downloads into the incomplete dir, and its files move to
// the download dir once it is finished (all wanted pieces verified).
//
// The torrents row's download_dir is where the data is (as after a torrent-set-location);
// the torrent setting "final_dir" holds the download dir it moves to, and torrent-get's
// downloadDir reports that one (as Transmission's does). The completion move is
// set_location's: Session::move_storage on a disk thread, its target recorded first
// ("move_target"), the new download_dir committed once the engine reports it done
// (persist_moves); a kill -9 in the middle is sorted out at restart by restore_location
// (whichever place holds more of the torrent's bytes), and a torrent still in the
// incomplete dir then moves when its check finds it finished.
//
// Turning incomplete-dir-enabled off (or changing the dir) does not move torrents already
// in an incomplete dir: they still move to their download dir once finished.
//
// rename-partial-files is also here: the engine's Settings::part_files, kept in the store
// (on unless a session-set turned it off, as transmission-daemon's default).
#include <filesystem>
#include <iostream>

#include "daemon/daemon.hpp"
#include "meta/metainfo.hpp"
#include "storage/relocate.hpp"

namespace pw::daemon {

namespace fs = std::filesystem;
using piecewise::EventType;
using piecewise::TorrentId;

void Daemon::load_incomplete_settings() {
    auto kv = store_->load_settings();
    incomplete_.dir = cfg_.download_dir;
    if (auto it = kv.find("incomplete_dir"); it != kv.end() && !it->second.empty()) {
        try {
            incomplete_.dir = check_dir(it->second, "incomplete-dir");
        } catch (const piecewise::Error&) {
            // Outside a --download-root given since: the download dir stays.
        }
    }
    if (auto it = kv.find("incomplete_dir_enabled"); it != kv.end())
        incomplete_.enabled = it->second == "1";
    // transmission-daemon's default: on until a session-set turns it off.
    auto part = kv.find("rename_partial_files");
    cfg_.settings.part_files = part == kv.end() || part->second == "1";
}

bool Daemon::rename_partial_files() {
    std::lock_guard lk(mu_);
    return cfg_.settings.part_files;
}

void Daemon::set_rename_partial_files(bool on) {
    std::lock_guard lk(mu_);
    store_->set_setting("rename_partial_files", on ? "1" : "0");
    cfg_.settings.part_files = on;
    session_->set_part_files(on);
}

IncompleteDir Daemon::incomplete_dir() {
    std::lock_guard lk(mu_);
    return incomplete_;
}

void Daemon::set_incomplete_dir(const std::string& dir) {
    auto checked = check_dir(dir, "incomplete-dir");
    std::lock_guard lk(mu_);
    store_->set_setting("incomplete_dir", checked);
    incomplete_.dir = checked;
}

void Daemon::set_incomplete_dir_enabled(bool on) {
    std::lock_guard lk(mu_);
    store_->set_setting("incomplete_dir_enabled", on ? "1" : "0");
    incomplete_.enabled = on;
}

std::string Daemon::place_added(const std::string& torrent, const std::string& dir,
                                std::string& final_dir) {
    final_dir.clear();
    if (!incomplete_.enabled || incomplete_.dir.empty() || incomplete_.dir == dir) return dir;
    if (!torrent.empty()) {
        // Data already in the download dir (complete or not) is used where it is.
        try {
            if (storage::bytes_present(meta::parse(torrent).files, dir) > 0) return dir;
        } catch (const std::exception&) {
            return dir;  // add() reports the bad torrent
        }
    }
    final_dir = dir;
    return incomplete_.dir;
}

std::string Daemon::restore_final_dir(const std::string& hash, const std::string& save_path) {
    auto settings = stored_extras_.find(hash);
    if (settings == stored_extras_.end()) return {};
    auto v = settings->second.find("final_dir");
    if (v == settings->second.end() || v->second.empty()) return {};
    if (v->second != save_path) return v->second;
    // The completion move got there before the crash.
    try {
        store_->set_torrent_setting(hash, "final_dir", "");
    } catch (const std::exception& e) {
        std::cerr << "piecewise daemon: " << hash << ": " << e.what() << "\n";
    }
    return {};
}

void Daemon::handle_events(const std::vector<piecewise::Event>& events) {
    for (const auto& e : events) {
        if (e.type != EventType::torrent_finished || !hashes_.count(e.torrent)) continue;
        // As Transmission: the done script runs for a torrent that downloaded something
        // since it was (re-)added or last finished, not for one that a check (at add,
        // restart, verify or after a move) found finished again.
        bool downloaded = false;
        if (auto st = session_->status(e.torrent)) {
            std::int64_t base = 0;
            if (auto d = done_at_.find(e.torrent); d != done_at_.end())
                base = d->second;
            else if (auto x = extras_.find(e.torrent); x != extras_.end())
                base = x->second.stored_totals.downloaded;
            downloaded = st->downloaded > base;
            done_at_[e.torrent] = st->downloaded;
        }
        if (final_dirs_.count(e.torrent) && !pending_moves_.count(e.torrent)) {
            if (downloaded) done_after_move_[e.torrent] = true;
            start_completion_move(e.torrent);
        } else if (downloaded) {
            run_script(ScriptEvent::done, e.torrent);
        }
    }
}

void Daemon::start_completion_move(TorrentId id) {
    auto h = hashes_.find(id);
    auto f = final_dirs_.find(id);
    if (h == hashes_.end() || f == final_dirs_.end()) return;
    const std::string target = f->second;
    try {
        store_->set_torrent_setting(h->second, "move_target", target);
        if (session_->move_storage(id, target, true)) {
            pending_moves_[id] = target;
            return;
        }
        store_->set_torrent_setting(h->second, "move_target", "");
    } catch (const std::exception& e) {
        // A file of the torrent already at the target, a full disk, ...: the data stays
        // in the incomplete dir, and the next finished check tries again.
        std::cerr << "piecewise daemon: " << h->second << ": moving to " << target
                  << " once finished: " << e.what() << "\n";
        try {
            store_->set_torrent_setting(h->second, "move_target", "");
        } catch (const std::exception&) {
        }
    }
    moved(id, target, false);
}

void Daemon::moved(TorrentId id, const std::string& target, bool ok) {
    auto f = final_dirs_.find(id);
    if (f != final_dirs_.end() && f->second == target) {
        if (ok)
            drop_final_dir(id);
        else if (auto h = hashes_.find(id); h != hashes_.end())
            std::cerr << "piecewise daemon: " << h->second
                      << ": the finished torrent stays in the incomplete dir\n";
    }
    if (done_after_move_.erase(id)) run_script(ScriptEvent::done, id);
}

void Daemon::drop_final_dir(TorrentId id) {
    auto h = hashes_.find(id);
    if (!final_dirs_.erase(id) || h == hashes_.end()) return;
    try {
        store_->set_torrent_setting(h->second, "final_dir", "");
    } catch (const std::exception& e) {
        std::cerr << "piecewise daemon: " << h->second << ": " << e.what() << "\n";
    }
}

}  // namespace pw::daemon
