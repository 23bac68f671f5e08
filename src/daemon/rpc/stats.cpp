#include "daemon/rpc/stats.hpp"

#include <algorithm>

#include "daemon/rpc/response.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;

namespace {

json::object totals_object(Dialect d, std::int64_t up, std::int64_t down, std::int64_t files,
                           std::int64_t sessions, std::int64_t seconds) {
    auto c = [d](std::string_view n) { return key(d, n, KeyStyle::camel); };
    return json::object{{c("uploaded_bytes"), up},
                        {c("downloaded_bytes"), down},
                        {c("files_added"), files},
                        {c("session_count"), sessions},
                        {c("seconds_active"), seconds}};
}

}  // namespace

json::object session_stats_result(Dialect d, const StatsSnapshot& s) {
    auto c = [d](std::string_view n) { return key(d, n, KeyStyle::camel); };
    json::object o{{c("active_torrent_count"), s.active},
                   {c("paused_torrent_count"), s.paused},
                   {c("torrent_count"), s.torrents},
                   {c("download_speed"), static_cast<std::int64_t>(s.down_rate)},
                   {c("upload_speed"), static_cast<std::int64_t>(s.up_rate)}};
    o[key(d, "current_stats", KeyStyle::kebab)] =
        totals_object(d, s.uploaded, s.downloaded, s.files_added, 1, s.seconds_active);
    const auto& t = s.cumulative;
    o[key(d, "cumulative_stats", KeyStyle::kebab)] = totals_object(
        d, t.uploaded, t.downloaded, t.files_added, t.session_count, t.seconds_active);
    return o;
}

std::optional<json::value> torrent_totals_field(std::string_view f, const TorrentExtras& e,
                                                const piecewise::TorrentStatus& s) {
    // The engine counts on from the stored totals; a magnet still fetching its metadata
    // reports zero meanwhile, so the stored figure stands until then.
    if (f == "downloaded_ever")
        return json::value(std::max(s.downloaded, e.stored_totals.downloaded));
    if (f == "uploaded_ever") return json::value(std::max(s.uploaded, e.stored_totals.uploaded));
    if (f == "corrupt_ever") return json::value(std::max(s.corrupt, e.stored_totals.corrupt));
    if (f == "seconds_seeding") return json::value(e.seeding_ms / 1000);
    if (f == "seconds_downloading") return json::value(e.downloading_ms / 1000);
    return std::nullopt;
}

}  // namespace pw::daemon::rpc
