#include "daemon/parse/bandwidth_group.hpp"

#include <charconv>
#include <vector>

namespace pw::daemon {

std::string encode_group(const GroupLimits& g) {
    return std::to_string(g.down_kbps) + " " + (g.down_enabled ? "1" : "0") + " " +
           std::to_string(g.up_kbps) + " " + (g.up_enabled ? "1" : "0") + " " +
           (g.honors_session ? "1" : "0");
}

std::optional<GroupLimits> decode_group(const std::string& name, const std::string& text) {
    // Exactly five decimal fields separated by single spaces: what encode_group writes.
    std::vector<std::int64_t> v;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end && v.size() < 5) {
        std::int64_t x = 0;
        auto [next, ec] = std::from_chars(p, end, x);
        if (ec != std::errc() || next == p) return std::nullopt;
        v.push_back(x);
        p = next;
        if (p < end) {
            if (*p != ' ' || v.size() == 5) return std::nullopt;
            ++p;
        }
    }
    if (v.size() != 5 || p != end) return std::nullopt;
    auto flag = [](std::int64_t x) { return x == 0 || x == 1; };
    if (v[0] < 0 || v[0] > GroupLimits::max_kbps || v[2] < 0 || v[2] > GroupLimits::max_kbps ||
        !flag(v[1]) || !flag(v[3]) || !flag(v[4]))
        return std::nullopt;
    GroupLimits g;
    g.name = name;
    g.down_kbps = v[0];
    g.down_enabled = v[1] == 1;
    g.up_kbps = v[2];
    g.up_enabled = v[3] == 1;
    g.honors_session = v[4] == 1;
    if (encode_group(g) != text) return std::nullopt;  // "05", "-0": not what we write
    return g;
}

}  // namespace pw::daemon
