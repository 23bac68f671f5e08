// The daemon's HTTP/1.1 server (Boost.Beast, coroutines) on its own io_context thread:
// POST /transmission/rpc and /transmission/rpc/ (rpc-spec.md 2.2); GET / and the web UI's
// files (web_assets.hpp), GET /events (server-sent events, event_hub.hpp) and GET /metrics
// (Prometheus, metrics.hpp), GET|HEAD /stream/<info-hash>/<file> (stream.hpp). Every request passes the checks of access.hpp (the session
// id only for the RPC: the others are GETs that change nothing, and EventSource cannot
// send headers); the body goes to rpc::Methods on a separate worker thread, so a
// slow engine call never stalls accepting or reading. Limits: header 16 KiB, body
// 10 MiB (413), 30 s to read a request (then the connection closes).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/rpc/methods.hpp"

namespace pw::daemon::http {

struct ServerConfig {
    boost::asio::ip::tcp::endpoint listen;
    std::optional<std::string> auth;  // "user:pass"
    std::vector<boost::asio::ip::address> allow;
    std::size_t body_limit = 10u << 20;
    std::uint32_t header_limit = 16u << 10;
    std::chrono::seconds read_timeout{30};
    bool metrics_per_torrent = false;  // /metrics: per-torrent series too
    // GET /stream/ (stream.hpp): how long each chunk may wait for its pieces.
    std::chrono::milliseconds stream_wait{std::chrono::seconds(60)};
};

class Server {
  public:
    // Binds now; throws std::runtime_error("cannot listen on ...") on failure.
    // `on_close` runs (on the server thread) after session-close was answered.
    Server(ServerConfig cfg, rpc::Methods& methods, std::function<void()> on_close);
    ~Server();  // stops
    void stop();
    std::uint16_t port() const { return port_; }
    const std::string& session_id() const { return session_id_; }
    // Ticks of the /events feed so far (none while no client is connected).
    std::uint64_t event_ticks() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
    std::string session_id_;
};

}  // namespace pw::daemon::http
