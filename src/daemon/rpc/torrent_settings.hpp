// RPC for the daemon's per-torrent settings and seed limits (rpc-spec-legacy-4.0.6.md
// 3.2 torrent-set and 3.3 torrent-get, 4.1 session-set/-get): seedRatioLimit/Mode,
// seedIdleLimit/Mode, bandwidthPriority, peer-limit, labels, trackerAdd/Remove/Replace and trackerList (Transmission
// 4), and the torrent-get fields that show them (trackers and trackerStats with stable
// tracker ids: positions in the torrent's announce list); the session's seedRatioLimit(ed)
// and idle-seeding-limit(-enabled). Keys arrive in snake_case (see parse/request.hpp).
//
// Contract: a value of the wrong type or out of range throws ParamError (the caller
// answers invalid params) before anything of that key is changed.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "daemon/daemon.hpp"
#include "daemon/rpc/parse/request.hpp"

namespace pw::daemon::rpc {

struct ParamError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// torrent-set: applies `key` to each id; false when the key is not one of these.
bool torrent_set_setting(Daemon& d, std::string_view key, const boost::json::value& v,
                         const std::vector<piecewise::TorrentId>& ids);

// torrent-get fields served from the daemon's settings; nullopt for other names.
std::optional<boost::json::value> torrent_settings_field(Dialect d, std::string_view f,
                                                         const TorrentExtras& e,
                                                         const piecewise::TorrentStatus& s,
                                                         std::int64_t now);

// session-set: false when the key is not one of these.
bool session_set_seed_key(Daemon& d, std::string_view key, const boost::json::value& v);
// session-get: adds the seed limit keys.
void session_seed_values(Daemon& d, Dialect dialect, boost::json::object& out);

// torrent-add `labels`: checked list (throws ParamError).
std::vector<std::string> labels_param(const boost::json::value& v);
// bandwidthPriority (-1, 0, 1) and peer-limit (1..max_peer_limit); throw ParamError.
int bandwidth_priority_param(const boost::json::value& v);
// `name` for the error message (also session-set's peer-limit-global/-per-torrent).
int peer_limit_param(const boost::json::value& v, std::string_view name = "peer-limit");

}  // namespace pw::daemon::rpc
