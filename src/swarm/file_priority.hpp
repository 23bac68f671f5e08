// File priorities -> piece priorities, and what "done" means for a partial selection.
//
// Pure logic, no I/O. A file has a priority in 0..7 as libtorrent uses them: 0 = skip
// (unwanted), 1 low, 4 normal (the default), 7 high; Transmission's wanted flag and
// low/normal/high map onto 0/1/4/7. A piece gets the highest priority of the files it
// overlaps (pad and zero-length files do not count, BEP 47), so a piece shared by a
// wanted and an unwanted file (a boundary piece) is still fetched whole: its hash
// (BEP 3) covers both files' bytes. A torrent whose wanted pieces are all verified is
// finished; size-when-done and left-until-done count the bytes of wanted pieces.
#pragma once

#include <cstdint>
#include <vector>

#include "swarm/bitfield.hpp"

namespace pw::swarm {

inline constexpr int prio_skip = 0;
inline constexpr int prio_low = 1;
inline constexpr int prio_normal = 4;
inline constexpr int prio_high = 7;

// Clamps to 0..7.
int clamp_priority(int p);

// One file of the torrent's byte stream (BEP 3 multi-file layout).
struct FileSpan {
    std::int64_t offset = 0;
    std::int64_t length = 0;
    bool pad = false;
};

// The pieces [first, last] a file's bytes fall into; first > last for an empty or pad file.
struct PieceRange {
    int first = 0;
    int last = -1;
};
PieceRange file_pieces(const FileSpan& f, std::int64_t piece_length);

// `prios` per file (missing entries: normal). Returns one priority per piece, the
// highest of the non-pad, non-empty files the piece overlaps (0 when none is wanted).
std::vector<std::uint8_t> piece_priorities(const std::vector<FileSpan>& files,
                                           const std::vector<int>& prios, std::int64_t piece_length,
                                           int num_pieces);

// Normalises a requested priority list to one entry per file: missing entries are
// normal, values are clamped, pad files get 0 (never wanted on their own).
std::vector<int> normalise_priorities(const std::vector<FileSpan>& files, std::vector<int> prios);

struct WantedTotals {
    std::int64_t size_when_done = 0;   // bytes of wanted pieces (had or not)
    std::int64_t left_until_done = 0;  // bytes of wanted pieces not had
    int wanted_pieces = 0;
    int wanted_left_pieces = 0;
};
WantedTotals wanted_totals(const std::vector<std::uint8_t>& piece_prio, const Bitfield& have,
                           std::int64_t piece_length, std::int64_t total_size);

// Whether file `f`'s bytes inside piece `piece` exist: the piece is verified. Helper for
// per-file progress: bytes of `f` inside verified pieces.
std::int64_t file_bytes_done(const FileSpan& f, const Bitfield& have, std::int64_t piece_length);

}  // namespace pw::swarm
