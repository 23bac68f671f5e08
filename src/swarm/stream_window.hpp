// Which pieces a streaming reader needs first (the HTTP /stream/ endpoint, Session::
// stream_read): pure logic, no I/O.
//
// Each open stream has a span of the torrent's byte stream (BEP 3: the files
// concatenated) that its reader needs now, from the read position on, plus a read-ahead
// that grows with the download rate (a player that reads at the download rate then
// never waits). The pieces under the spans become the picker's focus (swarm/
// piece_picker.hpp): picked before any other, whatever their rarity. With several
// streams the lists are interleaved, so every reader's next piece comes before any
// reader's read-ahead.
#pragma once

#include <cstdint>
#include <vector>

namespace pw::swarm {

// A reader's need: bytes [begin, end) of the torrent stream, read-ahead included.
struct StreamSpan {
    std::int64_t begin = 0;
    std::int64_t end = 0;
};

inline constexpr std::int64_t min_readahead = 4ll << 20;
inline constexpr std::int64_t max_readahead = 64ll << 20;
inline constexpr double readahead_seconds = 10;
inline constexpr int max_focus_per_stream = 256;

// Read-ahead for a download rate (bytes/s): readahead_seconds of it, kept within
// [min_readahead, max_readahead] and never below two pieces.
std::int64_t readahead_bytes(double rate, std::int64_t piece_length);

// The focus list: each span's pieces in order (at most max_focus_per_stream of each),
// interleaved across spans, each piece once; spans outside [0, total_size) are clipped.
std::vector<int> focus_pieces(const std::vector<StreamSpan>& spans, std::int64_t piece_length,
                              std::int64_t total_size);

}  // namespace pw::swarm
