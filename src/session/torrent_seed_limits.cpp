// Seeding limits (a ratio and an idle time after which a complete torrent stops, as
// Transmission's seedRatioLimit / seedIdleLimit) and replacing the tracker list.
#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "session/torrent.hpp"
#include "swarm/seed_ratio.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::EventType;
using piecewise::TorrentState;

void Torrent::build_trackers(const std::vector<std::vector<std::string>>& tiers) {
    // Status (errors, counts, next announce) carries over for URLs kept.
    std::vector<TrackerEntry> old = std::move(trackers_);
    trackers_.clear();
    int tier = 0;
    for (auto t : tiers) {
        if (t.empty()) continue;
        std::shuffle(t.begin(), t.end(), rng_);  // BEP 12: shuffle each tier once
        for (auto& url : t) {
            TrackerEntry e;
            for (auto& o : old)
                if (o.url == url) e = o;
            e.url = url;
            e.tier = tier;
            e.status.url = url;
            trackers_.push_back(std::move(e));
        }
        ++tier;
    }
}

void Torrent::set_trackers(const std::vector<std::vector<std::string>>& tiers) {
    params_.trackers = tiers;
    build_trackers(tiers);
    // Checking or paused: the list is used when the torrent starts.
    if (stopping_ || paused_ || !accepting()) return;
    // Announce to the new list now: wake the loop, or start it if there was no tracker.
    if (tracker_running_)
        tracker_wake_.cancel();
    else if (!trackers_.empty()) {
        tracker_running_ = true;
        asio::co_spawn(ctx_.io, tracker_loop(), asio::detached);
    }
}

void Torrent::set_seed_limits(double ratio, int idle_minutes) {
    params_.stop_at_seed_limit = ratio >= 0 || idle_minutes > 0;
    params_.seed_ratio = ratio;
    params_.seed_idle_minutes = idle_minutes;
    last_activity_ = Clock::now();  // the idle time counts from the change
}

void Torrent::check_seed_limits() {
    auto now = Clock::now();
    std::int64_t moved = downloaded_ + uploaded_;
    if (moved != activity_bytes_) {
        activity_bytes_ = moved;
        last_activity_ = now;
    }
    if (!params_.stop_at_seed_limit || paused_ || stopping_ || state_ != TorrentState::seeding)
        return;
    std::string why;
    // The ratio torrent-get shows (swarm/seed_ratio.hpp): of the wanted pieces' size, not
    // the whole torrent's, for a torrent that downloaded nothing.
    if (swarm::seed_ratio_reached(uploaded_, downloaded_, wanted_size(), params_.seed_ratio))
        why = fmt::format("seed ratio {:.2f} reached", params_.seed_ratio);
    else if (params_.seed_idle_minutes > 0 &&
             now - last_activity_ >= std::chrono::minutes(params_.seed_idle_minutes))
        why = fmt::format("idle for {} minutes while seeding", params_.seed_idle_minutes);
    if (why.empty()) return;
    seed_limit_stopped_ = true;
    seed_limit_stop_pending_ = true;
    emit(EventType::seed_limit_reached, why + ": stopped");
    asio::co_spawn(ctx_.io, pause(std::chrono::seconds(3)), asio::detached);
}

}  // namespace pw::session
