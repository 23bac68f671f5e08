#include "session/rate_control.hpp"

#include <chrono>
#include <ctime>
#include <string>

namespace pw::session {

namespace {
constexpr int day_minutes = 24 * 60;
}  // namespace

RateControl::RateControl(boost::asio::io_context& io,
                         std::shared_ptr<peer::BandwidthLimiter> limiter,
                         piecewise::RateLimits initial)
    : limiter_(std::move(limiter)), limits_(initial), clock_(io) {}

std::string RateControl::check(const piecewise::RateLimits& l) {
    if (l.download_rate_limit < 0 || l.upload_rate_limit < 0 || l.alt_download_rate_limit < 0 ||
        l.alt_upload_rate_limit < 0)
        return "rate limits must not be negative";
    if (l.alt_speed_time_begin < 0 || l.alt_speed_time_begin >= day_minutes ||
        l.alt_speed_time_end < 0 || l.alt_speed_time_end >= day_minutes)
        return "alt-speed times must be minutes after midnight (0-1439)";
    if (l.alt_speed_time_day < 0 || l.alt_speed_time_day > 127)
        return "alt-speed days must be a bitmask 0-127";
    return {};
}

void RateControl::start() {
    if (limits_.alt_speed_time_enabled) check_clock();
    apply();
}

void RateControl::set(const piecewise::RateLimits& l) {
    bool schedule_changed = l.alt_speed_time_enabled != limits_.alt_speed_time_enabled ||
                            l.alt_speed_time_begin != limits_.alt_speed_time_begin ||
                            l.alt_speed_time_end != limits_.alt_speed_time_end ||
                            l.alt_speed_time_day != limits_.alt_speed_time_day;
    limits_ = l;
    if (schedule_changed) schedule_.reset();
    if (limits_.alt_speed_time_enabled && schedule_changed) check_clock();
    apply();
}

void RateControl::stop() {
    stopped_ = true;
    clock_.cancel();
}

void RateControl::apply() {
    if (limits_.alt_speed_enabled)
        limiter_->set_global(limits_.alt_download_rate_limit, limits_.alt_upload_rate_limit);
    else
        limiter_->set_global(limits_.download_rate_limit, limits_.upload_rate_limit);
}

void RateControl::check_clock() {
    // Time zone data was loaded (tzset) before the network thread started: no file I/O.
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    bool in = swarm::in_alt_speed_window(tm.tm_wday, tm.tm_hour * 60 + tm.tm_min,
                                         limits_.alt_speed_time_begin, limits_.alt_speed_time_end,
                                         limits_.alt_speed_time_day);
    if (auto to = schedule_.update(in)) limits_.alt_speed_enabled = *to;
    arm_clock();
}

void RateControl::arm_clock() {
    if (clock_armed_ || stopped_) return;
    clock_armed_ = true;
    // Just after the next minute starts.
    auto now = std::chrono::system_clock::now();
    auto into = now.time_since_epoch() % std::chrono::minutes(1);
    clock_.expires_after(std::chrono::minutes(1) - into + std::chrono::milliseconds(200));
    clock_.async_wait([this](boost::system::error_code ec) {
        clock_armed_ = false;
        if (ec || stopped_ || !limits_.alt_speed_time_enabled) return;
        check_clock();
        apply();
    });
}

}  // namespace pw::session
