// A set of IP address ranges (IPv4 and IPv6) with a lookup: the blocklist the session
// checks every peer address against (like libtorrent's ip_filter, qBittorrent's IP filter).
// Pure: no I/O, no sockets.
//
// Contract:
// - Built once from ranges in any order, overlapping or not (first <= last each; a range
//   with first > last is dropped). The result is sorted, disjoint and never adjacent:
//   overlapping and touching ranges are merged, so memory is at most that of the input.
// - contains_v4 / contains_v6 are binary searches, O(log n); the set is immutable after
//   construction, so any thread may read it.
// - IPv4 and IPv6 are separate spaces. An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
//   is looked up as the IPv4 address a.b.c.d by contains_v6.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pw::filter {

// An IPv6 address in network byte order; lexicographic order is numeric order.
using Ip6 = std::array<std::uint8_t, 16>;

struct Range4 {
    std::uint32_t first = 0, last = 0;  // host byte order, inclusive
    bool operator==(const Range4&) const = default;
};

struct Range6 {
    Ip6 first{}, last{};  // inclusive
    bool operator==(const Range6&) const = default;
};

class IpRanges {
  public:
    IpRanges() = default;
    IpRanges(std::vector<Range4> v4, std::vector<Range6> v6);

    bool contains_v4(std::uint32_t address) const;
    bool contains_v6(const Ip6& address) const;

    bool empty() const { return v4_.empty() && v6_.empty(); }
    std::size_t size() const { return v4_.size() + v6_.size(); }
    const std::vector<Range4>& v4() const { return v4_; }
    const std::vector<Range6>& v6() const { return v6_; }

  private:
    std::vector<Range4> v4_;  // sorted by first, disjoint, not adjacent
    std::vector<Range6> v6_;
};

// True when `a` is ::ffff:a.b.c.d; then `out` is a.b.c.d.
bool v4_mapped(const Ip6& a, std::uint32_t& out);

}  // namespace pw::filter
