// SOCKS5 client (RFC 1928, RFC 1929): coroutines on the caller's executor (the network
// thread), every step bounded by one deadline.
//
// connect_via() opens a TCP connection to the proxy (from `bind` when it is of the same
// family), negotiates "no authentication" or username/password, asks for CONNECT to the
// destination and returns the connected socket, ready for the application protocol.
// The destination may be a domain name: the proxy resolves it, nothing is looked up here.
//
// UdpAssociation::open() does the same with UDP ASSOCIATE and keeps the TCP control
// connection open: RFC 1928 ties the association's life to it. A watcher reads the
// control connection; when the proxy closes it (or it fails) the association is marked
// dead and its UDP socket closed, so pending receives end and later sends fail.
//
// Errors are one line beginning with "proxy: " ("proxy: cannot reach 127.0.0.9:1080:
// Connection refused", "proxy: authentication refused", "proxy: connection refused by
// destination", "proxy: timed out"). Nothing is ever sent directly to the destination.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "proxy/parse/proxy_url.hpp"
#include "proxy/parse/socks5.hpp"

namespace pw::proxy {

using Clock = std::chrono::steady_clock;

// The SOCKS address of an endpoint, and of a host (an IP literal, bracketless, becomes an
// IP address; anything else a domain name for the proxy to resolve).
socks5::Address to_socks(const boost::asio::ip::tcp::endpoint& ep);
socks5::Address to_socks(const std::string& host, std::uint16_t port);
// The endpoint of an IP address (nullopt for a domain name).
std::optional<boost::asio::ip::udp::endpoint> to_udp_endpoint(const socks5::Address& a);

struct TcpConnectResult {
    std::optional<boost::asio::ip::tcp::socket> socket;
    std::string error;  // set when socket is empty
};

// Connects to `dst` through the proxy `cfg` (which must be enabled), before `deadline`.
boost::asio::awaitable<TcpConnectResult> connect_via(ProxyConfig cfg, socks5::Address dst,
                                                     boost::asio::ip::address bind,
                                                     Clock::time_point deadline);

class UdpAssociation {
  public:
    // Opens an association through `cfg` before `deadline`: a UDP socket bound to the
    // control connection's local address, announced to the proxy, and the relay's address.
    static boost::asio::awaitable<std::variant<std::unique_ptr<UdpAssociation>, std::string>> open(
        ProxyConfig cfg, boost::asio::ip::address bind, Clock::time_point deadline);

    ~UdpAssociation();  // closes the control connection, which ends the association
    UdpAssociation(const UdpAssociation&) = delete;
    UdpAssociation& operator=(const UdpAssociation&) = delete;

    // The socket to send wrapped datagrams from and receive them on.
    boost::asio::ip::udp::socket& socket();
    // Where wrapped datagrams go; replies come from there.
    const boost::asio::ip::udp::endpoint& relay() const;
    // False once the proxy closed the control connection (or it failed).
    bool alive() const;

    struct State;

  private:
    explicit UdpAssociation(std::shared_ptr<State> s);
    std::shared_ptr<State> state_;
};

}  // namespace pw::proxy
