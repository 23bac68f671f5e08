// Host name resolution with a deadline, shared by the HTTP(S) and UDP tracker clients.
//
// getaddrinfo runs on asio's resolver thread and cannot be interrupted, so the coroutine
// waits for it on a timer and leaves a lookup still running at the deadline behind: the
// completion handler owns the resolver and everything it writes, so it may finish after
// resolve_host has returned. Never throws for resolution failures.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pw::tracker {

// Resolves `host` (a name, or an address literal without brackets) before `deadline`.
// On success fills `out` with its addresses, in the resolver's order without duplicates,
// and returns nothing; otherwise returns "resolve: timed out" or "resolve: <reason>".
boost::asio::awaitable<std::optional<std::string>> resolve_host(
    std::string host, std::chrono::steady_clock::time_point deadline,
    std::vector<boost::asio::ip::address>& out);

}  // namespace pw::tracker
