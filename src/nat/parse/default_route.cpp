// Finds the default IPv4 gateway in /proc/net/route text; see default_route.hpp.
#include "nat/parse/default_route.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace pw::nat {

namespace {

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size() && out.size() < 64) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::optional<std::uint32_t> hex32(std::string_view s) {
    if (s.empty() || s.size() > 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : s) {
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

std::optional<std::uint32_t> dec32(std::string_view s) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

// The in_addr bytes (network order) of a value the kernel printed as a host integer.
std::array<std::uint8_t, 4> address_bytes(std::uint32_t v, std::endian order) {
    std::array<std::uint8_t, 4> b{};
    for (int i = 0; i < 4; ++i) {
        int shift = order == std::endian::little ? 8 * i : 8 * (3 - i);
        b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> shift);
    }
    return b;
}

}  // namespace

DefaultRoute parse_default_route(std::string_view text, std::endian order) {
    DefaultRoute r;
    if (text.size() > max_route_text_size) {
        r.error = "route table of " + std::to_string(text.size()) + " bytes is too long";
        return r;
    }
    std::size_t pos = 0, lines = 0;
    auto next_line = [&](std::string_view& line) {
        if (pos >= text.size()) return false;
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        return true;
    };
    std::string_view line;
    if (!next_line(line)) {
        r.error = "route table is empty";
        return r;
    }
    ++lines;
    auto header = fields(line);
    constexpr std::string_view names[] = {"Iface", "Destination", "Gateway", "Flags", "Metric", "Mask"};
    std::size_t col[6];
    for (std::size_t n = 0; n < 6; ++n) {
        col[n] = header.size();
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == names[n]) {
                col[n] = i;
                break;
            }
        if (col[n] == header.size()) {
            r.error = "route table header has no " + std::string(names[n]) + " column";
            return r;
        }
    }
    std::size_t needed = 0;
    for (std::size_t c : col) needed = std::max(needed, c + 1);
    while (next_line(line)) {
        if (++lines > max_route_lines) {
            r.error = "route table has more than " + std::to_string(max_route_lines) + " lines";
            r.found = false;
            return r;
        }
        auto f = fields(line);
        if (f.empty()) continue;
        if (f.size() < needed) {
            ++r.skipped_lines;
            continue;
        }
        auto dest = hex32(f[col[1]]), gw = hex32(f[col[2]]), flags = hex32(f[col[3]]),
             mask = hex32(f[col[5]]);
        auto metric = dec32(f[col[4]]);
        if (!dest || !gw || !flags || !mask || !metric) {
            ++r.skipped_lines;
            continue;
        }
        constexpr std::uint32_t rtf_up = 0x1, rtf_gateway = 0x2;
        if (*dest != 0 || *mask != 0 || *gw == 0 || (*flags & (rtf_up | rtf_gateway)) != (rtf_up | rtf_gateway))
            continue;
        if (r.found && *metric >= r.metric) continue;
        r.found = true;
        r.gateway = address_bytes(*gw, order);
        r.iface = std::string(f[col[0]]);
        r.metric = *metric;
    }
    return r;
}

}  // namespace pw::nat
