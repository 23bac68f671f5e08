// session-get/-set keys for where data goes and what runs on torrent events
// (rpc-spec-legacy-4.0.6.md 4.1): incomplete-dir, incomplete-dir-enabled,
// rename-partial-files ("<name>.part" until complete; Settings::part_files), and
// script-torrent-added/-done/-done-seeding -enabled/-filename. Keys arrive in snake_case.
//
// Contract: a value of the wrong type (or a relative incomplete-dir) throws ParamError
// before that key is changed.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "daemon/daemon.hpp"
#include "daemon/rpc/parse/request.hpp"

namespace pw::daemon::rpc {

// session-set: false when the key is not one of these.
bool session_set_path_key(Daemon& d, std::string_view key, const boost::json::value& v);
// session-get: adds these keys.
void session_path_values(Daemon& d, Dialect dialect, boost::json::object& out);

}  // namespace pw::daemon::rpc
