// Fetching a torrent's info dictionary from peers for a magnet link (BEP 9 over BEP 10).
//
// The fetch dials peers from the magnet (x.pe), its trackers and any source the session
// adds, asks every peer that offers ut_metadata for 16 KiB pieces of the metadata, and
// checks the whole against the info-hash (SHA-1 and parsing on the disk pool, the result
// posted back; see DESIGN.md "Threads"). A wrong result bans the peers that sent it and
// starts over. Once it verifies, `done` receives the parsed metainfo and the
// addresses of the peers that were useful, and the session turns it into a Torrent.
//
// A btmh magnet (BEP 52) checks the metadata by SHA-256 against its v2 hash (and by SHA-1
// against its btih when it has one too). A v2-only torrent's info dictionary lacks the
// piece layers: each file larger than one piece gets its layer from v2 peers by `hash
// request`s (up to 512 hashes each, with the uncles up to the root), every answer checked
// against the file's pieces root before it is kept. The torrent is then parsed again
// with its layers, so it starts exactly as one loaded from a complete .torrent would.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "meta/magnet.hpp"
#include "meta/metainfo.hpp"
#include "peer/peer_connection.hpp"
#include "piecewise/session.hpp"
#include "session/context.hpp"

namespace pw::session {

class MetadataFetch : public peer::PeerHandler, public std::enable_shared_from_this<MetadataFetch> {
public:
    using tcp = boost::asio::ip::tcp;
    using Done = std::function<void(meta::Metainfo, std::vector<tcp::endpoint>)>;

    static constexpr std::int64_t max_metadata = 16 << 20;

    MetadataFetch(Context& ctx, piecewise::TorrentId id, meta::Magnet magnet, Done done);
    void start();
    void stop();  // closes every connection; `done` is never called after it

    const Sha1Digest& info_hash() const { return magnet_.info_hash; }
    const meta::Magnet& magnet() const { return magnet_; }
    piecewise::TorrentStatus status() const;
    // `slot`: its place in the session's connection budget, kept until it closes.
    void attach_incoming(peer::PeerStream s, const wire::Handshake& theirs, peer::Transport t = {},
                         std::shared_ptr<void> slot = {});
    void add_peer(const tcp::endpoint& ep);
    // Closes the connections to peers the session's IP blocklist now blocks (after the
    // list changed); addresses it blocks are never dialled again.
    void close_blocked();

    bool on_handshake(peer::PeerConnection& p) override;
    void on_message(peer::PeerConnection& p, const wire::Message& m) override;
    void on_closed(peer::PeerConnection& p, const std::string& reason) override;
    void on_send_drained(peer::PeerConnection&) override {}

private:
    struct Known {
        bool connected = false, banned = false, tried = false;
        peer::Clock::time_point next_attempt{};
        int failures = 0;
    };
    boost::asio::awaitable<void> connect_to(tcp::endpoint ep, ConnectionLimits::Slot slot);
    boost::asio::awaitable<void> tracker_loop();
    void tick();
    void connect_more();
    void request_from(peer::PeerConnection& p);
    void on_data(peer::PeerConnection& p, std::int64_t piece, std::int64_t total, std::string_view data);
    // What the disk pool found out about a complete buffer.
    struct VerifyResult {
        bool matches = false;                     // SHA-1 equals the info-hash
        std::vector<Sha1Digest> piece_hashes;     // when it does not: per 16 KiB piece
        std::optional<meta::Metainfo> meta;       // when it does and parses
        std::string parse_error;                  // when it does but does not parse
        std::vector<std::size_t> lying_suspects;  // indices into suspects_ that differ
    };
    void verify();  // hands the buffer to the disk pool; on_verified() gets the result
    void on_verified(std::string data, VerifyResult r);
    void choose_solo();
    wire::Handshake our_handshake() const;
    void finish(meta::Metainfo m);  // hands the torrent to `done` and closes the peers

    // BEP 52 piece layers of a v2-only torrent from a btmh magnet.
    struct LayerChunk {
        std::uint32_t index = 0, length = 0;  // in hashes of the piece layer
        std::uint8_t state = 0;               // 0 missing, 1 requested, 2 received
        peer::Clock::time_point at{};
        tcp::endpoint from;
    };
    struct FileLayer {
        Sha256Digest root;
        int num_pieces = 0;
        int base = 0;        // the piece layer's height above the leaves
        int root_level = 0;  // the root's height above the leaves
        std::vector<Sha256Digest> hashes;  // num_pieces, once every chunk is in
        std::vector<LayerChunk> chunks;
    };
    void start_layers(meta::Metainfo m);
    void request_layers(peer::PeerConnection& p);
    void on_hash_message(peer::PeerConnection& p, const wire::Message& m);
    void layers_tick();
    std::optional<meta::Metainfo> layers_for_;  // verified metadata waiting for its layers
    std::vector<FileLayer> layers_;
    std::map<tcp::endpoint, peer::Clock::time_point> hash_backoff_;  // peers that rejected

    Context& ctx_;
    piecewise::TorrentId id_;
    meta::Magnet magnet_;
    Done done_;
    bool stopped_ = false;
    bool finished_ = false;
    bool verifying_ = false;  // the complete buffer is being checked on the disk pool

    std::int64_t size_ = 0;  // metadata size, from the first peer that states one
    std::string buffer_;
    std::vector<std::uint8_t> state_;  // per 16 KiB piece: 0 missing, 1 requested, 2 received
    std::vector<peer::Clock::time_point> requested_at_;
    std::vector<tcp::endpoint> from_;  // who sent each piece
    int attempts_failed_ = 0;
    bool solo_ = false;  // after a failure with several senders: one peer fetches all
    tcp::endpoint solo_peer_;
    std::set<tcp::endpoint> tried_solo_;
    struct Suspect {
        tcp::endpoint from;
        std::size_t piece;
        Sha1Digest hash;  // of what it sent in a failed attempt
    };
    std::vector<Suspect> suspects_;
    int ticks_ = 0;

    std::vector<std::shared_ptr<peer::PeerConnection>> peers_;
    std::map<tcp::endpoint, Known> known_;
    int connecting_ = 0;
    boost::asio::steady_timer tick_timer_;
    boost::asio::steady_timer tracker_timer_;
    std::vector<piecewise::TrackerStatus> trackers_;
};

}  // namespace pw::session
