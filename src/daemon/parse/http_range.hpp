// HTTP byte ranges for GET /stream/ (RFC 9110 section 14: Range, Content-Range, 416) and
// the stream URL's path. Pure: no I/O, never throws; fuzzed by tests/fuzz/fuzz_http_range.cpp.
//
// What resolve_range() answers for a representation of `length` bytes (RFC 9110 14.2):
//  - no Range, a unit other than "bytes", or a syntactically invalid ranges-specifier
//    (including a range whose last-pos is below its first-pos) -> whole (200: a server
//    MUST ignore an unknown unit and MAY ignore an invalid specifier);
//  - no range-spec satisfiable (first-pos >= length, or a zero suffix) -> unsatisfiable
//    (416 with "Content-Range: bytes */length");
//  - one satisfiable range-spec -> partial (206), last-pos clipped to length - 1 and a
//    suffix longer than the representation taken as all of it;
//  - several satisfiable range-specs that overlap or touch: coalesced into one partial
//    (14.2 lets a server coalesce); several disjoint ones, or more than max_ranges
//    specs: whole. No multipart/byteranges is ever produced: browsers, VLC and mpv only
//    send single ranges, and a 200 is always a correct answer to a multi-range request.
//  - a zero-length representation: whole (no byte range can describe part of it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::daemon::parse {

struct ByteRange {
    std::int64_t first = 0;
    std::int64_t last = -1;  // inclusive
    std::int64_t size() const { return last - first + 1; }
};

struct RangeAnswer {
    enum Kind { whole, partial, unsatisfiable };
    Kind kind = whole;
    ByteRange range;  // the bytes to send: all of them for whole, none for unsatisfiable
};

inline constexpr int max_ranges = 64;

// `header`: the Range field's value (empty: absent).
RangeAnswer resolve_range(std::string_view header, std::int64_t length);

// "/stream/<40 hex info-hash>/<file index>[/<anything, e.g. the file name>][?query]".
struct StreamTarget {
    std::string info_hash;  // 40 lower-case hex digits
    int file_index = 0;     // as the RPC's torrent-get lists files (pad files left out)
};
std::optional<StreamTarget> parse_stream_target(std::string_view target);

}  // namespace pw::daemon::parse
