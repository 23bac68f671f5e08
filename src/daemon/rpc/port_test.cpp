#include "daemon/rpc/port_test.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "daemon/rpc/torrent_settings.hpp"
#include "session/endpoint.hpp"

namespace pw::daemon::rpc {

namespace asio = boost::asio;
using asio::ip::tcp;

PortTestResult port_test(std::string_view listen, std::uint16_t port,
                         const std::optional<std::string>& ip_protocol,
                         std::chrono::milliseconds timeout, std::string_view listen2) {
    if (ip_protocol && *ip_protocol != "ipv4" && *ip_protocol != "ipv6")
        throw ParamError("ip_protocol must be \"ipv4\" or \"ipv6\"");
    auto ep = session::parse_endpoint(listen);
    if (!ep) throw ParamError("the listen address " + std::string(listen) + " is not IP:PORT");
    asio::ip::address addr = session::unmapped(ep->address());
    bool v6 = addr.is_v6();
    PortTestResult r;
    r.ip_protocol = ip_protocol ? *ip_protocol : (v6 ? "ipv6" : "ipv4");
    if ((r.ip_protocol == "ipv6") != v6 && !listen2.empty()) {  // the other listener's family
        auto ep2 = session::parse_endpoint(listen2);
        if (!ep2) throw ParamError("the listen address " + std::string(listen2) + " is not IP:PORT");
        addr = session::unmapped(ep2->address());
        v6 = addr.is_v6();
    }
    if ((r.ip_protocol == "ipv6") != v6) return r;  // no listener of that family
    if (addr.is_unspecified())
        addr = v6 ? asio::ip::address(asio::ip::address_v6::loopback())
                  : asio::ip::address(asio::ip::address_v4::loopback());
    // An asynchronous connect bounded by `timeout`: a full accept backlog (a flood) leaves
    // a blocking connect retrying its SYN for minutes.
    asio::io_context io;
    tcp::socket s(io);
    boost::system::error_code result = asio::error::timed_out;
    s.async_connect(tcp::endpoint(addr, port), [&](const boost::system::error_code& ec) { result = ec; });
    io.run_for(timeout);
    r.port_is_open = !result;
    boost::system::error_code ignored;
    s.close(ignored);
    return r;
}

}  // namespace pw::daemon::rpc
