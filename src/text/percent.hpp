// Percent-decoding (RFC 3986 section 2.1), shared by the parsers that meet it: magnet
// links, tracker announce requests and proxy URLs. Pure; never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pw::text {

// 0-15 for a hex digit, -1 otherwise.
inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// nullopt when a '%' is not followed by two hex digits. With `plus_is_space`, '+' decodes
// to ' ' (query strings as HTML forms write them); otherwise it stays '+'.
inline std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (s.size() - i < 3) return std::nullopt;
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi << 4 | lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace pw::text
