// torrent-add with a `filename` that is an http:// or https:// URL: the .torrent is fetched
// with the trackers' HTTP client (tracker/http_announce.hpp: redirects at most 5, https
// checked as for trackers, through the SOCKS5 proxy when one is set) and its bytes are
// added as metainfo. Bounded: at most `max_bytes` of body and `timeout` for everything
// (name lookup, connect, redirects, the body). The fetch runs on the calling thread (the
// RPC worker, never the network thread), in an io_context of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "piecewise/session.hpp"

namespace pw::daemon {

struct UrlFetchOptions {
    std::chrono::milliseconds timeout{20000};
    std::uint64_t max_bytes = 10u << 20;
    std::string proxy;           // Settings::proxy: "socks5://..." or empty
    std::string ca_file;         // Settings::tracker_ca_file
    bool verify_tls = true;      // Settings::tracker_verify_tls
    std::string bind_interface;  // Settings::bind_interface
    // torrent-add's `cookies` ("name=value; name2=value2"), sent as the Cookie header;
    // checked by check_cookies.
    std::string cookies;
};

// The longest `cookies` value taken.
constexpr std::size_t max_cookies_length = 8192;
// Empty when `c` may be sent as a Cookie header (no CR, LF or NUL, at most
// max_cookies_length bytes), else the reason.
std::string check_cookies(std::string_view c);

// True for the URLs fetch_torrent_url takes (scheme http or https, any case).
bool is_http_url(std::string_view s);

// The body of a 200 answer. Throws piecewise::Error with a one-line reason naming the
// URL: "cannot fetch URL ...: HTTP 404 Not Found", "...: connect: Connection refused",
// "...: larger than 10 MiB", "...: timed out".
std::string fetch_torrent_url(const std::string& url, const UrlFetchOptions& o);
// The same for any file (blocklist-update): "cannot fetch URL ..." as above.
inline std::string fetch_url(const std::string& url, const UrlFetchOptions& o) {
    return fetch_torrent_url(url, o);
}

}  // namespace pw::daemon
