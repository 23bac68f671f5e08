#include "daemon/rpc/queue_groups.hpp"

#include <boost/json/array.hpp>
#include <string>

#include "daemon/rpc/response.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;
using piecewise::TorrentId;

namespace {

constexpr std::int64_t max_kbps = GroupLimits::max_kbps;
constexpr std::size_t max_group_name = 256;

std::int64_t integer(std::string_view name, const json::value& v, std::int64_t lo,
                     std::int64_t hi) {
    std::int64_t n = 0;
    if (v.is_int64())
        n = v.get_int64();
    else if (v.is_uint64() && v.get_uint64() <= std::uint64_t(hi))
        n = std::int64_t(v.get_uint64());
    else if (v.is_double() && v.get_double() == double(std::int64_t(v.get_double())) &&
             v.get_double() >= double(lo) && v.get_double() <= double(hi))
        n = std::int64_t(v.get_double());
    else
        throw ParamError(std::string(name) + " must be an integer");
    if (n < lo || n > hi)
        throw ParamError(std::string(name) + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi));
    return n;
}

bool boolean(std::string_view name, const json::value& v) {
    if (v.is_bool()) return v.get_bool();
    if (v.is_int64()) return v.get_int64() != 0;  // old clients send 0/1
    throw ParamError(std::string(name) + " must be a boolean");
}

}  // namespace

void put_session_queue_fields(Dialect d, json::object& o, const queue::QueueSettings& s) {
    auto kk = [d](std::string_view n) { return key(d, n, KeyStyle::kebab); };
    o[kk("download_queue_enabled")] = s.download_enabled;
    o[kk("download_queue_size")] = s.download_size;
    o[kk("seed_queue_enabled")] = s.seed_enabled;
    o[kk("seed_queue_size")] = s.seed_size;
    o[kk("queue_stalled_enabled")] = s.stalled_enabled;
    o[kk("queue_stalled_minutes")] = s.stalled_minutes;
}

bool set_session_queue_key(std::string_view n, const json::value& v, queue::QueueSettings& s) {
    constexpr std::int64_t max_size = 100'000;
    constexpr std::int64_t max_minutes = 10ll * 365 * 24 * 60;
    if (n == "download_queue_enabled")
        s.download_enabled = boolean("download-queue-enabled", v);
    else if (n == "download_queue_size")
        s.download_size = int(integer("download-queue-size", v, 0, max_size));
    else if (n == "seed_queue_enabled")
        s.seed_enabled = boolean("seed-queue-enabled", v);
    else if (n == "seed_queue_size")
        s.seed_size = int(integer("seed-queue-size", v, 0, max_size));
    else if (n == "queue_stalled_enabled")
        s.stalled_enabled = boolean("queue-stalled-enabled", v);
    else if (n == "queue_stalled_minutes")
        s.stalled_minutes = int(integer("queue-stalled-minutes", v, 1, max_minutes));
    else
        return false;
    return true;
}

std::string group_name(const json::value& v, bool allow_empty) {
    if (!v.is_string()) throw ParamError("a bandwidth group name must be a string");
    std::string name(v.get_string());
    if (name.empty() && !allow_empty) throw ParamError("a bandwidth group needs a name");
    if (name.size() > max_group_name) throw ParamError("bandwidth group name too long");
    return name;
}

bool set_group_key(std::string_view n, const json::value& v, GroupLimits& g) {
    if (n == "speed_limit_down")
        g.down_kbps = integer("speed-limit-down", v, 0, max_kbps);
    else if (n == "speed_limit_up")
        g.up_kbps = integer("speed-limit-up", v, 0, max_kbps);
    else if (n == "speed_limit_down_enabled")
        g.down_enabled = boolean("speed-limit-down-enabled", v);
    else if (n == "speed_limit_up_enabled")
        g.up_enabled = boolean("speed-limit-up-enabled", v);
    else if (n == "honors_session_limits")
        g.honors_session = boolean("honorsSessionLimits", v);
    else
        return false;
    return true;
}

json::object group_object(Dialect d, const GroupLimits& g) {
    auto kk = [d](std::string_view n) { return key(d, n, KeyStyle::kebab); };
    json::object o;
    o[key(d, "honors_session_limits", KeyStyle::camel)] = g.honors_session;
    o["name"] = g.name;
    o[kk("speed_limit_down_enabled")] = g.down_enabled;
    o[kk("speed_limit_down")] = g.down_kbps;
    o[kk("speed_limit_up_enabled")] = g.up_enabled;
    o[kk("speed_limit_up")] = g.up_kbps;
    return o;
}

json::object group_get(Daemon& daemon, const Request& req) {
    // The legacy spec names the filter `group`, JSON-RPC `name`: either is taken.
    const json::value* filter = req.params.if_contains("name");
    if (!filter) filter = req.params.if_contains("group");
    std::vector<std::string> names;
    if (filter) {
        if (filter->is_array()) {
            if (filter->get_array().size() > 10000) throw ParamError("too many group names");
            for (auto& x : filter->get_array()) names.push_back(group_name(x, true));
        } else {
            names.push_back(group_name(*filter, true));
        }
    }
    json::array out;
    for (auto& g : daemon.groups())
        if (!filter || std::find(names.begin(), names.end(), g.name) != names.end())
            out.push_back(group_object(req.dialect, g));
    json::object o;
    o["group"] = std::move(out);
    return o;
}

void group_set(Daemon& daemon, const Request& req) {
    auto* n = req.params.if_contains("name");
    if (!n) throw ParamError("group-set needs name");
    auto name = group_name(*n, false);
    GroupLimits g;
    g.name = name;
    for (auto& e : daemon.groups())
        if (e.name == name) g = e;  // the keys not given keep their values
    for (auto& [k, v] : req.params) {
        if (k == "name") continue;
        if (!set_group_key(k, v, g))
            throw ParamError("group-set: " + key(req.dialect, k, KeyStyle::kebab) +
                             " is not supported");
    }
    try {
        daemon.set_group(g);
    } catch (const piecewise::Error& e) {
        throw ParamError(e.what());
    }
}

std::optional<QueueMove> queue_move_method(std::string_view m) {
    if (m == "queue_move_top") return QueueMove::top;
    if (m == "queue_move_up") return QueueMove::up;
    if (m == "queue_move_down") return QueueMove::down;
    if (m == "queue_move_bottom") return QueueMove::bottom;
    return std::nullopt;
}

std::optional<json::value> torrent_queue_field(Daemon& daemon, std::string_view f, TorrentId id,
                                               const TorrentExtras& e) {
    if (f == "queue_position") return json::value(daemon.queue_position(id));
    if (f == "is_stalled") return json::value(daemon.queue_stalled(id));
    if (f == "group") return json::value(e.group);
    return std::nullopt;
}

bool torrent_set_queue_key(Daemon& daemon, std::string_view k, const json::value& v,
                           const std::vector<TorrentId>& ids) {
    if (k == "queue_position") {
        int pos = int(integer("queuePosition", v, 0, INT32_MAX));
        for (auto id : ids)
            if (!daemon.set_queue_position(id, pos))
                throw ParamError("no torrent with id " + std::to_string(id));
    } else if (k == "group") {
        auto name = group_name(v, true);
        for (auto id : ids)
            if (!daemon.set_torrent_group(id, name))
                throw ParamError("no torrent with id " + std::to_string(id));
    } else {
        return false;
    }
    return true;
}

}  // namespace pw::daemon::rpc
