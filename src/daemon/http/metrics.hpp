// GET /metrics: the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure: figures in, text
// out. Only what the engine measures is exposed: a series it cannot measure is left out
// rather than reported as 0. Per-torrent series (label cardinality grows with the
// torrents) only when asked for (`piecewise daemon --metrics-per-torrent`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "piecewise/session.hpp"

namespace pw::daemon::http {

struct TorrentMetrics {
    std::string info_hash;
    std::string name;
    piecewise::TorrentState state = piecewise::TorrentState::stopped;
    std::int64_t size = 0, have = 0;
    std::int64_t downloaded = 0, uploaded = 0;  // payload, since the torrent (re)started
    double down_rate = 0, up_rate = 0;
    int peers = 0, seeds = 0;
    int hash_failures = 0;
};

struct MetricsInput {
    piecewise::SessionStats session;
    double down_rate = 0, up_rate = 0;  // sum over the torrents, bytes/s
    std::int64_t uptime_s = 0;
    // Torrents the engine reports stopped that the daemon's queue holds to start later:
    // exported as state="queued" and left out of state="stopped".
    int queued = 0;
    bool per_torrent = false;
    std::vector<TorrentMetrics> torrents;  // used with per_torrent
};

std::string render_metrics(const MetricsInput& in);

// A label value escaped as the format wants: backslash, double quote and line feed.
std::string escape_label(std::string_view v);

// The Content-Type of the answer.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace pw::daemon::http
