// Judging web seed responses (see web_seed_response.hpp).
#include "swarm/parse/web_seed_response.hpp"

#include <algorithm>
#include <charconv>

namespace pw::swarm {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A whole non-negative decimal number that fits in int64.
std::optional<std::int64_t> number(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}
}  // namespace

std::optional<ContentRange> parse_content_range(std::string_view v) {
    v = trim(v);
    constexpr std::string_view unit = "bytes ";
    if (v.size() < unit.size()) return std::nullopt;
    for (std::size_t i = 0; i < unit.size(); ++i)
        if ((v[i] | 0x20) != (unit[i] | 0x20)) return std::nullopt;
    v = trim(v.substr(unit.size()));
    auto dash = v.find('-');
    auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        return std::nullopt;
    auto first = number(trim(v.substr(0, dash)));
    auto last = number(trim(v.substr(dash + 1, slash - dash - 1)));
    if (!first || !last || *last < *first) return std::nullopt;
    ContentRange r{*first, *last, -1};
    auto total = trim(v.substr(slash + 1));
    if (total != "*") {
        auto t = number(total);
        if (!t || *t <= *last) return std::nullopt;
        r.total = *t;
    }
    return r;
}

std::optional<int> parse_retry_after(std::string_view v) {
    auto n = number(trim(v));
    if (!n) return std::nullopt;
    return static_cast<int>(std::clamp<std::int64_t>(*n, 1, 3600));
}

ResponseVerdict judge_response(unsigned status, std::string_view content_range,
                               std::optional<std::uint64_t> content_length,
                               std::string_view retry_after, const RangeAsked& asked) {
    ResponseVerdict v;
    auto fail = [&](std::string why) {
        v.kind = ResponseVerdict::error;
        v.why = std::move(why);
        return v;
    };
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        v.kind = ResponseVerdict::redirect;
        return v;
    }
    if (status == 503 || status == 429) {
        v.kind = ResponseVerdict::busy;
        v.retry_after = parse_retry_after(retry_after).value_or(0);
        v.why = "HTTP " + std::to_string(status) + " (busy)";
        return v;
    }
    if (status == 404 || status == 410) {
        v.kind = ResponseVerdict::not_found;
        v.why = "HTTP " + std::to_string(status) + " (file not found)";
        return v;
    }
    if (asked.length <= 0 || asked.offset < 0 || asked.offset + asked.length > asked.file_size)
        return fail("bad request range");
    if (status == 206) {
        auto cr = parse_content_range(content_range);
        if (!cr) return fail("206 without a valid Content-Range");
        if (cr->first != asked.offset || cr->last != asked.offset + asked.length - 1)
            return fail("Content-Range is not the range asked for");
        if (cr->total >= 0 && cr->total != asked.file_size)
            return fail("Content-Range names a file size other than the torrent's");
        if (content_length && *content_length != static_cast<std::uint64_t>(asked.length))
            return fail("Content-Length does not match the range");
        v.kind = ResponseVerdict::body;
        return v;
    }
    if (status == 200) {
        // No range support: the whole file comes. Its size must be the torrent's.
        if (content_length && *content_length != static_cast<std::uint64_t>(asked.file_size))
            return fail("200 reply of a size other than the file's");
        v.kind = ResponseVerdict::body;
        v.skip = asked.offset;
        v.close_after = asked.offset + asked.length < asked.file_size || !content_length;
        return v;
    }
    return fail("HTTP " + std::to_string(status));
}

}  // namespace pw::swarm
