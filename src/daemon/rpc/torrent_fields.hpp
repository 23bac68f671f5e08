// torrent-get fields (rpc-spec.md section 3.3) computed from a TorrentStatus snapshot.
// Pure. A field piecewise cannot answer truthfully yet is unknown here (nullopt) and
// left out of the answer, as Transmission does with names it does not know.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

#include "daemon/rpc/parse/request.hpp"
#include "piecewise/session.hpp"

namespace pw::daemon::rpc {

// Transmission's tr_torrent_activity numbers (section 3.3, `status`).
int transmission_status(const piecewise::TorrentStatus& s);

// `name` is snake_case; nullopt: not a field we serve.
std::optional<boost::json::value> torrent_field(Dialect d, std::string_view name,
                                                piecewise::TorrentId id,
                                                const piecewise::TorrentStatus& s,
                                                std::int64_t now);

// A field that needs the torrent's detailed status (files, peers, pieces: Session::status
// of each torrent, a round trip each) rather than Session::status_all's summary (one round
// trip for all torrents, what a list view's fields need).
bool needs_detailed_status(std::string_view name);

}  // namespace pw::daemon::rpc
