// The RPC's speed-limit keys (rpc-spec.md 3.2, 3.3, 4.1; legacy spec: the same names in
// kebab-case for the session, camelCase for torrents): session-get/-set
// `speed_limit_down(_enabled)`, `speed_limit_up(_enabled)`, `alt_speed_down/_up/_enabled`,
// `alt_speed_time_begin/_end/_enabled/_day` and `units`; torrent-get/-set
// `download_limit(ed)`, `upload_limit(ed)`, `honors_session_limits`. Values in kB/s
// (1000 bytes). Pure over the records of daemon/speed_limits.hpp; names are snake_case
// (parse/request.hpp normalised them).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "daemon/rpc/parse/request.hpp"
#include "daemon/speed_limits.hpp"

namespace pw::daemon::rpc {

// A bad value for one of these keys: the methods answer it as invalid params.
class SpeedParamError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

void put_session_speed_fields(Dialect d, boost::json::object& o, const SpeedLimits& l);
// true when `name` is a speed key (applied to `l`); throws SpeedParamError for a bad value.
bool set_session_speed_key(Dialect d, std::string_view name, const boost::json::value& v,
                           SpeedLimits& l);

std::optional<boost::json::value> torrent_speed_field(std::string_view name,
                                                      const TorrentSpeedLimits& l);
bool is_torrent_speed_field(std::string_view name);
bool set_torrent_speed_key(Dialect d, std::string_view name, const boost::json::value& v,
                           TorrentSpeedLimits& l);

}  // namespace pw::daemon::rpc
