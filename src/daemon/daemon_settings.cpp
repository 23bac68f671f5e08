// The Daemon's per-torrent settings (seed limits, labels, tracker list) and the session's
// seed limits: kept in memory, committed to the store's key/value tables before a change
// is acknowledged, given to the engine through Session. Also the housekeeping thread that
// records torrents the engine stopped at a seed limit as paused (a restart keeps them so).
#include <algorithm>
#include <chrono>
#include <iostream>

#include <filesystem>

#include "daemon/daemon.hpp"
#include "meta/magnet.hpp"
#include "meta/metainfo.hpp"

namespace pw::daemon {

using piecewise::TorrentId;
namespace fs = std::filesystem;

namespace {

std::optional<double> to_double(const std::string& s) {
    try {
        std::size_t n = 0;
        double d = std::stod(s, &n);
        if (n != s.size()) return std::nullopt;
        return d;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<int> to_int(const std::string& s) {
    try {
        std::size_t n = 0;
        long v = std::stol(s, &n);
        if (n != s.size() || v < INT32_MIN || v > INT32_MAX) return std::nullopt;
        return static_cast<int>(v);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

const char* encryption_name(piecewise::Encryption e) {
    return e == piecewise::Encryption::require   ? "require"
           : e == piecewise::Encryption::disable ? "disable"
                                                 : "prefer";
}

std::optional<piecewise::Encryption> parse_encryption_name(const std::string& s) {
    if (s == "require") return piecewise::Encryption::require;
    if (s == "disable") return piecewise::Encryption::disable;
    if (s == "prefer") return piecewise::Encryption::prefer;
    return std::nullopt;
}

std::string num(double d) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
}

}  // namespace

bool Daemon::stored_wins(const std::map<std::string, std::string>& kv, const std::string& key,
                         const std::string& cli, bool cli_given) {
    auto last = kv.find(key + "_cli");
    bool wins = false;
    if (kv.count(key) != 0) wins = last == kv.end() ? !cli_given : last->second == cli;
    store_->set_setting(key + "_cli", cli);
    return wins;
}

void Daemon::load_session_settings() {
    auto kv = store_->load_settings();
    auto get = [&](const char* k) -> const std::string* {
        auto it = kv.find(k);
        return it == kv.end() ? nullptr : &it->second;
    };
    if (auto* v = get("seed_ratio_limit"))
        if (auto d = to_double(*v); d && *d >= 0) seed_limits_.ratio = *d;
    if (auto* v = get("seed_ratio_limited")) seed_limits_.ratio_limited = *v == "1";
    if (auto* v = get("idle_seeding_limit"))
        if (auto i = to_int(*v); i && *i > 0) seed_limits_.idle_minutes = *i;
    if (auto* v = get("idle_seeding_limit_enabled")) seed_limits_.idle_limited = *v == "1";
    if (auto* v = get("start_added_torrents")) start_added_ = *v == "1";
    if (auto* v = get("trash_original_torrent_files")) trash_original_ = *v == "1";
    // session-set's download-dir, encryption and peer-limit-global against --download-dir,
    // --encryption and --max-connections: stored_wins's rule.
    const std::string dir_cli = cfg_.download_dir_given ? cfg_.download_dir : "";
    bool dir_kept = false;
    if (stored_wins(kv, "download_dir", dir_cli, cfg_.download_dir_given)) {
        try {
            cfg_.download_dir = check_dir(*get("download_dir"), "download-dir");
            dir_kept = true;
        } catch (const piecewise::Error&) {
            // Outside a --download-root given since: the command line's value stays.
        }
    }
    if (!dir_kept) store_->set_setting("download_dir", cfg_.download_dir);
    const std::string enc_cli = cfg_.encryption_given ? encryption_name(cfg_.settings.encryption) : "";
    std::optional<piecewise::Encryption> enc;
    if (stored_wins(kv, "encryption", enc_cli, cfg_.encryption_given)) enc = parse_encryption_name(*get("encryption"));
    if (enc)
        cfg_.settings.encryption = *enc;
    else
        store_->set_setting("encryption", encryption_name(cfg_.settings.encryption));
    const std::string conn_cli = cfg_.max_connections_given ? std::to_string(cfg_.settings.max_connections) : "";
    std::optional<int> conns;
    if (stored_wins(kv, "peer_limit_global", conn_cli, cfg_.max_connections_given))
        if (auto i = to_int(*get("peer_limit_global")); i && *i > 0 && *i <= max_peer_limit) conns = *i;
    if (conns)
        cfg_.settings.max_connections = *conns;
    else
        store_->set_setting("peer_limit_global", std::to_string(cfg_.settings.max_connections));
    // peer-limit-per-torrent has no command-line form.
    if (auto* v = get("cache_size_mb"))
        if (auto i = to_int(*v); i && *i >= 0 && *i <= max_cache_mb) cfg_.settings.cache_bytes = std::int64_t(*i) << 20;
    if (auto* v = get("peer_limit_per_torrent"))
        if (auto i = to_int(*v); i && *i > 0 && *i <= max_peer_limit)
            cfg_.settings.max_peers_per_torrent = *i;
    stored_extras_ = store_->load_torrent_settings();
}

void Daemon::prepare_extras(const std::string& hash, const std::string& torrent,
                            const std::string& magnet, TorrentExtras& e,
                            piecewise::AddTorrentParams& p) {
    try {
        if (!torrent.empty())
            e.trackers = pw::meta::parse(torrent).trackers;
        else if (!magnet.empty())
            for (auto& url : pw::meta::parse_magnet(magnet).trackers) e.trackers.push_back({url});
    } catch (const std::exception&) {
        // The engine reports the bad torrent when it is added.
    }
    if (auto it = stored_extras_.find(hash); it != stored_extras_.end()) {
        auto& kv = it->second;
        auto get = [&](const char* k) -> const std::string* {
            auto f = kv.find(k);
            return f == kv.end() ? nullptr : &f->second;
        };
        // A value this version cannot read keeps its default (and is said once).
        auto bad = [&](const char* k) {
            std::cerr << "piecewise daemon: torrent " << hash << ": stored " << k
                      << " unreadable, default kept\n";
        };
        if (auto* v = get("seed_ratio_limit")) {
            if (auto d = to_double(*v); d && *d >= 0)
                e.seed.ratio = *d;
            else
                bad("seed_ratio_limit");
        }
        if (auto* v = get("seed_ratio_mode")) {
            if (auto i = to_int(*v); i && *i >= 0 && *i <= 2)
                e.seed.ratio_mode = *i;
            else
                bad("seed_ratio_mode");
        }
        if (auto* v = get("seed_idle_limit")) {
            if (auto i = to_int(*v); i && *i >= 0)
                e.seed.idle_minutes = *i;
            else
                bad("seed_idle_limit");
        }
        if (auto* v = get("seed_idle_mode")) {
            if (auto i = to_int(*v); i && *i >= 0 && *i <= 2)
                e.seed.idle_mode = *i;
            else
                bad("seed_idle_mode");
        }
        if (auto* v = get("bandwidth_priority")) {
            if (auto i = to_int(*v); i && *i >= -1 && *i <= 1)
                e.bandwidth_priority = *i;
            else
                bad("bandwidth_priority");
        }
        if (auto* v = get("peer_limit")) {
            if (auto i = to_int(*v); i && *i >= 0 && *i <= max_peer_limit)
                e.peer_limit = *i;
            else
                bad("peer_limit");
        }
        if (auto* v = get("labels")) {
            if (auto l = decode_strings(*v))
                e.labels = *l;
            else
                bad("labels");
        }
        if (auto* v = get("trackers")) {
            if (auto t = decode_tiers(*v)) {
                e.trackers = *t;
                e.trackers_set = true;
            } else {
                bad("trackers");
            }
        }
    }
    auto eff = effective_seed_limits(seed_limits_, e.seed);
    p.stop_at_seed_limit = eff.ratio >= 0 || eff.idle_minutes > 0;
    p.seed_ratio = eff.ratio;
    p.seed_idle_minutes = eff.idle_minutes;
    if (e.trackers_set) p.trackers = e.trackers;
    p.bandwidth_priority = e.bandwidth_priority;
    p.max_peers = e.peer_limit;
    prepare_group(hash, e, p);
}

void Daemon::apply_seed_limits(TorrentId id) {
    auto eff = effective_seed_limits(seed_limits_, extras_[id].seed);
    session_->set_seed_limits(id, eff.ratio, eff.idle_minutes);
}

std::optional<TorrentExtras> Daemon::extras(TorrentId id) {
    std::lock_guard lk(mu_);
    auto it = extras_.find(id);
    if (it == extras_.end()) return std::nullopt;
    return it->second;
}

bool Daemon::set_seed_limits(TorrentId id, const TorrentSeedLimits& limits) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    auto& e = extras_[id];
    // Stored first: what is acknowledged survives a crash.
    store_->set_torrent_setting(h->second, "seed_ratio_limit", num(limits.ratio));
    store_->set_torrent_setting(h->second, "seed_ratio_mode", std::to_string(limits.ratio_mode));
    store_->set_torrent_setting(h->second, "seed_idle_limit", std::to_string(limits.idle_minutes));
    store_->set_torrent_setting(h->second, "seed_idle_mode", std::to_string(limits.idle_mode));
    e.seed = limits;
    apply_seed_limits(id);
    return true;
}

bool Daemon::set_labels(TorrentId id, const std::vector<std::string>& labels) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    store_->set_torrent_setting(h->second, "labels", encode_strings(labels));
    extras_[id].labels = labels;
    return true;
}

bool Daemon::set_bandwidth_priority(TorrentId id, int priority) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    priority = std::clamp(priority, -1, 1);
    store_->set_torrent_setting(h->second, "bandwidth_priority", std::to_string(priority));
    extras_[id].bandwidth_priority = priority;
    return session_->set_bandwidth_priority(id, priority);
}

bool Daemon::set_peer_limit(TorrentId id, int max_peers) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    max_peers = std::clamp(max_peers, 0, max_peer_limit);
    store_->set_torrent_setting(h->second, "peer_limit", std::to_string(max_peers));
    extras_[id].peer_limit = max_peers;
    return session_->set_peer_limit(id, max_peers);
}

bool Daemon::set_trackers(TorrentId id, const std::vector<std::vector<std::string>>& tiers) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    std::vector<std::vector<std::string>> clean;
    for (auto& t : tiers)
        if (!t.empty()) clean.push_back(t);
    // The engine checks the URLs (throws Error) before anything is stored.
    if (!session_->set_trackers(id, clean)) return false;
    store_->set_torrent_setting(h->second, "trackers", encode_tiers(clean));
    auto& e = extras_[id];
    e.trackers = clean;
    e.trackers_set = true;
    return true;
}

SessionSeedLimits Daemon::session_seed_limits() {
    std::lock_guard lk(mu_);
    return seed_limits_;
}

void Daemon::set_session_seed_limits(const SessionSeedLimits& limits) {
    std::lock_guard lk(mu_);
    store_->set_setting("seed_ratio_limit", num(limits.ratio));
    store_->set_setting("seed_ratio_limited", limits.ratio_limited ? "1" : "0");
    store_->set_setting("idle_seeding_limit", std::to_string(limits.idle_minutes));
    store_->set_setting("idle_seeding_limit_enabled", limits.idle_limited ? "1" : "0");
    seed_limits_ = limits;
    // Torrents that follow the session's limits (mode 0) get the new ones.
    for (auto& [id, e] : extras_)
        if (e.seed.ratio_mode == 0 || e.seed.idle_mode == 0) apply_seed_limits(id);
}

void Daemon::set_encryption(piecewise::Encryption policy) {
    std::lock_guard lk(mu_);
    store_->set_setting("encryption", encryption_name(policy));
    session_->set_encryption(policy);
    cfg_.settings.encryption = policy;
}

void Daemon::set_peer_limits(int global, int per_torrent) {
    std::lock_guard lk(mu_);
    if (global > 0) {
        global = std::min(global, max_peer_limit);
        store_->set_setting("peer_limit_global", std::to_string(global));
        cfg_.settings.max_connections = global;
    }
    if (per_torrent > 0) {
        per_torrent = std::min(per_torrent, max_peer_limit);
        store_->set_setting("peer_limit_per_torrent", std::to_string(per_torrent));
        cfg_.settings.max_peers_per_torrent = per_torrent;
    }
    session_->set_peer_limits(global, per_torrent);
}

void Daemon::set_cache_mb(int mb) {
    std::lock_guard lk(mu_);
    mb = std::clamp(mb, 0, max_cache_mb);
    session_->set_cache_bytes(std::int64_t(mb) << 20);
    store_->set_setting("cache_size_mb", std::to_string(mb));
    cfg_.settings.cache_bytes = std::int64_t(mb) << 20;
}

bool Daemon::start_added_torrents() {
    std::lock_guard lk(mu_);
    return start_added_;
}

void Daemon::set_start_added_torrents(bool on) {
    std::lock_guard lk(mu_);
    store_->set_setting("start_added_torrents", on ? "1" : "0");
    start_added_ = on;
}

bool Daemon::trash_original_torrent_files() {
    std::lock_guard lk(mu_);
    return trash_original_;
}

void Daemon::set_trash_original_torrent_files(bool on) {
    std::lock_guard lk(mu_);
    store_->set_setting("trash_original_torrent_files", on ? "1" : "0");
    trash_original_ = on;
}

std::vector<piecewise::Event> Daemon::log_session_events() {
    auto events = session_->pop_events();
    for (const auto& e : events)
        if (e.type == piecewise::EventType::port_mapped || e.type == piecewise::EventType::port_mapping_error)
            std::cerr << "piecewise daemon: " << e.message << std::endl;
    return events;
}

void Daemon::housekeeping() {
    std::unique_lock lk(mu_);
    while (!house_stop_) {
        house_cv_.wait_for(lk, std::chrono::seconds(1));
        if (house_stop_) break;
        lk.unlock();
        // Looked at before the stops below, so a seed-limit stop is never taken for a
        // torrent waiting in the queue.
        auto seen = queue_observe();
        auto stopped = session_->take_seed_limit_stops();
        sample_totals(false);
        auto events = log_session_events();
        lk.lock();
        persist_moves();
        handle_events(events);  // finished torrents: completion moves, done scripts
        for (auto id : stopped) {
            auto h = hashes_.find(id);
            if (h == hashes_.end()) continue;
            queue_.stopped(id);
            try {
                store_->set_paused(h->second, true);
            } catch (const std::exception& e) {
                std::cerr << "piecewise daemon: " << e.what() << "\n";
            }
            run_script(ScriptEvent::done_seeding, id);
        }
        if (seen) queue_decide(*seen);
    }
}

}  // namespace pw::daemon
