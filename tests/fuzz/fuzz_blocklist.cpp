// libFuzzer target for the blocklist parser (P2P, eMule DAT, gzip; filter/parse/blocklist.hpp).
// Besides "no crash", it checks the parser's promises: skipped <= lines; no ranges when the
// input as a whole failed; the ranges sorted, disjoint and never adjacent; every range's
// ends (and only ranges' ends, not the addresses just outside them) found by the lookup.
// The inflate limit is small so gzip bombs stay cheap.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/parse/blocklist.hpp"

using namespace pw::filter;

namespace {

Ip6 next(Ip6 a) {
    for (int i = 15; i >= 0; --i)
        if (++a[static_cast<std::size_t>(i)] != 0) break;
    return a;
}

Ip6 prev(Ip6 a) {
    for (int i = 15; i >= 0; --i)
        if (a[static_cast<std::size_t>(i)]-- != 0) break;
    return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    BlocklistResult r = parse_blocklist(in, 4 << 20);
    if (r.skipped > r.lines) __builtin_trap();
    if (!r.error.empty() && !r.ranges.empty()) __builtin_trap();
    const auto& v4 = r.ranges.v4();
    for (std::size_t i = 0; i < v4.size(); ++i) {
        const Range4& x = v4[i];
        if (x.first > x.last) __builtin_trap();
        if (i > 0 && (v4[i - 1].last == 0xffffffffu || x.first <= v4[i - 1].last + 1))
            __builtin_trap();
        if (!r.ranges.contains_v4(x.first) || !r.ranges.contains_v4(x.last)) __builtin_trap();
        if (x.first > 0 && r.ranges.contains_v4(x.first - 1)) __builtin_trap();
        if (x.last < 0xffffffffu && r.ranges.contains_v4(x.last + 1)) __builtin_trap();
    }
    const auto& v6 = r.ranges.v6();
    Ip6 zero{}, ones;
    ones.fill(0xff);
    for (std::size_t i = 0; i < v6.size(); ++i) {
        const Range6& x = v6[i];
        std::uint32_t mapped;
        if (x.last < x.first || v4_mapped(x.first, mapped)) __builtin_trap();
        if (i > 0 && (v6[i - 1].last == ones || x.first <= next(v6[i - 1].last))) __builtin_trap();
        // Mapped addresses are looked up as IPv4, so only check ends outside ::ffff:0:0/96.
        if (!v4_mapped(x.last, mapped) && !r.ranges.contains_v6(x.last)) __builtin_trap();
        if (x.first != zero && !v4_mapped(prev(x.first), mapped) &&
            r.ranges.contains_v6(prev(x.first)))
            __builtin_trap();
        if (x.last != ones && !v4_mapped(next(x.last), mapped) &&
            r.ranges.contains_v6(next(x.last)))
            __builtin_trap();
    }
    return 0;
}
