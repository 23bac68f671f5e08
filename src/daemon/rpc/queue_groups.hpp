// RPC for the download/seed queues and bandwidth groups (rpc-spec.md and
// rpc-spec-legacy-4.0.6.md: 3.2 torrent-set `queue_position`/`group`, 3.3 torrent-get
// `queue_position`, `is_stalled`, `group`, 4.1 session `download_queue_*`,
// `seed_queue_*`, `queue_stalled_*`, 4.6 queue-move-*, 4.8 group-set/group-get). Keys
// arrive in snake_case (parse/request.hpp) and are spelled for the dialect on the way out
// (legacy: kebab-case session keys and group speed keys, camelCase `honorsSessionLimits`).
//
// Contract: a value of the wrong type or out of range throws ParamError (answered as
// invalid params) before anything is changed. The key functions are pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "daemon/daemon.hpp"
#include "daemon/rpc/parse/request.hpp"
#include "daemon/rpc/torrent_settings.hpp"

namespace pw::daemon::rpc {

// session-get: the six queue keys.
void put_session_queue_fields(Dialect d, boost::json::object& o, const queue::QueueSettings& s);
// session-set: true when `name` is a queue key (applied to `s`).
bool set_session_queue_key(std::string_view name, const boost::json::value& v,
                           queue::QueueSettings& s);

// group-set keys other than `name`: true when `name` is one (applied to `g`).
bool set_group_key(std::string_view name, const boost::json::value& v, GroupLimits& g);
boost::json::object group_object(Dialect d, const GroupLimits& g);
// A group name as group-set and torrent-set take it (a string of at most 256 bytes).
std::string group_name(const boost::json::value& v, bool allow_empty);

// The methods (on the daemon).
boost::json::object group_get(Daemon& daemon, const Request& req);
void group_set(Daemon& daemon, const Request& req);
std::optional<QueueMove> queue_move_method(std::string_view method);

// torrent-get fields `queue_position`, `is_stalled`, `group`; nullopt for other names.
std::optional<boost::json::value> torrent_queue_field(Daemon& daemon, std::string_view f,
                                                      piecewise::TorrentId id,
                                                      const TorrentExtras& e);
// torrent-set `queue_position`, `group`: false when the key is not one of these.
bool torrent_set_queue_key(Daemon& daemon, std::string_view key, const boost::json::value& v,
                           const std::vector<piecewise::TorrentId>& ids);

}  // namespace pw::daemon::rpc
