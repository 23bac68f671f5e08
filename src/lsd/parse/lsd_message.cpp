// BEP 14 announce codec: see lsd_message.hpp for the accepted grammar and its limits.
#include "lsd/parse/lsd_message.hpp"

#include <algorithm>

namespace pw::lsd {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// Splits off the next line of `rest` (without its "\n" or "\r\n"). False when a CR
// appears anywhere but right before the line's end.
bool next_line(std::string_view& rest, std::string_view& line) {
    std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
        line = rest;
        rest = {};
    } else {
        line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line.find('\r') == std::string_view::npos;
}

// "BT-SEARCH * HTTP/1.x", separated by spaces or tabs.
bool valid_request_line(std::string_view line) {
    std::string_view tokens[3];
    std::size_t n = 0;
    line = trim(line);
    while (!line.empty()) {
        if (n == 3) return false;
        std::size_t end = 0;
        while (end < line.size() && !is_blank(line[end])) ++end;
        tokens[n++] = line.substr(0, end);
        line = trim(line.substr(end));
    }
    if (n != 3) return false;
    std::string_view version = tokens[2];
    return iequals(tokens[0], "BT-SEARCH") && tokens[1] == "*" && version.size() >= 7 &&
           iequals(version.substr(0, 7), "HTTP/1.");
}

// 1..65535 in decimal digits only (leading zeros allowed, at most 5 digits).
bool parse_port(std::string_view s, std::uint16_t& out) {
    if (s.empty() || s.size() > 5) return false;
    std::uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v == 0 || v > 65535) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

DecodeResult fail(std::string why) {
    DecodeResult r;
    r.error = std::move(why);
    return r;
}

constexpr std::string_view request_line = "BT-SEARCH * HTTP/1.1\r\n";
constexpr std::string_view infohash_prefix = "Infohash: ";
constexpr std::size_t infohash_line_size = 10 + 40 + 2;  // "Infohash: " + hex + "\r\n"
constexpr std::string_view message_end = "\r\n\r\n";     // after the last header's CRLF

// Everything of a message but its Infohash lines: {before them, after them}.
std::pair<std::string, std::string> message_frame(const Announce& a) {
    std::string head(request_line);
    if (!a.host.empty()) head.append("Host: ").append(a.host).append("\r\n");
    head.append("Port: ").append(std::to_string(a.port)).append("\r\n");
    std::string tail;
    if (!a.cookie.empty()) tail.append("cookie: ").append(a.cookie).append("\r\n");
    tail.append(message_end);
    return {std::move(head), std::move(tail)};
}

}  // namespace

DecodeResult decode_announce(std::string_view message) {
    if (message.size() > max_message_size)
        return fail("message of " + std::to_string(message.size()) + " bytes exceeds " +
                    std::to_string(max_message_size));
    std::string_view rest = message, line;
    if (!next_line(rest, line)) return fail("CR inside the request line");
    if (!valid_request_line(line)) return fail("not a BT-SEARCH * HTTP/1.x request");

    DecodeResult r;
    Announce& a = r.announce;
    bool have_port = false, have_host = false, have_cookie = false;
    std::size_t lines = 0, info_hash_headers = 0;
    while (!rest.empty()) {
        if (!next_line(rest, line)) return fail("CR inside a header line");
        if (line.empty()) break;  // end of the headers
        if (++lines > max_header_lines)
            return fail("more than " + std::to_string(max_header_lines) + " header lines");
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return fail("header line without ':'");
        std::string_view name = trim(line.substr(0, colon));
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Infohash")) {
            if (++info_hash_headers > max_info_hashes)
                return fail("more than " + std::to_string(max_info_hashes) + " Infohash headers");
            Sha1Digest h;
            if (!Sha1Digest::from_hex(value, h)) {
                ++r.ignored_info_hashes;
                continue;
            }
            if (std::find(a.info_hashes.begin(), a.info_hashes.end(), h) == a.info_hashes.end())
                a.info_hashes.push_back(h);
        } else if (iequals(name, "Port")) {
            if (have_port) return fail("more than one Port header");
            if (!parse_port(value, a.port)) return fail("Port is not a number in 1..65535");
            have_port = true;
        } else if (iequals(name, "Host")) {
            if (!have_host) a.host = std::string(value);
            have_host = true;
        } else if (iequals(name, "cookie")) {
            if (!have_cookie) a.cookie = std::string(value);
            have_cookie = true;
        }
    }
    if (!have_port) return fail("no Port header");
    if (a.info_hashes.empty()) return fail("no valid Infohash header");
    r.ok = true;
    return r;
}

std::string encode_announce(const Announce& a) {
    auto [head, tail] = message_frame(a);
    std::string out = std::move(head);
    out.reserve(out.size() + a.info_hashes.size() * infohash_line_size + tail.size());
    for (const Sha1Digest& h : a.info_hashes)
        out.append(infohash_prefix).append(h.hex()).append("\r\n");
    out.append(tail);
    return out;
}

std::vector<std::string> encode_announces(const Announce& a, std::size_t max_size) {
    std::vector<std::string> out;
    if (a.info_hashes.empty()) return out;
    auto [head, tail] = message_frame(a);
    std::size_t fixed = head.size() + tail.size();
    std::size_t per_message = max_size > fixed ? (max_size - fixed) / infohash_line_size : 0;
    per_message = std::clamp<std::size_t>(per_message, 1, max_info_hashes);
    for (std::size_t i = 0; i < a.info_hashes.size(); i += per_message) {
        std::string m = head;
        std::size_t end = std::min(a.info_hashes.size(), i + per_message);
        for (std::size_t j = i; j < end; ++j)
            m.append(infohash_prefix).append(a.info_hashes[j].hex()).append("\r\n");
        m.append(tail);
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace pw::lsd
