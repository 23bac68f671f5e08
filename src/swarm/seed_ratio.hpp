// The share ratio, one definition for what torrent-get shows (uploadRatio) and for when a
// seed-ratio limit stops a torrent, so that a torrent stops exactly when the ratio a user
// sees reaches its limit. Pure.
//
// As Transmission (tr_torrentStat's ratio and tr_torrentGetSeedRatioBytes): uploaded over
// the torrent's life divided by what it downloaded over its life; a torrent that
// downloaded nothing (added with its data present) is measured against the size of its
// wanted pieces (sizeWhenDone), so seeding a complete torrent once over is ratio 1.
// Counters are the torrent's totals across pauses and restarts, not one run's.
#pragma once

#include <cstdint>

namespace pw::swarm {

// The bytes a ratio divides by; 0 when neither is known yet (a magnet without metadata).
inline std::int64_t ratio_base(std::int64_t downloaded, std::int64_t size_when_done) {
    return downloaded > 0 ? downloaded : size_when_done;
}

// Transmission's tr_getRatio values: -1 not available, -2 infinite.
inline double upload_ratio(std::int64_t uploaded, std::int64_t downloaded,
                           std::int64_t size_when_done) {
    auto base = ratio_base(downloaded, size_when_done);
    if (base > 0) return double(uploaded) / double(base);
    return uploaded > 0 ? -2 : -1;
}

// A limit < 0 never applies; nothing is reached before the base is known.
inline bool seed_ratio_reached(std::int64_t uploaded, std::int64_t downloaded,
                               std::int64_t size_when_done, double limit) {
    auto base = ratio_base(downloaded, size_when_done);
    return limit >= 0 && base > 0 && double(uploaded) >= limit * double(base);
}

}  // namespace pw::swarm
