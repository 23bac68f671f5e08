// RPC for where a torrent's data lives (rpc-spec-legacy-4.0.6.md 3.6 and 3.7, rpc-spec.md
// the same sections in snake_case): torrent-set-location {ids, location, move} and
// torrent-rename-path {ids (exactly one torrent), path, name} -> {path, name, id}, and
// torrent-set's `location` (a new place to look for the data, as move false). Keys
// arrive in snake_case (see parse/request.hpp).
//
// Contract: a missing or mistyped argument, a relative location or one outside
// --download-root, an unknown id, a name that is not one path component: ParamError
// (the caller answers invalid params) before anything changes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>
#include <vector>

#include "daemon/daemon.hpp"

namespace pw::daemon::rpc {

boost::json::object torrent_set_location(Daemon& d, const boost::json::object& params,
                                         const std::vector<piecewise::TorrentId>& ids);
boost::json::object torrent_rename_path(Daemon& d, const boost::json::object& params,
                                        const std::vector<piecewise::TorrentId>& ids);
// torrent-set: false when `key` is not `location`.
bool torrent_set_location_key(Daemon& d, std::string_view key, const boost::json::value& v,
                              const std::vector<piecewise::TorrentId>& ids);

}  // namespace pw::daemon::rpc
