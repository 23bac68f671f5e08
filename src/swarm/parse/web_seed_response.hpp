// Web seeds (BEP 19): judging an HTTP response to a ranged GET before its body is read.
// Pure: no I/O; the HTTP framing itself is Boost.Beast's, this only decides what the
// status line and the Content-Range / Content-Length / Retry-After headers (RFC 9110
// sections 14.4, 8.6, 10.2.3) mean for the range that was asked for.
//
// Accepted: 206 whose Content-Range names exactly the requested bytes (and, when the
// server states it, the file size from the torrent); 200 with the whole file (servers
// without range support, like python's http.server): the caller skips `skip` bytes and
// takes the range, then drops the connection. Everything else is an error, busy (503,
// 429; Retry-After in seconds or an HTTP date we do not parse: a default), or a
// redirect. Nothing here throws, whatever the header text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::swarm {

struct ContentRange {
    std::int64_t first = 0;
    std::int64_t last = 0;    // inclusive
    std::int64_t total = -1;  // -1: "*" (unknown)
};

// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*"; nullopt when malformed.
std::optional<ContentRange> parse_content_range(std::string_view v);

// Retry-After as delay seconds, clamped to [1, 3600]; nullopt when absent or not a
// number (an HTTP date).
std::optional<int> parse_retry_after(std::string_view v);

struct RangeAsked {
    std::int64_t offset = 0;     // first byte asked for, in the file
    std::int64_t length = 0;     // bytes asked for
    std::int64_t file_size = 0;  // the file's size in the torrent
};

struct ResponseVerdict {
    enum Kind { body, redirect, busy, not_found, error } kind = error;
    std::int64_t skip = 0;     // body: bytes to discard before the range (200 replies)
    bool close_after = false;  // body: the connection cannot be reused after the range
    int retry_after = 0;       // busy: seconds to wait (0: the caller's default)
    std::string why;           // error/busy/not_found: one line for the log
};

// `content_length`: the header's value, nullopt when absent (chunked or close-delimited).
ResponseVerdict judge_response(unsigned status, std::string_view content_range,
                               std::optional<std::uint64_t> content_length,
                               std::string_view retry_after, const RangeAsked& asked);

}  // namespace pw::swarm
