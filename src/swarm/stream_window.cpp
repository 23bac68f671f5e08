#include "swarm/stream_window.hpp"

#include <algorithm>
#include <set>

namespace pw::swarm {

std::int64_t readahead_bytes(double rate, std::int64_t piece_length) {
    double want = std::max(rate, 0.0) * readahead_seconds;
    auto r = static_cast<std::int64_t>(std::min(want, static_cast<double>(max_readahead)));
    r = std::clamp(r, min_readahead, max_readahead);
    return std::max(r, 2 * std::max<std::int64_t>(piece_length, 0));
}

std::vector<int> focus_pieces(const std::vector<StreamSpan>& spans, std::int64_t piece_length,
                              std::int64_t total_size) {
    std::vector<int> out;
    if (piece_length <= 0 || total_size <= 0) return out;
    struct Cursor {
        std::int64_t next, last;  // piece indices
    };
    std::vector<Cursor> cur;
    for (auto& s : spans) {
        auto b = std::clamp<std::int64_t>(s.begin, 0, total_size);
        auto e = std::clamp<std::int64_t>(s.end, 0, total_size);
        if (e <= b) continue;
        auto first = b / piece_length;
        auto last = std::min((e - 1) / piece_length, first + max_focus_per_stream - 1);
        cur.push_back({first, last});
    }
    std::set<std::int64_t> seen;
    for (bool more = true; more;) {
        more = false;
        for (auto& c : cur) {
            if (c.next > c.last) continue;
            more = true;
            auto p = c.next++;
            if (seen.insert(p).second) out.push_back(static_cast<int>(p));
        }
    }
    return out;
}

}  // namespace pw::swarm
