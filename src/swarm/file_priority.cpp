#include "swarm/file_priority.hpp"

#include <algorithm>

namespace pw::swarm {

int clamp_priority(int p) {
    return std::clamp(p, prio_skip, prio_high);
}

PieceRange file_pieces(const FileSpan& f, std::int64_t piece_length) {
    if (f.pad || f.length <= 0 || piece_length <= 0) return {};
    return {static_cast<int>(f.offset / piece_length),
            static_cast<int>((f.offset + f.length - 1) / piece_length)};
}

std::vector<int> normalise_priorities(const std::vector<FileSpan>& files, std::vector<int> prios) {
    prios.resize(files.size(), prio_normal);
    for (std::size_t i = 0; i < files.size(); ++i)
        prios[i] = files[i].pad ? prio_skip : clamp_priority(prios[i]);
    return prios;
}

std::vector<std::uint8_t> piece_priorities(const std::vector<FileSpan>& files,
                                           const std::vector<int>& prios, std::int64_t piece_length,
                                           int num_pieces) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(std::max(num_pieces, 0)), 0);
    for (std::size_t i = 0; i < files.size(); ++i) {
        int p = i < prios.size() ? clamp_priority(prios[i]) : prio_normal;
        if (p == prio_skip) continue;
        auto r = file_pieces(files[i], piece_length);
        for (int k = std::max(r.first, 0); k <= r.last && k < num_pieces; ++k) {
            auto& slot = out[static_cast<std::size_t>(k)];
            slot = std::max<std::uint8_t>(slot, static_cast<std::uint8_t>(p));
        }
    }
    return out;
}

WantedTotals wanted_totals(const std::vector<std::uint8_t>& piece_prio, const Bitfield& have,
                           std::int64_t piece_length, std::int64_t total_size) {
    WantedTotals t;
    for (std::size_t i = 0; i < piece_prio.size(); ++i) {
        if (piece_prio[i] == 0) continue;
        std::int64_t start = static_cast<std::int64_t>(i) * piece_length;
        std::int64_t size = std::clamp<std::int64_t>(total_size - start, 0, piece_length);
        t.size_when_done += size;
        ++t.wanted_pieces;
        if (static_cast<int>(i) < have.size() && have.get(static_cast<int>(i))) continue;
        t.left_until_done += size;
        ++t.wanted_left_pieces;
    }
    return t;
}

std::int64_t file_bytes_done(const FileSpan& f, const Bitfield& have, std::int64_t piece_length) {
    auto r = file_pieces(f, piece_length);
    std::int64_t done = 0;
    for (int k = std::max(r.first, 0); k <= r.last && k < have.size(); ++k) {
        if (!have.get(k)) continue;
        std::int64_t b = std::max(f.offset, std::int64_t(k) * piece_length);
        std::int64_t e = std::min(f.offset + f.length, std::int64_t(k + 1) * piece_length);
        done += e - b;
    }
    return done;
}

}  // namespace pw::swarm
