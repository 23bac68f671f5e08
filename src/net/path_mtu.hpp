// What uTP's path MTU discovery (RFC 4821, packetization layer probing) needs from the
// kernel (Linux): the MTU of the route to a destination, which bounds the probes, and the
// Don't Fragment mode of the shared UDP socket.
//
// - route_mtu() asks the kernel for the route's MTU (IP_MTU / IPV6_MTU of a throw-away
//   UDP socket connected to the destination: connect() on UDP sends nothing). 0 when the
//   kernel does not say; the caller then does not probe.
// - max_udp_payload() is the largest UDP payload a datagram of that MTU carries.
// - set_dont_fragment(sock, true) puts the socket in IP_PMTUDISC_PROBE mode (and its IPv6
//   counterpart): every datagram leaves with DF set and the kernel neither fragments it
//   nor lowers its size from ICMP reports, so a datagram larger than the path is lost,
//   which is what the prober measures. false (IP_PMTUDISC_DONT) lets the kernel fragment:
//   uTP uses it only to resend a packet that turned out larger than the path.
// Header-only: used by the uTP layer of the engine.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/udp.hpp>
#include <cstddef>

namespace pw::net {

inline std::size_t route_mtu(boost::asio::ip::udp::endpoint to) {
    auto addr = to.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        to = {boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()), to.port()};
    const bool v6 = to.address().is_v6();
    int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int mtu = 0;
    socklen_t len = sizeof mtu;
    if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) != 0 ||
        ::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) != 0)
        mtu = 0;
    ::close(fd);
    return mtu > 0 ? static_cast<std::size_t>(mtu) : 0;
}

// The largest UDP payload in one datagram over a link of `mtu` bytes (0 for 0).
inline std::size_t max_udp_payload(std::size_t mtu, bool v6) {
    const std::size_t headers = (v6 ? 40 : 20) + 8;
    if (mtu <= headers) return 0;
    const std::size_t cap = v6 ? 65527 : 65507;  // the 16-bit length fields
    return mtu - headers < cap ? mtu - headers : cap;
}

inline void set_dont_fragment(boost::asio::ip::udp::socket& sock, bool on) {
    // Both levels on an IPv6 socket: IPv4-mapped destinations follow the IPv4 option.
    int v4 = on ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;
    ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof v4);
    boost::system::error_code ec;
    auto local = sock.local_endpoint(ec);
    if (!ec && local.address().is_v6()) {
        int v6 = on ? IPV6_PMTUDISC_PROBE : IPV6_PMTUDISC_DONT;
        ::setsockopt(sock.native_handle(), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof v6);
    }
}

}  // namespace pw::net
