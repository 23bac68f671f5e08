#include "daemon/rpc/torrent_fields.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "daemon/rpc/response.hpp"
#include "swarm/seed_ratio.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;
using piecewise::TorrentState;
using piecewise::TorrentStatus;

int transmission_status(const TorrentStatus& s) {
    // Waiting in the daemon's download (3) or seed (5) queue.
    if (s.queued) return s.num_pieces > 0 && s.left_until_done == 0 ? 5 : 3;
    switch (s.state) {
        case TorrentState::stopped:
        case TorrentState::error:
            return 0;
        case TorrentState::checking:
            return 2;
        case TorrentState::metadata:
        case TorrentState::downloading:
            return 4;
        case TorrentState::seeding:
            return 6;
    }
    return 0;
}

namespace {

// Of the wanted files' pieces (all of them unless files were skipped).
std::int64_t size_when_done(const TorrentStatus& s) {
    return s.size_when_done;
}
std::int64_t left_until_done(const TorrentStatus& s) {
    return s.left_until_done;
}

// Transmission's priorities: -1 low, 0 normal, 1 high (engine levels 1, 4, 7).
int tr_priority(int p) {
    return p == 0 ? 0 : p <= 2 ? -1 : p >= 6 ? 1 : 0;
}

// The ratio a seed-ratio limit stops at (swarm/seed_ratio.hpp): -1 not available, -2
// infinite.
double ratio(const TorrentStatus& s) {
    return pw::swarm::upload_ratio(s.uploaded, s.downloaded, s.size_when_done);
}

// 0 ok, 2 tracker error, 3 local error (Transmission's tr_stat_errtype).
std::pair<int, std::string> error_of(const TorrentStatus& s) {
    if (s.state == TorrentState::error) return {3, s.error};
    if (!s.move_error.empty()) return {3, s.move_error};  // the data stayed where it was
    if (!s.trackers.empty() && !s.paused) {
        bool all_failed = true;
        for (auto& t : s.trackers) all_failed = all_failed && !t.last_error.empty();
        if (all_failed) return {2, "Tracker gave an error: " + s.trackers.front().last_error};
    }
    return {0, ""};
}

std::string magnet_link(const TorrentStatus& s) {
    boost::urls::encoding_opts opt;
    std::string out = "magnet:?xt=urn:btih:" + s.info_hash;
    out += "&dn=" + boost::urls::encode(s.name, boost::urls::unreserved_chars, opt);
    for (auto& t : s.trackers)
        out += "&tr=" + boost::urls::encode(t.url, boost::urls::unreserved_chars, opt);
    return out;
}

}  // namespace

std::optional<json::value> torrent_field(Dialect d, std::string_view f, piecewise::TorrentId id,
                                         const TorrentStatus& s, std::int64_t now) {
    auto k = [d](std::string_view snake) { return key(d, snake, KeyStyle::camel); };
    const bool have_meta = s.num_pieces > 0;
    if (f == "id") return json::value(id);
    if (f == "name") return json::value(s.name);
    if (f == "hash_string") return json::value(s.info_hash);
    if (f == "status") return json::value(transmission_status(s));
    if (f == "error") return json::value(error_of(s).first);
    if (f == "error_string") return json::value(error_of(s).second);
    if (f == "total_size") return json::value(s.total_size);
    if (f == "size_when_done") return json::value(size_when_done(s));
    if (f == "left_until_done") return json::value(left_until_done(s));
    if (f == "have_valid") return json::value(s.bytes_have);
    // percentDone: of the wanted pieces; percentComplete: of the whole torrent.
    if (f == "percent_done")
        return json::value(size_when_done(s) > 0 ? double(size_when_done(s) - left_until_done(s)) /
                                                       double(size_when_done(s))
                                                 : 0.0);
    if (f == "percent_complete")
        return json::value(s.total_size > 0 ? double(s.bytes_have) / double(s.total_size) : 0.0);
    if (f == "desired_available") return json::value(s.desired_available);
    if (f == "sequential_download") return json::value(s.sequential);
    if (f == "metadata_percent_complete") return json::value(have_meta ? 1.0 : 0.0);
    if (f == "recheck_progress")
        return json::value(s.state == TorrentState::checking ? s.check_progress : 0.0);
    if (f == "is_finished") return json::value(s.seed_ratio_reached);
    if (f == "eta") {
        // -1: not available (Transmission's TR_ETA_NOT_AVAIL).
        if (s.state != TorrentState::downloading || s.down_rate < 1) return json::value(-1);
        return json::value(static_cast<std::int64_t>(double(left_until_done(s)) / s.down_rate));
    }
    if (f == "rate_download") return json::value(static_cast<std::int64_t>(s.down_rate));
    if (f == "rate_upload") return json::value(static_cast<std::int64_t>(s.up_rate));
    if (f == "upload_ratio") return json::value(ratio(s));
    if (f == "uploaded_ever") return json::value(s.uploaded);
    if (f == "downloaded_ever") return json::value(s.downloaded);
    if (f == "added_date") return json::value(s.added_time);
    if (f == "download_dir") return json::value(s.save_path);
    if (f == "piece_count") return json::value(s.num_pieces);
    if (f == "piece_size") return json::value(s.piece_length);
    if (f == "magnet_link") return json::value(magnet_link(s));
    if (f == "file_count") return json::value(s.files.size());
    if (f == "peers_connected") return json::value(s.peers);
    if (f == "peers_getting_from_us") return json::value(s.peers_getting_from_us);
    if (f == "peers_sending_to_us") return json::value(s.peers_sending_to_us);
    if (f == "files") {
        json::array a;
        for (auto& file : s.files)
            a.push_back(json::object{{k("bytes_completed"), file.bytes_done},
                                     {k("length"), file.size},
                                     {k("name"), file.path}});
        return json::value(std::move(a));
    }
    if (f == "file_stats") {
        json::array a;
        for (auto& file : s.files)
            a.push_back(json::object{{k("bytes_completed"), file.bytes_done},
                                     {k("wanted"), file.priority > 0},
                                     {k("priority"), tr_priority(file.priority)}});
        return json::value(std::move(a));
    }
    if (f == "priorities" || f == "wanted") {
        json::array a;
        for (auto& file : s.files) {
            if (f == "priorities")
                a.push_back(tr_priority(file.priority));
            else if (d == Dialect::legacy)
                a.push_back(file.priority > 0 ? 1 : 0);  // legacy: 0/1 (rpc-spec.md 3.3 note)
            else
                a.push_back(file.priority > 0);
        }
        return json::value(std::move(a));
    }
    if (f == "peers") {
        json::array a;
        for (auto& p : s.peer_list)
            a.push_back(json::object{{k("address"), p.address},
                                     {k("port"), p.port},
                                     {k("client_name"), p.client},
                                     {k("is_incoming"), !p.outgoing},
                                     {k("is_downloading_from"), p.downloading_from},
                                     {k("is_uploading_to"), p.uploading_to},
                                     {k("progress"), p.progress},
                                     {k("rate_to_client"), static_cast<std::int64_t>(p.down_rate)},
                                     {k("rate_to_peer"), static_cast<std::int64_t>(p.up_rate)}});
        return json::value(std::move(a));
    }
    if (f == "trackers") {
        json::array a;
        int i = 0;
        for (auto& t : s.trackers)
            a.push_back(json::object{{k("announce"), t.url}, {k("id"), i++}});
        return json::value(std::move(a));
    }
    if (f == "tracker_stats") {
        json::array a;
        int i = 0;
        for (auto& t : s.trackers)
            a.push_back(json::object{
                {k("announce"), t.url},
                {k("id"), i++},
                {k("last_announce_result"), t.last_error.empty() ? "Success" : t.last_error},
                {k("last_announce_succeeded"), t.last_error.empty()},
                {k("last_announce_peer_count"), t.peers_returned},
                {k("seeder_count"), t.seeders},
                {k("leecher_count"), t.leechers},
                {k("next_announce_time"), s.paused ? 0 : now + t.next_announce_s}});
        return json::value(std::move(a));
    }
    if (f == "pieces") {  // base64 of the BEP 3 bitfield of verified pieces
        namespace b64 = boost::beast::detail::base64;
        std::string out(b64::encoded_size(s.pieces.size()), '\0');
        out.resize(b64::encode(out.data(), s.pieces.data(), s.pieces.size()));
        return json::value(std::move(out));
    }
    return std::nullopt;
}

bool needs_detailed_status(std::string_view f) {
    return f == "files" || f == "file_stats" || f == "priorities" || f == "wanted" ||
           f == "peers" || f == "pieces";
}

}  // namespace pw::daemon::rpc
