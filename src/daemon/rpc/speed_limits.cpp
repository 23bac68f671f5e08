#include "daemon/rpc/speed_limits.hpp"

#include <boost/json/array.hpp>
#include <string>

#include "daemon/rpc/response.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;

namespace {

constexpr std::int64_t max_kbps = 1'000'000'000;

std::string spelled(Dialect d, std::string_view name, KeyStyle st) {
    return key(d, name, st);
}

std::int64_t integer(Dialect d, std::string_view name, const json::value& v, std::int64_t lo,
                     std::int64_t hi, KeyStyle st) {
    std::int64_t n = 0;
    if (v.is_int64())
        n = v.get_int64();
    else if (v.is_uint64() && v.get_uint64() <= std::uint64_t(hi))
        n = std::int64_t(v.get_uint64());
    else if (v.is_double() && v.get_double() == double(std::int64_t(v.get_double())))
        n = std::int64_t(v.get_double());
    else
        throw SpeedParamError(spelled(d, name, st) + " must be an integer");
    if (n < lo || n > hi)
        throw SpeedParamError(spelled(d, name, st) + " must be between " + std::to_string(lo) +
                              " and " + std::to_string(hi));
    return n;
}

bool boolean(Dialect d, std::string_view name, const json::value& v, KeyStyle st) {
    if (v.is_bool()) return v.get_bool();
    if (v.is_int64()) return v.get_int64() != 0;  // old clients send 0/1
    throw SpeedParamError(spelled(d, name, st) + " must be a boolean");
}

json::array strings(std::initializer_list<const char*> l) {
    json::array a;
    for (auto* s : l) a.emplace_back(s);
    return a;
}

}  // namespace

void put_session_speed_fields(Dialect d, json::object& o, const SpeedLimits& l) {
    auto kk = [d](std::string_view n) { return key(d, n, KeyStyle::kebab); };
    o[kk("speed_limit_down")] = l.down_kbps;
    o[kk("speed_limit_down_enabled")] = l.down_enabled;
    o[kk("speed_limit_up")] = l.up_kbps;
    o[kk("speed_limit_up_enabled")] = l.up_enabled;
    o[kk("alt_speed_down")] = l.alt_down_kbps;
    o[kk("alt_speed_up")] = l.alt_up_kbps;
    o[kk("alt_speed_enabled")] = l.alt_enabled;
    o[kk("alt_speed_time_enabled")] = l.alt_time_enabled;
    o[kk("alt_speed_time_begin")] = l.alt_time_begin;
    o[kk("alt_speed_time_end")] = l.alt_time_end;
    o[kk("alt_speed_time_day")] = l.alt_time_day;
    json::object units;
    units[kk("speed_units")] = strings({"B/s", "kB/s", "MB/s", "GB/s", "TB/s"});
    units[kk("speed_bytes")] = speed_k;
    units[kk("size_units")] = strings({"B", "kB", "MB", "GB", "TB"});
    units[kk("size_bytes")] = 1000;
    units[kk("memory_units")] = strings({"B", "KiB", "MiB", "GiB", "TiB"});
    units[kk("memory_bytes")] = 1024;
    o[kk("units")] = std::move(units);
}

bool set_session_speed_key(Dialect d, std::string_view n, const json::value& v, SpeedLimits& l) {
    constexpr auto st = KeyStyle::kebab;
    if (n == "speed_limit_down")
        l.down_kbps = integer(d, n, v, 0, max_kbps, st);
    else if (n == "speed_limit_up")
        l.up_kbps = integer(d, n, v, 0, max_kbps, st);
    else if (n == "speed_limit_down_enabled")
        l.down_enabled = boolean(d, n, v, st);
    else if (n == "speed_limit_up_enabled")
        l.up_enabled = boolean(d, n, v, st);
    else if (n == "alt_speed_down")
        l.alt_down_kbps = integer(d, n, v, 0, max_kbps, st);
    else if (n == "alt_speed_up")
        l.alt_up_kbps = integer(d, n, v, 0, max_kbps, st);
    else if (n == "alt_speed_enabled")
        l.alt_enabled = boolean(d, n, v, st);
    else if (n == "alt_speed_time_enabled")
        l.alt_time_enabled = boolean(d, n, v, st);
    else if (n == "alt_speed_time_begin")
        l.alt_time_begin = int(integer(d, n, v, 0, 1439, st));
    else if (n == "alt_speed_time_end")
        l.alt_time_end = int(integer(d, n, v, 0, 1439, st));
    else if (n == "alt_speed_time_day")
        l.alt_time_day = int(integer(d, n, v, 0, 127, st));
    else
        return false;
    return true;
}

bool is_torrent_speed_field(std::string_view n) {
    return n == "download_limit" || n == "download_limited" || n == "upload_limit" ||
           n == "upload_limited" || n == "honors_session_limits";
}

std::optional<json::value> torrent_speed_field(std::string_view n, const TorrentSpeedLimits& l) {
    if (n == "download_limit") return json::value(l.down_kbps);
    if (n == "download_limited") return json::value(l.down_limited);
    if (n == "upload_limit") return json::value(l.up_kbps);
    if (n == "upload_limited") return json::value(l.up_limited);
    if (n == "honors_session_limits") return json::value(l.honors_session);
    return std::nullopt;
}

bool set_torrent_speed_key(Dialect d, std::string_view n, const json::value& v,
                           TorrentSpeedLimits& l) {
    constexpr auto st = KeyStyle::camel;
    if (n == "download_limit")
        l.down_kbps = integer(d, n, v, 0, max_kbps, st);
    else if (n == "upload_limit")
        l.up_kbps = integer(d, n, v, 0, max_kbps, st);
    else if (n == "download_limited")
        l.down_limited = boolean(d, n, v, st);
    else if (n == "upload_limited")
        l.up_limited = boolean(d, n, v, st);
    else if (n == "honors_session_limits")
        l.honors_session = boolean(d, n, v, st);
    else
        return false;
    return true;
}

}  // namespace pw::daemon::rpc
