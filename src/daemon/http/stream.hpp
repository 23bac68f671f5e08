// GET|HEAD /stream/<40-hex info-hash>/<file index>[/<name>]: a torrent's file over HTTP
// with byte ranges (RFC 9110 section 14), while it downloads, for browsers, VLC and mpv.
//
// The server (server.hpp) has already applied the allow-list, Host and Basic auth checks;
// the session-id handshake does not apply (a player or <video> cannot send it, and a
// GET changes nothing but what is downloaded first). Answers: 200 (no, invalid or
// ignored Range; daemon/parse/http_range.hpp), 206, 416 with "Content-Range: bytes
// */LEN", 404 (unknown info-hash or file index), 503 (a magnet without its metadata
// yet), 409 (the file is skipped and the bytes asked are not verified: streaming never
// selects a file), 504 (the first bytes did not come within StreamConfig::wait).
//
// The body is read in chunks from verified pieces only (Session::stream_read), never
// buffered whole: at most two chunks per response are in memory. Each chunk waits at
// most StreamConfig::wait; then, or when the client goes away (seen while waiting or
// writing), the connection is closed and the stream's priority dropped.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "daemon/daemon.hpp"

namespace pw::daemon::http {

struct StreamConfig {
    std::chrono::milliseconds wait{std::chrono::seconds(60)};  // per chunk
    std::size_t chunk = 256u << 10;
};

// How engine callbacks (any thread) reach the server's io_context; close() at server
// stop makes later posts no-ops, so a late callback never touches a dead io_context.
class IoGate {
  public:
    explicit IoGate(boost::asio::io_context& io) : io_(&io) {}
    void post(std::function<void()> fn);
    void close();

  private:
    std::mutex mu_;
    boost::asio::io_context* io_;
};

// Serves one request whose target starts with /stream/. Engine calls that block run on
// `pool`. Returns whether the connection may carry another request.
boost::asio::awaitable<bool> serve_stream(
    boost::beast::tcp_stream& stream,
    const boost::beast::http::request<boost::beast::http::string_body>& req, Daemon& daemon,
    boost::asio::thread_pool& pool, std::shared_ptr<IoGate> gate, const StreamConfig& cfg);

}  // namespace pw::daemon::http
