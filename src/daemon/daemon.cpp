#include "daemon/daemon.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "meta/magnet.hpp"
#include "meta/metainfo.hpp"
#include "swarm/seed_ratio.hpp"

namespace pw::daemon {

namespace fs = std::filesystem;
using piecewise::TorrentId;

namespace {

std::int64_t now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

std::string read_all(const fs::path& p, std::size_t limit) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw piecewise::Error("cannot read " + p.string());
    std::string s;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        s.append(buf, static_cast<std::size_t>(in.gcount()));
        if (s.size() > limit)
            throw piecewise::Error(p.string() + ": larger than a .torrent may be");
    }
    return s;
}

constexpr std::size_t max_torrent_bytes = 32u << 20;

}  // namespace

std::string Daemon::torrent_file_for(const std::string& hash) const {
    return (fs::path(cfg_.state_dir) / "torrents" / (hash + ".torrent")).string();
}

Daemon::Daemon(DaemonConfig cfg) : cfg_(std::move(cfg)) {
    std::error_code ec;
    fs::create_directories(fs::path(cfg_.state_dir) / "torrents", ec);
    if (ec)
        throw piecewise::Error("cannot create state directory " + cfg_.state_dir + ": " +
                               ec.message());
    if (cfg_.settings.resume_dir.empty())
        cfg_.settings.resume_dir = (fs::path(cfg_.state_dir) / "resume").string();
    if (cfg_.settings.dht_state_file.empty())
        cfg_.settings.dht_state_file = (fs::path(cfg_.state_dir) / "dht.state").string();
    store_ = std::make_unique<state::Store>((fs::path(cfg_.state_dir) / "state.sqlite").string());
    auto rows = store_->load();
    auto file_options = store_->load_file_options();
    load_speed_limits();
    load_session_settings();
    load_queue_settings();
    load_totals();
    load_blocklist_settings();
    load_network_settings();
    load_incomplete_settings();
    load_script_settings();
    session_ = open_session();
    pick_random_port();
    apply_blocklist();
    apply_groups();
    std::vector<std::string> queue_order;
    auto holds = startup_holds(rows, queue_order);
    started_at_ = now();
    for (auto& row : rows) {
        piecewise::AddTorrentParams p;
        p.save_path = row.download_dir;
        p.paused = row.paused;
        queue::Hold hold = holds[row.info_hash];
        p.hold_if_incomplete = hold.if_incomplete;
        p.hold_if_complete = hold.if_complete;
        if (auto fo = file_options.find(row.info_hash); fo != file_options.end()) {
            p.file_priorities = fo->second.priorities;
            p.sequential = fo->second.sequential;
        }
        stored_torrent_limits(row.info_hash, p);
        std::string torrent = row.torrent;
        if (torrent.empty() && fs::exists(torrent_file_for(row.info_hash))) {
            // A magnet whose metadata arrived before the restart.
            try {
                torrent = read_all(torrent_file_for(row.info_hash), max_torrent_bytes);
                pw::meta::parse(torrent);
                store_->set_torrent(row.info_hash, torrent);
            } catch (const std::exception&) {
                torrent.clear();
            }
        }
        if (!torrent.empty()) {
            p.torrent_data = torrent;
        } else {
            p.magnet = row.magnet;
            p.save_torrent = torrent_file_for(row.info_hash);
        }
        TorrentExtras extras;
        prepare_extras(row.info_hash, torrent, row.magnet, extras, p);
        restore_location(row.info_hash, torrent, p);
        auto final_dir = restore_final_dir(row.info_hash, p.save_path);
        apply_totals(row.info_hash, p, extras);
        try {
            auto id = session_->add_torrent(p);
            hashes_[id] = row.info_hash;
            if (!p.renames.empty()) renames_[id] = p.renames;
            if (!final_dir.empty()) final_dirs_[id] = final_dir;
            extras_[id] = std::move(extras);
            queue_added(id, row.paused, hold);
        } catch (const std::exception& e) {
            // Kept in the store: a later version may read it; said once at startup.
            std::cerr << "piecewise daemon: stored torrent " << row.info_hash
                      << " not loaded: " << e.what() << "\n";
        }
    }
    stored_extras_.clear();
    std::map<std::string, TorrentId> by_hash;
    for (auto& [id, h] : hashes_) by_hash[h] = id;
    std::vector<TorrentId> ids;
    for (auto& h : queue_order)
        if (auto it = by_hash.find(h); it != by_hash.end()) ids.push_back(it->second);
    queue_.reorder(ids);
    save_positions();  // renumbered from 0: what failed to load leaves no gap
    loaded_totals_.clear();
    house_ = std::thread([this] { housekeeping(); });
}

Daemon::~Daemon() {
    {
        std::lock_guard lk(mu_);
        house_stop_ = true;
    }
    house_cv_.notify_all();
    if (house_.joinable()) house_.join();
    if (session_) {
        std::lock_guard lk(mu_);
        persist_moves();  // moves that ended since the last round
    }
    if (session_) sample_totals(true);  // the last minute's statistics
    if (session_) session_->stop();
    if (session_) log_session_events();  // the mappings removed as the session stopped
}

AddResult Daemon::add(const AddRequest& req) {
    std::lock_guard lk(mu_);
    std::string dir =
        check_dir(req.download_dir.empty() ? cfg_.download_dir : req.download_dir, "download-dir");
    piecewise::AddTorrentParams p;
    p.paused = req.paused;
    state::TorrentRow row;
    row.paused = req.paused;
    row.added_date = now();
    AddResult res;
    try {
        if (!req.metainfo.empty()) {
            row.torrent = req.metainfo;
        } else if (pw::meta::is_magnet(req.filename)) {
            auto m = pw::meta::parse_magnet(req.filename);
            row.magnet = req.filename;
            row.info_hash = m.info_hash.hex();
            res.name = m.name.empty() ? row.info_hash : m.name;
        } else if (req.filename.rfind("http://", 0) == 0 ||
                   req.filename.rfind("https://", 0) == 0) {
            throw piecewise::Error(
                "fetching a .torrent by URL is not supported yet: pass its bytes as metainfo");
        } else if (!req.filename.empty()) {
            row.torrent = read_all(req.filename, max_torrent_bytes);
        } else {
            throw piecewise::Error("torrent-add needs filename or metainfo");
        }
        if (!row.torrent.empty()) {
            auto m = pw::meta::parse(row.torrent);
            row.info_hash = m.info_hash.hex();
            res.name = m.name;
            if (req.files.files()) {
                std::vector<bool> pads;
                for (auto& f : m.files) pads.push_back(f.pad);
                auto listed = static_cast<std::size_t>(std::count(pads.begin(), pads.end(), false));
                p.file_priorities =
                    with_pad_files(apply_file_change(std::vector<int>(listed, 4), req.files), pads);
            }
        } else if (req.files.files()) {
            throw piecewise::Error(
                "file selection for a magnet link: set it with torrent-set once its metadata "
                "arrived");
        }
        p.sequential = req.files.sequential.value_or(false);
    } catch (const pw::meta::MetainfoError& e) {
        throw piecewise::Error(std::string("invalid or corrupt torrent file: ") + e.what());
    }
    res.hash = row.info_hash;
    std::string final_dir;  // set: the data goes to the incomplete dir until finished
    p.save_path = row.download_dir = place_added(row.torrent, dir, final_dir);
    for (auto& [id, h] : hashes_)
        if (h == row.info_hash) {
            res.id = id;
            res.duplicate = true;
            if (auto st = session_->status(id)) res.name = st->name;
            return res;
        }
    if (!row.torrent.empty()) {
        p.torrent_data = row.torrent;
    } else {
        p.magnet = row.magnet;
        p.save_torrent = torrent_file_for(row.info_hash);
    }
    TorrentExtras extras;
    prepare_extras(row.info_hash, row.torrent, row.magnet, extras, p);
    extras.labels = req.labels;
    if (req.bandwidth_priority) p.bandwidth_priority = extras.bandwidth_priority = *req.bandwidth_priority;
    if (req.peer_limit) p.max_peers = extras.peer_limit = *req.peer_limit;
    queue::Hold hold;
    if (!req.paused) hold = queue_.holds(queue::Clock::now());
    p.hold_if_incomplete = hold.if_incomplete;
    p.hold_if_complete = hold.if_complete;
    res.id = session_->add_torrent(p);
    try {
        store_->put(row);
        if (!final_dir.empty()) store_->set_torrent_setting(row.info_hash, "final_dir", final_dir);
        // Always written: it replaces what an earlier torrent of this hash left.
        store_->set_file_options(row.info_hash, {p.file_priorities, p.sequential});
        if (!req.labels.empty())
            store_->set_torrent_setting(row.info_hash, "labels", encode_strings(req.labels));
        if (req.bandwidth_priority)
            store_->set_torrent_setting(row.info_hash, "bandwidth_priority",
                                        std::to_string(extras.bandwidth_priority));
        if (req.peer_limit)
            store_->set_torrent_setting(row.info_hash, "peer_limit", std::to_string(extras.peer_limit));
    } catch (...) {
        session_->remove_torrent(res.id, false);
        throw;
    }
    hashes_[res.id] = row.info_hash;
    if (!final_dir.empty()) final_dirs_[res.id] = final_dir;
    extras_[res.id] = std::move(extras);
    queue_added(res.id, req.paused, hold);
    save_positions();
    flushed_totals_.erase(row.info_hash);
    if (!row.torrent.empty()) count_files_added(row.torrent);
    run_script(ScriptEvent::added, res.id);
    return res;
}

std::vector<TorrentId> Daemon::list() {
    return session_->list();
}

bool Daemon::start(TorrentId id) {
    std::lock_guard lk(mu_);
    auto it = hashes_.find(id);
    if (it == hashes_.end()) return false;
    // As Transmission: starting a torrent that reached its ratio limit by hand lifts that
    // limit (it would stop again at once otherwise).
    auto st = session_->status(id);
    if (!st) return false;
    if (st->paused && st->seed_ratio_reached) {
        auto& e = extras_[id];
        auto eff = effective_seed_limits(seed_limits_, e.seed);
        if (pw::swarm::seed_ratio_reached(st->uploaded, st->downloaded, st->size_when_done,
                                          eff.ratio)) {
            e.seed.ratio_mode = 2;
            store_->set_torrent_setting(it->second, "seed_ratio_mode", "2");
            apply_seed_limits(id);
        }
    }
    if (!queue_start(id, *st)) return false;
    store_->set_paused(it->second, false);
    return true;
}

bool Daemon::stop(TorrentId id) {
    std::lock_guard lk(mu_);
    auto it = hashes_.find(id);
    if (it == hashes_.end() || !session_->pause(id)) return false;
    queue_.stopped(id);
    queue_dirty_ = true;
    store_->set_paused(it->second, true);
    return true;
}

bool Daemon::verify(TorrentId id) {
    {
        std::lock_guard lk(mu_);
        queue_dirty_ = true;  // it may turn out incomplete: a download for the queue
    }
    return session_->recheck(id);
}

bool Daemon::reannounce(TorrentId id) {
    return session_->reannounce(id);
}

bool Daemon::remove(TorrentId id, bool delete_data) {
    std::lock_guard lk(mu_);
    auto it = hashes_.find(id);
    if (it == hashes_.end()) return false;
    // The row goes first: once acknowledged, a crash never brings the torrent back.
    store_->remove(it->second);
    if (torrent_speed_.erase(it->second)) store_->remove_torrent_limits(it->second);
    store_->remove_totals(it->second);
    flushed_totals_.erase(it->second);
    std::error_code ec;
    fs::remove(torrent_file_for(it->second), ec);
    session_->remove_torrent(id, delete_data);
    hashes_.erase(it);
    extras_.erase(id);
    pending_moves_.erase(id);
    renames_.erase(id);
    final_dirs_.erase(id);
    done_after_move_.erase(id);
    done_at_.erase(id);
    queue_.remove(id);  // the ones behind move up
    save_positions();
    queue_dirty_ = true;
    removed_at_[id] = now();
    return true;
}

std::vector<TorrentId> Daemon::recently_removed() {
    std::lock_guard lk(mu_);
    std::vector<TorrentId> out;
    auto t = now();
    for (auto it = removed_at_.begin(); it != removed_at_.end();) {
        if (t - it->second > 60) {
            it = removed_at_.erase(it);
        } else {
            out.push_back(it->first);
            ++it;
        }
    }
    return out;
}

void Daemon::set_download_dir(const std::string& dir) {
    auto checked = check_dir(dir, "download-dir");
    std::lock_guard lk(mu_);
    store_->set_setting("download_dir", checked);
    cfg_.download_dir = checked;
}

}  // namespace pw::daemon
