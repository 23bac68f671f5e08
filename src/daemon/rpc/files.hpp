// Transmission's file selection keys (rpc-spec.md 3.2 torrent-set, 3.4 torrent-add):
// files-wanted, files-unwanted, priority-high/-normal/-low (arrays of file indices; an
// empty array means every file) and sequential download (bool). Keys arrive snake_case
// (parse/request.hpp normalises both dialects).
#pragma once

#include <boost/json/object.hpp>
#include <set>
#include <string>

#include "daemon/daemon.hpp"

namespace pw::daemon::rpc {

// Reads the keys above from `params` into a FileChange; `used` receives the keys read.
// Throws std::invalid_argument with the key's name for a wrong type.
FileChange parse_file_change(const boost::json::object& params, std::set<std::string>& used);

}  // namespace pw::daemon::rpc
