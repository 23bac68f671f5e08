// The HTTP front end of `piecewise tracker` (Boost.Beast): GET /announce (BEP 3 with
// BEP 23 compact peers, BEP 7 peers6, BEP 24 external ip), GET /scrape (BEP 48) and
// GET /stats (plain text), on the caller's io_context.
//
// Connections are accepted in batches (accept4 until the queue is drained; on Linux
// the listener hands a connection over once its first bytes arrived, TCP_DEFER_ACCEPT).
// A request that is whole in the first read is answered at once with one send, and a
// connection that asked to close is closed then: no coroutine, timer or reactor
// registration for the usual one-request connection. Every other connection (partial
// or bad requests, keep-alive, a reply that did not fit the send buffer) gets a
// coroutine that goes on from where the first read left it.
//
// Bounds: request head at most max_header bytes, no request body (refused with 400),
// each read within read_timeout (idle keep-alive connections are closed then), at most
// max_connections connections at once (extra ones are closed on accept).
// The peer's address is the connection's source address; an `ip` parameter is ignored.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

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
    void serve_first(int fd, const sockaddr_storage& from, socklen_t from_len);
    // A connection past its first read: `in` holds bytes read but not yet parsed, `out`
    // bytes still to send; after those, requests are served while `keep_alive`.
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket sock, PeerEndpoint source,
                                       std::string in, std::string out, bool keep_alive);
    // The whole response (status line, headers, body) to a parsed request.
    void reply_to(const boost::beast::http::request<boost::beast::http::empty_body>& req,
                  const PeerEndpoint& source, std::string& out, bool& keep_alive);
    std::string announce(std::string_view query, const PeerEndpoint& source);
    std::string scrape(std::string_view query);

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<TrackerState> state_;
    HttpLimits limits_;
    std::uint16_t port_ = 0;
    std::size_t connections_ = 0;
    std::vector<char> first_read_;  // the first read of each connection
    StoreReply reply_;              // reused by every announce
};

// The source address of a socket as a PeerEndpoint (IPv4-mapped IPv6 becomes IPv4).
PeerEndpoint endpoint_of(const boost::asio::ip::address& a, std::uint16_t port);

}  // namespace pw::tracker
