// The HTTP front end of `piecewise tracker` (Boost.Beast): GET /announce (BEP 3 with
// BEP 23 compact peers, BEP 7 peers6, BEP 24 external ip), GET /scrape (BEP 48) and
// GET /stats (plain text). One coroutine per connection on the caller's io_context.
//
// Bounds: request head at most max_header bytes, no request body (refused with 400),
// each read within read_timeout (idle keep-alive connections are closed then), at most
// max_connections connections at once (extra ones are closed on accept).
// The peer's address is the connection's source address; an `ip` parameter is ignored.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>

#include "tracker/server/tracker_state.hpp"

namespace pw::tracker {

struct HttpLimits {
    std::size_t max_header = 8 * 1024;
    std::chrono::milliseconds read_timeout{10'000};
    std::size_t max_connections = 1024;
    std::size_t full_scrape_max = 1000;  // torrents listed by a scrape without info_hash
};

class HttpServer : public std::enable_shared_from_this<HttpServer> {
  public:
    // Binds and listens; throws boost::system::system_error when it cannot.
    HttpServer(boost::asio::io_context& io, std::shared_ptr<TrackerState> state,
               const boost::asio::ip::tcp::endpoint& at, HttpLimits limits);
    void start();  // spawns the accept loop
    void stop();   // closes the listener; open connections end at their next read
    std::uint16_t port() const { return port_; }
    std::size_t connections() const { return connections_; }

    // Builds the reply body for a request target (exposed for tests and fuzzing of the
    // server logic without sockets). `status` receives the HTTP status.
    std::string handle_target(std::string_view target, const PeerEndpoint& source, int& status,
                              std::string& content_type);

  private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket sock);
    std::string announce(std::string_view query, const PeerEndpoint& source);
    std::string scrape(std::string_view query);

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<TrackerState> state_;
    HttpLimits limits_;
    std::uint16_t port_ = 0;
    std::size_t connections_ = 0;
};

// The source address of a socket as a PeerEndpoint (IPv4-mapped IPv6 becomes IPv4).
PeerEndpoint endpoint_of(const boost::asio::ip::address& a, std::uint16_t port);

}  // namespace pw::tracker
