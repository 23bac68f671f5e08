// Blocklist files (IP filters) as users get them for qBittorrent, Deluge, Transmission and
// PeerGuardian: bytes in, an IpRanges out. Pure: no file or socket I/O (the caller reads
// the file); gzip is inflated in memory with zlib.
//
// Formats, recognised line by line, so one file may mix them:
// - P2P plaintext (PeerGuardian): `Some name:1.2.3.4-1.2.3.255`. The name may itself
//   contain ':'; the range is what follows the last ':' for IPv4, or the longest suffix
//   after one of the last colons that reads as a range for IPv6
//   (`name:2001:db8::-2001:db8::ffff`).
// - eMule DAT (ipfilter.dat): `001.002.003.004 - 001.002.003.255 , 000 , name`. Octets may
//   have leading zeros (decimal, never octal). The access level (second field, optional)
//   decides: <= 127 blocks, > 127 does not (eMule's and qBittorrent's rule); such
//   entries are counted in `allowed`, not as skipped.
// - Either one compressed with gzip (detected by the magic bytes 1f 8b; concatenated
//   members are read one after another).
// Blank lines and lines starting with '#' or "//" are comments. Lines end with LF or CRLF;
// a UTF-8 byte order mark at the start is ignored.
// Addresses are IPv4 or IPv6 (both ends of a range of one family; an IPv4-mapped IPv6
// range becomes the IPv4 range).
//
// Contract: never throws on bad input and never fails as a whole for bad lines: a line that
// does not parse (or is longer than max_line_length, or has first > last) is skipped and
// counted. Only corrupt or truncated gzip data, or gzip data inflating past
// `max_inflated`, sets `error`. Time and memory are linear in the (inflated) input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filter/parse/ip_ranges.hpp"

namespace pw::filter {

inline constexpr std::size_t max_line_length = 4096;
inline constexpr std::size_t default_max_inflated = std::size_t(1) << 30;  // 1 GiB

struct BlocklistResult {
    IpRanges ranges;          // sorted and merged (see IpRanges)
    std::size_t lines = 0;    // lines that are neither blank nor comments
    std::size_t skipped = 0;  // of those, lines that did not parse
    std::size_t allowed = 0;  // DAT entries with access level > 127 (not blocking)
    bool gzip = false;        // the input was gzip-compressed
    std::string error;        // non-empty: the input as a whole is unusable
};

BlocklistResult parse_blocklist(std::string_view data,
                                std::size_t max_inflated = default_max_inflated);

// A dotted quad ("1.2.3.4", "001.002.003.004"); each part 1-3 decimal digits, <= 255.
bool parse_ipv4(std::string_view s, std::uint32_t& out);
// An IPv6 address in any RFC 4291 text form (no zone, no brackets).
bool parse_ipv6(std::string_view s, Ip6& out);

}  // namespace pw::filter
