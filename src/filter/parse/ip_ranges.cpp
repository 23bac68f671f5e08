#include "filter/parse/ip_ranges.hpp"

#include <algorithm>

namespace pw::filter {

namespace {

// a + 1 (wrapping at the top, which the callers rule out first).
Ip6 next(Ip6 a) {
    for (int i = 15; i >= 0; --i)
        if (++a[static_cast<std::size_t>(i)] != 0) break;
    return a;
}

const Ip6 all_ones = [] {
    Ip6 a;
    a.fill(0xff);
    return a;
}();

// Sorts by first and merges overlapping or touching ranges, in place.
template <class Range, class Touches>
void normalise(std::vector<Range>& v, Touches touches) {
    std::erase_if(v, [](const Range& r) { return r.last < r.first; });
    std::sort(v.begin(), v.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
    std::size_t out = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (out > 0 && touches(v[out - 1], v[i])) {
            if (v[out - 1].last < v[i].last) v[out - 1].last = v[i].last;
        } else {
            v[out++] = v[i];
        }
    }
    v.resize(out);
    v.shrink_to_fit();
}

}  // namespace

IpRanges::IpRanges(std::vector<Range4> v4, std::vector<Range6> v6)
    : v4_(std::move(v4)), v6_(std::move(v6)) {
    // `a` starts at or before `b` (sorted): they merge when b begins no later than the
    // address after a's end.
    normalise(v4_, [](const Range4& a, const Range4& b) {
        return a.last == 0xffffffffu || b.first <= a.last + 1;
    });
    normalise(v6_, [](const Range6& a, const Range6& b) {
        return a.last == all_ones || b.first <= next(a.last);
    });
}

bool IpRanges::contains_v4(std::uint32_t address) const {
    // The last range starting at or before `address` is the only candidate.
    auto it = std::upper_bound(v4_.begin(), v4_.end(), address,
                               [](std::uint32_t a, const Range4& r) { return a < r.first; });
    return it != v4_.begin() && address <= std::prev(it)->last;
}

bool IpRanges::contains_v6(const Ip6& address) const {
    std::uint32_t mapped = 0;
    if (v4_mapped(address, mapped)) return contains_v4(mapped);
    auto it = std::upper_bound(v6_.begin(), v6_.end(), address,
                               [](const Ip6& a, const Range6& r) { return a < r.first; });
    return it != v6_.begin() && address <= std::prev(it)->last;
}

bool v4_mapped(const Ip6& a, std::uint32_t& out) {
    for (int i = 0; i < 10; ++i)
        if (a[static_cast<std::size_t>(i)] != 0) return false;
    if (a[10] != 0xff || a[11] != 0xff) return false;
    out =
        std::uint32_t(a[12]) << 24 | std::uint32_t(a[13]) << 16 | std::uint32_t(a[14]) << 8 | a[15];
    return true;
}

}  // namespace pw::filter
