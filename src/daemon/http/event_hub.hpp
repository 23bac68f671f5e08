// GET /events: the live feed of the web UI (server-sent events, see events/sse.hpp).
//
// While at least one client is connected, a tick (at most once a second, and at once for
// a client that just joined) reads every torrent's status in one engine round trip on
// the RPC worker, turns it into the torrent-get fields the list shows (JSON-RPC names)
// and diffs it against the last tick (events/torrent_diff.hpp). A new client first gets
// `snapshot` {"torrents": [...], "stats": {...}}; then `update` {"added", "changed",
// "removed", "stats"} whenever something changed, and a comment every 15 s otherwise.
// With no client connected there is no tick: the engine is not asked for anything.
//
// Bounds: at most `max_clients` streams (503 beyond); each client's unsent frames are
// limited to `queue_limit` bytes, and a client that falls behind that is disconnected
// (its EventSource reconnects and starts again from a snapshot).
//
// Runs on the HTTP server's io_context thread; the engine is reached only from `pool`.
// Lifetime: the hub must outlive the io_context (its coroutines refer to it until the
// io_context destroys them).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <string>
#include <vector>

#include "daemon/daemon.hpp"
#include "daemon/events/sse.hpp"
#include "daemon/events/torrent_diff.hpp"

namespace pw::daemon::http {

class EventHub {
  public:
    static constexpr std::size_t max_clients = 16;
    static constexpr std::size_t queue_limit = 8u << 20;

    EventHub(boost::asio::io_context& io, boost::asio::thread_pool& pool, Daemon& daemon)
        : io_(io), pool_(pool), daemon_(daemon) {}

    bool full() const { return clients_.size() >= max_clients; }
    std::size_t clients() const { return clients_.size(); }
    // Serves one client until it goes away, falls behind or the server stops. `head` is
    // the response header, written first.
    boost::asio::awaitable<void> serve(boost::beast::tcp_stream& stream, std::string head);
    // Ticks so far (tests: none while nobody listens).
    std::uint64_t ticks() const { return ticks_.load(); }

  private:
    struct Client {
        explicit Client(boost::asio::io_context& io) : wake(io) {}
        events::SseQueue queue{queue_limit};
        boost::asio::steady_timer wake;
        bool needs_snapshot = true;
        boost::beast::tcp_stream* stream = nullptr;  // closed when the client falls behind
        bool gone = false;                           // hung up (or sent something)
        char sink[512];
    };
    boost::asio::awaitable<void> tick_loop();
    void deliver(Client& c, const std::shared_ptr<const std::string>& frame);

    boost::asio::io_context& io_;
    boost::asio::thread_pool& pool_;
    Daemon& daemon_;
    // The tick loop's timer lives in its coroutine (so that no timer of this object
    // outlives the io_context); this points to it while the loop runs.
    boost::asio::steady_timer* tick_timer_ = nullptr;
    std::vector<std::shared_ptr<Client>> clients_;
    bool ticking_ = false;
    std::atomic<std::uint64_t> ticks_{0};
    events::TorrentDiff diff_;  // touched only by tick_loop, on `pool`
    std::string last_stats_;
};

// The torrent-get fields (snake_case) each torrent carries in the feed.
const std::vector<std::string>& event_fields();

}  // namespace pw::daemon::http
