#include "daemon/http/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pw::daemon::http {

using piecewise::TorrentState;

std::string escape_label(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

const char* state_name(TorrentState s) {
    switch (s) {
        case TorrentState::metadata:
            return "metadata";
        case TorrentState::checking:
            return "checking";
        case TorrentState::downloading:
            return "downloading";
        case TorrentState::seeding:
            return "seeding";
        case TorrentState::stopped:
            return "stopped";
        case TorrentState::error:
            return "error";
    }
    return "error";
}

class Writer {
  public:
    // One family: HELP and TYPE once, then its samples.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    template <class V>
    void sample(std::string_view name, std::string_view labels, V value) {
        if (labels.empty())
            out_ += fmt::format("{} {}\n", name, value);
        else
            out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
    template <class V>
    void single(std::string_view name, std::string_view type, std::string_view help, V value) {
        family(name, type, help);
        sample(name, "", value);
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

// Rates are fractional; print them without exponent noise for small values.
std::string num(double v) {
    return fmt::format("{:.3f}", v);
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
    const auto& s = in.session;
    Writer w;
    w.single("piecewise_info", "gauge", "Build information.", 1);
    w.single("piecewise_uptime_seconds", "gauge", "Seconds since the daemon started.", in.uptime_s);

    w.family("piecewise_payload_bytes_total", "counter",
             "Piece data transferred since the daemon started (removed torrents included).");
    w.sample("piecewise_payload_bytes_total", "direction=\"down\"", s.payload_downloaded);
    w.sample("piecewise_payload_bytes_total", "direction=\"up\"", s.payload_uploaded);

    w.family("piecewise_payload_rate_bytes_per_second", "gauge",
             "Current piece data rate summed over the torrents.");
    w.sample("piecewise_payload_rate_bytes_per_second", "direction=\"down\"", num(in.down_rate));
    w.sample("piecewise_payload_rate_bytes_per_second", "direction=\"up\"", num(in.up_rate));

    w.family("piecewise_torrents", "gauge", "Torrents by state.");
    const int stopped = static_cast<int>(TorrentState::stopped);
    for (int st = 0; st < 6; ++st) {
        int n = s.torrents_by_state[st];
        if (st == stopped) n = std::max(0, n - in.queued);
        w.sample("piecewise_torrents",
                 fmt::format("state=\"{}\"", state_name(static_cast<TorrentState>(st))), n);
    }
    w.sample("piecewise_torrents", "state=\"queued\"", in.queued);

    w.single("piecewise_peers_connected", "gauge", "Peer connections past the handshake.",
             s.peers_connected);
    w.single("piecewise_peers_half_open", "gauge", "Outgoing peer connections not yet established.",
             s.half_open);
    w.single("piecewise_peers_banned_total", "counter",
             "Peers banned for bad data or protocol abuse.", s.peers_banned);
    w.single("piecewise_hash_failures_total", "counter", "Pieces that failed their hash check.",
             s.hash_failures);
    w.single("piecewise_hash_failures_narrowed_total", "counter",
             "Failed v2 pieces narrowed to their bad 16 KiB blocks by BEP 52 leaf hashes.",
             s.failures_narrowed);
    w.single("piecewise_refetched_bytes_total", "counter",
             "Bytes downloaded again after hash failures (bad blocks, or whole pieces).",
             s.refetched_bytes);

    w.single("piecewise_pieces_picked_total", "counter", "Pieces the picker started downloading.",
             s.pieces_picked);
    w.single("piecewise_pieces_passed_total", "counter",
             "Downloaded pieces that passed their hash check and were written.", s.pieces_passed);

    w.family("piecewise_tracker_announces_total", "counter", "Tracker announces by outcome.");
    w.sample("piecewise_tracker_announces_total", "outcome=\"ok\"", s.announces_ok);
    w.sample("piecewise_tracker_announces_total", "outcome=\"failed\"", s.announces_failed);

    w.single("piecewise_cache_bytes", "gauge", "Piece data held in memory (write-back cache).",
             s.cache_bytes);
    w.single("piecewise_disk_queue_jobs", "gauge", "Disk and hashing jobs waiting for a worker.",
             s.disk_queue);

    if (s.dht) {
        w.single("piecewise_dht_nodes", "gauge", "Nodes in the DHT routing table.", s.dht_nodes);
        w.single("piecewise_dht_queries_sent_total", "counter", "DHT queries sent.",
                 s.dht_queries_sent);
        w.single("piecewise_dht_responses_total", "counter", "Replies to our DHT queries.",
                 s.dht_responses);
        w.single("piecewise_dht_timeouts_total", "counter", "DHT queries that timed out.",
                 s.dht_timeouts);
        w.single("piecewise_dht_queries_served_total", "counter",
                 "DHT queries from other nodes answered.", s.dht_queries_served);
    }

    if (in.per_torrent) {
        auto each = [&](std::string_view name, std::string_view type, std::string_view help,
                        auto value_of) {
            w.family(name, type, help);
            for (auto& t : in.torrents)
                w.sample(name,
                         fmt::format("info_hash=\"{}\",name=\"{}\"", escape_label(t.info_hash),
                                     escape_label(t.name)),
                         value_of(t));
        };
        using T = TorrentMetrics;
        each("piecewise_torrent_size_bytes", "gauge", "Torrent size.",
             [](const T& t) { return t.size; });
        each("piecewise_torrent_have_bytes", "gauge", "Verified bytes on disk.",
             [](const T& t) { return t.have; });
        each("piecewise_torrent_downloaded_bytes_total", "counter",
             "Piece data received since the torrent (re)started.",
             [](const T& t) { return t.downloaded; });
        each("piecewise_torrent_uploaded_bytes_total", "counter",
             "Piece data sent since the torrent (re)started.",
             [](const T& t) { return t.uploaded; });
        each("piecewise_torrent_download_rate_bytes_per_second", "gauge", "Download rate.",
             [](const T& t) { return num(t.down_rate); });
        each("piecewise_torrent_upload_rate_bytes_per_second", "gauge", "Upload rate.",
             [](const T& t) { return num(t.up_rate); });
        each("piecewise_torrent_peers", "gauge", "Connected peers.",
             [](const T& t) { return t.peers; });
        each("piecewise_torrent_seeds", "gauge", "Connected peers that have every piece.",
             [](const T& t) { return t.seeds; });
        each("piecewise_torrent_hash_failures", "gauge",
             "Pieces that failed their hash check since the torrent (re)started.",
             [](const T& t) { return t.hash_failures; });
        w.family("piecewise_torrent_state", "gauge", "1 for the torrent's current state.");
        for (auto& t : in.torrents)
            w.sample(
                "piecewise_torrent_state",
                fmt::format("info_hash=\"{}\",name=\"{}\",state=\"{}\"", escape_label(t.info_hash),
                            escape_label(t.name), state_name(t.state)),
                1);
    }
    return w.take();
}

}  // namespace pw::daemon::http
