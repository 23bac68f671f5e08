// torrent-set-location, torrent-rename-path and torrent-set's location; see move.hpp.
#include "daemon/rpc/move.hpp"

#include "daemon/rpc/torrent_settings.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;
using piecewise::TorrentId;

namespace {

std::string string_arg(const json::object& p, const char* name, const char* shown) {
    auto* v = p.if_contains(name);
    if (!v) throw ParamError(std::string(shown) + " is missing");
    if (!v->is_string()) throw ParamError(std::string(shown) + " must be a string");
    return std::string(v->get_string());
}

void move_each(Daemon& d, const std::vector<TorrentId>& ids, const std::string& location,
               bool move) {
    // Checked once for all (absolute, inside --download-root) before any torrent moves.
    std::string dir;
    try {
        dir = d.check_dir(location, "location");
    } catch (const piecewise::Error& e) {
        throw ParamError(e.what());
    }
    for (auto id : ids) {
        try {
            if (!d.set_location(id, dir, move))
                throw ParamError("no torrent with id " + std::to_string(id));
        } catch (const piecewise::Error& e) {
            throw ParamError(e.what());
        }
    }
}

}  // namespace

json::object torrent_set_location(Daemon& d, const json::object& params,
                                  const std::vector<TorrentId>& ids) {
    auto location = string_arg(params, "location", "location");
    bool move = false;
    if (auto* v = params.if_contains("move")) {
        if (v->is_bool())
            move = v->get_bool();
        else if (v->is_int64())
            move = v->get_int64() != 0;  // old clients send 0/1
        else
            throw ParamError("move must be a boolean");
    }
    move_each(d, ids, location, move);
    return {};
}

json::object torrent_rename_path(Daemon& d, const json::object& params,
                                 const std::vector<TorrentId>& ids) {
    if (!params.contains("ids") || ids.size() != 1)
        throw ParamError("torrent-rename-path takes exactly one torrent in ids");
    auto path = string_arg(params, "path", "path");
    auto name = string_arg(params, "name", "name");
    try {
        if (!d.rename_path(ids[0], path, name))
            throw ParamError("no torrent with id " + std::to_string(ids[0]));
    } catch (const piecewise::Error& e) {
        throw ParamError(e.what());
    }
    return json::object{{"path", path}, {"name", name}, {"id", ids[0]}};
}

bool torrent_set_location_key(Daemon& d, std::string_view key, const json::value& v,
                              const std::vector<TorrentId>& ids) {
    if (key != "location") return false;
    if (!v.is_string()) throw ParamError("location must be a string");
    move_each(d, ids, std::string(v.get_string()), false);
    return true;
}

}  // namespace pw::daemon::rpc
