// Opening an outgoing TCP connection to a peer, from a chosen local address, within a time limit.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace pw::peer {

// Returns the connected socket, or nullopt (refused, unreachable, timed out). When
// `bind` is not unspecified and of the same family as `to`, the socket is bound to it;
// a non-empty `device` keeps it on that network interface (SO_BINDTODEVICE).
boost::asio::awaitable<std::optional<boost::asio::ip::tcp::socket>> dial(
    boost::asio::io_context& io, boost::asio::ip::tcp::endpoint to,
    boost::asio::ip::address bind, std::chrono::milliseconds timeout,
    std::string device = {});

}  // namespace pw::peer
