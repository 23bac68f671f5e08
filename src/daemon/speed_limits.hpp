// Speed limits as Transmission's RPC sees them: values in kB/s (1000 bytes, as
// Transmission 3.00 and 4.x count, session-get `units.speed-bytes`), each with an
// enabled flag, and the value kept while the flag is off. The daemon keeps these records
// (persisted in the state store) and gives the engine the limits in force in bytes/s.
#pragma once

#include <cstdint>

#include "piecewise/session.hpp"

namespace pw::daemon {

constexpr std::int64_t speed_k = 1000;  // bytes in a kB

struct SpeedLimits {
    std::int64_t down_kbps = 100, up_kbps = 100;  // Transmission's defaults
    bool down_enabled = false, up_enabled = false;
    std::int64_t alt_down_kbps = 50, alt_up_kbps = 50;
    bool alt_enabled = false;
    bool alt_time_enabled = false;
    int alt_time_begin = 540, alt_time_end = 1020, alt_time_day = 127;

    // Transmission stops a transfer whose limit is enabled at 0 kB/s; piecewise cannot
    // stall connections forever, so 0 is "no limit" here (said in the README).
    piecewise::RateLimits engine() const {
        piecewise::RateLimits r;
        r.download_rate_limit = down_enabled ? down_kbps * speed_k : 0;
        r.upload_rate_limit = up_enabled ? up_kbps * speed_k : 0;
        r.alt_download_rate_limit = alt_down_kbps * speed_k;
        r.alt_upload_rate_limit = alt_up_kbps * speed_k;
        r.alt_speed_enabled = alt_enabled;
        r.alt_speed_time_enabled = alt_time_enabled;
        r.alt_speed_time_begin = alt_time_begin;
        r.alt_speed_time_end = alt_time_end;
        r.alt_speed_time_day = alt_time_day;
        return r;
    }
};

struct TorrentSpeedLimits {
    std::int64_t down_kbps = 100, up_kbps = 100;
    bool down_limited = false, up_limited = false;
    bool honors_session = true;
    bool operator==(const TorrentSpeedLimits&) const = default;

    std::int64_t engine_down() const { return down_limited ? down_kbps * speed_k : 0; }
    std::int64_t engine_up() const { return up_limited ? up_kbps * speed_k : 0; }
};

}  // namespace pw::daemon
