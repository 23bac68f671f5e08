// Announcing to an HTTP tracker over Boost.Beast, as a coroutine on the caller's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "tracker/parse/announce.hpp"

namespace pw::tracker {

// Resolves, connects, sends the GET and parses the reply, all within `timeout`.
// Follows up to 5 redirects. Never throws for network or protocol failures: they are
// reported in AnnounceResponse::failure_reason ("connect: Connection refused", ...).
// Only http:// URLs are supported; others fail with a reason.
boost::asio::awaitable<AnnounceResponse> announce_http(AnnounceRequest req,
                                                       std::chrono::milliseconds timeout);

}  // namespace pw::tracker
