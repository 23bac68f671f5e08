// The daemon's speed limits: Transmission-style records (speed_limits.hpp), kept in the
// state store and handed to the Session in bytes/s.
#include <map>
#include <string>

#include "daemon/daemon.hpp"

namespace pw::daemon {

namespace {

std::map<std::string, std::int64_t> to_values(const SpeedLimits& l) {
    return {{"down_kbps", l.down_kbps},           {"up_kbps", l.up_kbps},
            {"down_enabled", l.down_enabled},     {"up_enabled", l.up_enabled},
            {"alt_down_kbps", l.alt_down_kbps},   {"alt_up_kbps", l.alt_up_kbps},
            {"alt_enabled", l.alt_enabled},       {"alt_time_enabled", l.alt_time_enabled},
            {"alt_time_begin", l.alt_time_begin}, {"alt_time_end", l.alt_time_end},
            {"alt_time_day", l.alt_time_day}};
}

// Values out of range (a hand-edited database) fall back to the defaults.
SpeedLimits from_values(const std::map<std::string, std::int64_t>& v) {
    SpeedLimits l;
    auto get = [&v](const char* name, auto& out, std::int64_t lo, std::int64_t hi) {
        auto it = v.find(name);
        if (it != v.end() && it->second >= lo && it->second <= hi)
            out = static_cast<std::remove_reference_t<decltype(out)>>(it->second);
    };
    constexpr std::int64_t max_kbps = 1'000'000'000;
    get("down_kbps", l.down_kbps, 0, max_kbps);
    get("up_kbps", l.up_kbps, 0, max_kbps);
    get("down_enabled", l.down_enabled, 0, 1);
    get("up_enabled", l.up_enabled, 0, 1);
    get("alt_down_kbps", l.alt_down_kbps, 0, max_kbps);
    get("alt_up_kbps", l.alt_up_kbps, 0, max_kbps);
    get("alt_enabled", l.alt_enabled, 0, 1);
    get("alt_time_enabled", l.alt_time_enabled, 0, 1);
    get("alt_time_begin", l.alt_time_begin, 0, 1439);
    get("alt_time_end", l.alt_time_end, 0, 1439);
    get("alt_time_day", l.alt_time_day, 0, 127);
    return l;
}

}  // namespace

void Daemon::load_speed_limits() {
    speed_ = from_values(store_->load_session_limits());
    // --max-down/--max-up on the command line win over what was stored, and are kept.
    bool changed = false;
    auto from_cli = [&](const std::optional<std::int64_t>& bytes, std::int64_t& kbps,
                        bool& enabled) {
        if (!bytes) return;
        enabled = *bytes > 0;
        if (*bytes > 0) kbps = std::max<std::int64_t>(1, (*bytes + speed_k / 2) / speed_k);
        changed = true;
    };
    from_cli(cfg_.max_down, speed_.down_kbps, speed_.down_enabled);
    from_cli(cfg_.max_up, speed_.up_kbps, speed_.up_enabled);
    if (changed) store_->put_session_limits(to_values(speed_));
    cfg_.settings.rate_limits = speed_.engine();
    // The command line's exact bytes/s, not rounded to kB/s.
    if (cfg_.max_down) cfg_.settings.rate_limits.download_rate_limit = *cfg_.max_down;
    if (cfg_.max_up) cfg_.settings.rate_limits.upload_rate_limit = *cfg_.max_up;
    for (auto& [hash, row] : store_->load_torrent_limits())
        torrent_speed_[hash] = TorrentSpeedLimits{row.down_kbps, row.up_kbps, row.down_limited,
                                                  row.up_limited, row.honors_session};
}

void Daemon::stored_torrent_limits(const std::string& hash, piecewise::AddTorrentParams& p) {
    auto it = torrent_speed_.find(hash);
    if (it == torrent_speed_.end()) return;
    p.download_limit = it->second.engine_down();
    p.upload_limit = it->second.engine_up();
    p.honors_session_limits = it->second.honors_session;
}

SpeedLimits Daemon::speed_limits() {
    std::lock_guard lk(mu_);
    SpeedLimits l = speed_;
    l.alt_enabled = session_->rate_limits().alt_speed_enabled;
    return l;
}

void Daemon::set_speed_limits(const SpeedLimits& l) {
    std::lock_guard lk(mu_);
    session_->set_rate_limits(l.engine());
    // The schedule may have switched alt speed as it applied its window.
    speed_ = l;
    speed_.alt_enabled = session_->rate_limits().alt_speed_enabled;
    store_->put_session_limits(to_values(speed_));
}

std::optional<TorrentSpeedLimits> Daemon::torrent_speed_limits(piecewise::TorrentId id) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return std::nullopt;
    auto it = torrent_speed_.find(h->second);
    return it == torrent_speed_.end() ? TorrentSpeedLimits{} : it->second;
}

bool Daemon::set_torrent_speed_limits(piecewise::TorrentId id, const TorrentSpeedLimits& l) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    if (!session_->set_torrent_limits(id, l.engine_down(), l.engine_up(), l.honors_session))
        return false;
    store_->put_torrent_limits(
        h->second, state::TorrentLimitsRow{l.down_kbps, l.up_kbps, l.down_limited, l.up_limited,
                                           l.honors_session});
    torrent_speed_[h->second] = l;
    return true;
}

}  // namespace pw::daemon
