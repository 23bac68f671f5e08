// "HOST:PORT" and "[IPv6]:PORT" parsing for numeric addresses.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace pw::session {

inline std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(std::string_view s) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view host = s.substr(0, colon), port_s = s.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
    if (ec != std::errc() || p != port_s.data() + port_s.size() || port > 65535) return std::nullopt;
    boost::system::error_code aec;
    auto addr = boost::asio::ip::make_address(std::string(host), aec);
    if (aec) return std::nullopt;
    return boost::asio::ip::tcp::endpoint(addr, static_cast<std::uint16_t>(port));
}

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket sees an IPv4
// peer) as the IPv4 address; any other address as it is.
inline boost::asio::ip::address unmapped(const boost::asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    return a;
}
inline boost::asio::ip::tcp::endpoint unmapped(const boost::asio::ip::tcp::endpoint& ep) {
    return {unmapped(ep.address()), ep.port()};
}

inline std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
    auto a = ep.address().to_string();
    if (ep.address().is_v6()) a = "[" + a + "]";
    return a + ":" + std::to_string(ep.port());
}

}  // namespace pw::session
