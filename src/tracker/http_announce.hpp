// Announcing to an HTTP or HTTPS tracker over Boost.Beast, as a coroutine on the caller's
// executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "proxy/parse/proxy_url.hpp"
#include "tracker/parse/announce.hpp"
#include "tracker/tls_settings.hpp"

namespace pw::tracker {

// Resolves, connects, sends the GET and parses the reply, all within `timeout`.
// Follows up to 5 redirects. Never throws for network or protocol failures: they are
// reported in AnnounceResponse::failure_reason ("connect: Connection refused", ...).
// http:// and https:// URLs are supported (https checked per `tls`); others fail with a
// reason. With `proxy` enabled the connection is a SOCKS5 CONNECT to the URL's host
// (a name is sent as a name: the proxy resolves it, nothing is resolved here).
boost::asio::awaitable<AnnounceResponse> announce_http(AnnounceRequest req,
                                                       std::chrono::milliseconds timeout,
                                                       TlsSettings tls = {},
                                                       proxy::ProxyConfig proxy = {});

// What one GET of a tracker URL gave, redirects followed.
struct HttpTrackerReply {
    std::string failure_reason;  // non-empty: no usable reply (network, redirect, encoding)
    unsigned status = 0;         // final HTTP status
    std::string reason;          // its reason phrase, at most 100 bytes
    std::string body;            // at most body_limit (2 MiB), identity-encoded
};

// The transport under announce_http, for other tracker requests (scrape): GETs an
// absolute http:// or https:// URL from `bind_ip` (textual; empty: any), following up to
// 5 redirects, all within `timeout`. A redirect from https to http is refused. Never
// throws. A non-empty `bind_device` keeps the connection on that network interface.
// A body longer than `body_limit` fails ("read: body limit exceeded"). A non-empty `cookie`
// is sent as the Cookie header to the URL's host (not to a redirect to another host); the
// caller checks it holds no CR or LF.
boost::asio::awaitable<HttpTrackerReply> http_tracker_get(std::string url, std::string bind_ip,
                                                          std::chrono::milliseconds timeout,
                                                          TlsSettings tls = {},
                                                          std::string bind_device = {},
                                                          proxy::ProxyConfig proxy = {},
                                                          std::uint64_t body_limit = 2u << 20,
                                                          std::string cookie = {});

}  // namespace pw::tracker
