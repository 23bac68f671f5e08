// session-stats (rpc-spec.md 4.2) and the torrent-get fields of a torrent's totals across
// pauses and restarts (downloadedEver, uploadedEver, corruptEver, secondsSeeding,
// secondsDownloading; section 3.3), from the daemon's snapshots. Pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

#include "daemon/daemon.hpp"
#include "daemon/rpc/parse/request.hpp"

namespace pw::daemon::rpc {

// session-stats' answer: the counts and speeds, current-stats (this run) and
// cumulative-stats (every run, this one included).
boost::json::object session_stats_result(Dialect d, const StatsSnapshot& s);

// `name` is snake_case; nullopt: not one of these fields.
std::optional<boost::json::value> torrent_totals_field(std::string_view name,
                                                       const TorrentExtras& e,
                                                       const piecewise::TorrentStatus& s);

}  // namespace pw::daemon::rpc
