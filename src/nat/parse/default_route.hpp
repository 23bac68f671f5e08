// The default IPv4 gateway from the text of Linux's /proc/net/route, as NAT-PMP (RFC 6886
// section 3) needs it: requests go to the default gateway's port 5351. Pure: text in, an
// address out; reading the file is the caller's business.
//
// The file has a header line, then one line per route with tab- or space-separated columns
// named by the header: Iface, Destination, Gateway, Flags, Metric and Mask are used.
// Addresses are 8 hex digits: the 32-bit in_addr as the kernel holds it, printed as a host
// integer, so on a little-endian machine 0100A8C0 is 192.168.0.1. The parser reads them in
// the byte order of the machine it runs on, like the kernel wrote them; the byte order can
// be given for tests.
//
// A default route has Destination and Mask 0, Flags with RTF_UP (0x1) and RTF_GATEWAY
// (0x2), and a non-zero Gateway; of several, the lowest Metric wins (the first on a tie).
// Malformed lines are skipped; a header without the needed columns, more than max_lines
// lines or more than max_text_size bytes are refused.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pw::nat {

inline constexpr std::size_t max_route_text_size = 1 << 20;
inline constexpr std::size_t max_route_lines = 10000;

struct DefaultRoute {
    bool found = false;
    std::string error;  // when the text is refused (not merely without a default route)
    std::array<std::uint8_t, 4> gateway{};  // in network order: gateway[0] is the first octet
    std::string iface;
    std::uint32_t metric = 0;
    std::size_t skipped_lines = 0;  // malformed route lines
};

DefaultRoute parse_default_route(std::string_view proc_net_route,
                                 std::endian order = std::endian::native);

}  // namespace pw::nat
