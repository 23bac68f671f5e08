// Web seeds (BEP 19): an HTTP/1.1 client for ranged GETs of one web seed, over Boost.Beast,
// https through the tracker client's TLS (tracker/tls_client.hpp) and name resolution
// (tracker/resolve.hpp), through the session's SOCKS5 proxy when one is set.
//
// One WebSeedClient is one connection, kept alive between fetches to the same host and
// port; a torrent runs a few of them per web seed to keep several requests in flight.
// Every fetch is bounded: connect and each read by `idle`, the whole fetch by a deadline
// of `idle` plus the range's length at `min_rate` bytes/s (so a server sending 1 byte/s
// cannot hold a request), redirects by `max_redirects` (https never redirects to http),
// the header by 16 KiB, and the body by the range asked for: bytes past it are never read
// (the connection is dropped instead). Responses are judged by swarm/parse/
// web_seed_response.hpp. Runs on the network thread; never blocks, never throws.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/socks5_client.hpp"
#include "tracker/tls_client.hpp"
#include "tracker/tls_settings.hpp"

namespace pw::peer {

struct WebSeedLimits {
    std::chrono::milliseconds idle{20000};  // connect, and any one read or write
    std::int64_t min_rate = 8192;           // bytes/s a fetch must average
    int max_redirects = 5;
    // How connections leave: through the session's SOCKS5 proxy when it is enabled (the
    // proxy resolves names), else directly, from `bind` when it is not unspecified.
    proxy::ProxyConfig proxy;
    boost::asio::ip::address bind;
    std::string device;  // Settings::bind_interface; empty: any
};

struct WebSeedResult {
    enum Kind { ok, aborted, busy, not_found, error } kind = error;
    int retry_after = 0;         // busy: seconds the server asked for (0: not said)
    std::string why;             // not ok: one line for the log
    std::int64_t delivered = 0;  // bytes handed to the sink
};

class WebSeedClient {
  public:
    WebSeedClient(boost::asio::any_io_executor ex, tracker::TlsSettings tls,
                  WebSeedLimits lim = {});
    ~WebSeedClient();

    // Fetches `length` bytes from `offset` of the file at `url` (whose size in the torrent
    // is `file_size`), handing them to `sink` in order as they arrive. A sink that returns
    // false stops the fetch (`aborted`; the connection is dropped).
    using Sink = std::function<bool(const char* data, std::size_t n)>;
    boost::asio::awaitable<WebSeedResult> fetch(std::string url, std::int64_t offset,
                                                std::int64_t length, std::int64_t file_size,
                                                Sink sink);
    // Drops the connection; a fetch in progress ends with an error. Any time, on the executor.
    void close();

  private:
    struct Conn;
    boost::asio::awaitable<WebSeedResult> fetch_once(const std::string& url, std::int64_t offset,
                                                     std::int64_t length, std::int64_t file_size,
                                                     const Sink& sink, std::string& location,
                                                     bool& retry_fresh);
    boost::asio::any_io_executor ex_;
    tracker::TlsSettings tls_;
    WebSeedLimits lim_;
    std::unique_ptr<Conn> conn_;
    std::vector<char> chunk_;
};

}  // namespace pw::peer
