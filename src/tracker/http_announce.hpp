// Announcing to an HTTP or HTTPS tracker over Boost.Beast, as a coroutine on the caller's
// executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "tracker/parse/announce.hpp"
#include "tracker/tls_settings.hpp"

namespace pw::tracker {

// Resolves, connects, sends the GET and parses the reply, all within `timeout`.
// Follows up to 5 redirects. Never throws for network or protocol failures: they are
// reported in AnnounceResponse::failure_reason ("connect: Connection refused", ...).
// http:// and https:// URLs are supported (https checked per `tls`); others fail with a
// reason.
boost::asio::awaitable<AnnounceResponse> announce_http(AnnounceRequest req,
                                                       std::chrono::milliseconds timeout,
                                                       TlsSettings tls = {});

// What one GET of a tracker URL gave, redirects followed.
struct HttpTrackerReply {
    std::string failure_reason;  // non-empty: no usable reply (network, redirect, encoding)
    unsigned status = 0;         // final HTTP status
    std::string reason;          // its reason phrase, at most 100 bytes
    std::string body;            // at most 2 MiB, identity-encoded
};

// The transport under announce_http, for other tracker requests (scrape): GETs an
// absolute http:// or https:// URL from `bind_ip` (textual; empty: any), following up to
// 5 redirects, all within `timeout`. A redirect from https to http is refused. Never
// throws. A non-empty `bind_device` keeps the connection on that network interface.
boost::asio::awaitable<HttpTrackerReply> http_tracker_get(std::string url, std::string bind_ip,
                                                          std::chrono::milliseconds timeout,
                                                          TlsSettings tls = {},
                                                          std::string bind_device = {});

}  // namespace pw::tracker
