// Where a torrent's data lives: torrent-set-location (Session::move_storage) and
// torrent-rename-path (Session::rename_path), kept in the state store so that a restart
// finds the data, also after kill -9 in the middle of either.
//
// A move records its target ("move_target") before it starts and the new download_dir
// once the engine reports it done (the files fsync'd, the resume record rewritten); a
// restart that finds a target still recorded takes whichever place holds more of the
// torrent's bytes. A rename records itself ("rename_pending") first and joins the list of
// renames ("renames", replayed on the metainfo at every start) once done; a restart keeps
// a pending one when its new name is on disk and its old one is not.
#include <filesystem>
#include <iostream>

#include "daemon/daemon.hpp"
#include "meta/metainfo.hpp"
#include "session/torrent.hpp"
#include "storage/parse/relocation.hpp"
#include "storage/relocate.hpp"

namespace pw::daemon {

namespace fs = std::filesystem;
using piecewise::TorrentId;

namespace {

std::string encode_renames(const std::vector<std::pair<std::string, std::string>>& r) {
    std::vector<std::string> flat;
    for (auto& [path, name] : r) {
        flat.push_back(path);
        flat.push_back(name);
    }
    return encode_strings(flat);
}

std::vector<std::pair<std::string, std::string>> decode_renames(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    auto flat = decode_strings(text);
    if (!flat) return out;
    for (std::size_t i = 0; i + 1 < flat->size(); i += 2)
        out.emplace_back((*flat)[i], (*flat)[i + 1]);
    return out;
}

bool on_disk(const fs::path& p) {
    std::error_code ec;
    return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

// Under its own name or, not complete yet, its partial one (storage.hpp).
bool on_disk_any(const fs::path& p) {
    fs::path part = p;
    part += ".part";
    return on_disk(p) || on_disk(part);
}

}  // namespace

std::string Daemon::check_dir(const std::string& dir, const std::string& what) const {
    if (dir.empty() || !fs::path(dir).is_absolute())
        throw piecewise::Error(what + " must be an absolute path");
    std::string norm = fs::path(dir).lexically_normal().string();
    while (norm.size() > 1 && norm.back() == '/') norm.pop_back();
    if (!cfg_.download_root.empty()) {
        // Symbolic links resolved where they exist: a link inside the root that points out
        // of it does not count as inside.
        std::error_code ec;
        auto root = fs::weakly_canonical(cfg_.download_root, ec).string();
        auto real = fs::weakly_canonical(norm, ec).string();
        if (ec || !storage::path_within(root, real))
            throw piecewise::Error(what + " must be inside the download root " +
                                   cfg_.download_root);
    }
    return norm;
}

bool Daemon::set_location(TorrentId id, const std::string& dir, bool move) {
    auto target = check_dir(dir, "location");
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    persist_moves();  // a move that just ended is committed before the next one starts
    auto st = session_->status(id);
    if (!st) return false;
    if (st->moving || pending_moves_.count(id))
        throw piecewise::Error("the torrent is already being moved");
    if (move && st->save_path != target)
        for (auto& f : st->files)
            if (on_disk_any(fs::path(target) / f.path))
                throw piecewise::Error((fs::path(target) / f.path).string() +
                                       " already exists: nothing is replaced (move false uses "
                                       "the files there)");
    store_->set_torrent_setting(h->second, "move_target", target);
    bool known = false;
    try {
        known = session_->move_storage(id, target, move);
    } catch (...) {
        store_->set_torrent_setting(h->second, "move_target", "");
        throw;
    }
    if (!known) {
        store_->set_torrent_setting(h->second, "move_target", "");
        return false;
    }
    pending_moves_[id] = target;
    // Moved by hand: the new place is its download dir (no completion move any more).
    drop_final_dir(id);
    return true;
}

void Daemon::persist_moves() {
    for (auto it = pending_moves_.begin(); it != pending_moves_.end();) {
        auto h = hashes_.find(it->first);
        auto st = session_->status(it->first);
        if (h == hashes_.end() || !st) {
            it = pending_moves_.erase(it);
            continue;
        }
        if (st->moving) {
            ++it;
            continue;
        }
        try {
            if (st->save_path == it->second) store_->set_download_dir(h->second, it->second);
            store_->set_torrent_setting(h->second, "move_target", "");
        } catch (const std::exception& e) {
            std::cerr << "piecewise daemon: " << e.what() << "\n";
            ++it;
            continue;  // tried again next round
        }
        if (!st->move_error.empty()) std::cerr << "piecewise daemon: " << st->move_error << "\n";
        auto id = it->first;
        auto target = it->second;
        it = pending_moves_.erase(it);
        moved(id, target, st->save_path == target);  // an incomplete-dir torrent's move
    }
}

bool Daemon::rename_path(TorrentId id, const std::string& path, const std::string& name) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    store_->set_torrent_setting(h->second, "rename_pending", encode_renames({{path, name}}));
    bool known = false;
    try {
        known = session_->rename_path(id, path, name);
    } catch (const piecewise::Error& e) {
        // Still under way on a busy disk: the restart decides from what is on disk.
        if (std::string(e.what()).find("in the background") == std::string::npos)
            store_->set_torrent_setting(h->second, "rename_pending", "");
        throw;
    }
    if (known) {
        auto& list = renames_[id];
        list.emplace_back(path, name);
        store_->set_torrent_setting(h->second, "renames", encode_renames(list));
    }
    store_->set_torrent_setting(h->second, "rename_pending", "");
    return known;
}

void Daemon::restore_location(const std::string& hash, const std::string& torrent,
                              piecewise::AddTorrentParams& p) {
    auto settings = stored_extras_.find(hash);
    if (settings == stored_extras_.end()) return;
    auto value = [&](const char* key) {
        auto v = settings->second.find(key);
        return v == settings->second.end() ? std::string() : v->second;
    };
    p.renames = decode_renames(value("renames"));
    auto pending = decode_renames(value("rename_pending"));
    auto target = value("move_target");
    if (torrent.empty() && !target.empty()) {
        // A magnet still without its metadata has no data anywhere: the target holds.
        try {
            store_->set_download_dir(hash, target);
            store_->set_torrent_setting(hash, "move_target", "");
            p.save_path = target;
        } catch (const std::exception& e) {
            std::cerr << "piecewise daemon: " << hash << ": " << e.what() << "\n";
        }
    }
    if (torrent.empty() || (pending.empty() && target.empty())) return;
    std::optional<meta::Metainfo> m;
    try {
        m = meta::parse(torrent);
    } catch (const meta::MetainfoError&) {
        return;
    }
    if (!session::Torrent::apply_renames(*m, p.renames).empty()) return;  // add_torrent says why
    try {
        if (!pending.empty()) {
            std::vector<std::string> paths;
            for (auto& f : m->files) paths.push_back(f.path);
            auto plan = storage::plan_rename(paths, pending[0].first, pending[0].second);
            fs::path root = p.save_path;
            if (plan.error.empty() && plan.from != plan.to && !on_disk_any(root / plan.from) &&
                on_disk_any(root / plan.to)) {
                // Renamed on disk before the crash: keep it.
                p.renames.push_back(pending[0]);
                session::Torrent::apply_renames(*m, {pending[0]});
                store_->set_torrent_setting(hash, "renames", encode_renames(p.renames));
            }
            store_->set_torrent_setting(hash, "rename_pending", "");
        }
        if (!target.empty() && target != p.save_path) {
            auto here = storage::bytes_present(m->files, p.save_path);
            auto there = storage::bytes_present(m->files, target);
            if (there > here) {
                std::cerr << "piecewise daemon: " << hash << ": the move to " << target
                          << " was interrupted after the data got there: using it\n";
                store_->set_download_dir(hash, target);
                p.save_path = target;
            }
            storage::remove_staging(target, "." + hash + ".moving");
        }
        if (!target.empty()) store_->set_torrent_setting(hash, "move_target", "");
    } catch (const std::exception& e) {
        std::cerr << "piecewise daemon: " << hash << ": " << e.what() << "\n";
    }
}

}  // namespace pw::daemon
