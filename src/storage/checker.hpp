// Full check of data already on disk: which pieces are present and hash correctly (BEP 3
// piece hashes; BEP 47 pad files count as present zeros). Used at start when there is no
// trustworthy resume data, and by `verify`.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "meta/metainfo.hpp"
#include "storage/storage.hpp"

namespace pw::storage {

struct CheckProgress {
    std::atomic<std::int64_t> pieces_done{0};  // pieces decided so far (have or not)
    std::atomic<bool> cancel{false};           // set to stop early; unchecked pieces are "not have"
};

// Hashes every piece whose bytes all exist on disk (files present and long enough; a piece
// touching a missing or short file is "not have" without reading it), on `threads` threads
// (0 = all cores), reading large sequential extents (several pieces per read, >= 4 MiB),
// and returns one bool per piece. A read error makes the pieces it touches "not have".
// Blocking: call it from a worker thread, never the network thread.
// With `known` (one entry per piece, as resume_plan gives: 1 have, 0 not have, -1 hash
// it), only the -1 pieces are read.
std::vector<bool> check_pieces(const meta::Metainfo& m, Storage& storage, unsigned threads,
                               CheckProgress* progress = nullptr,
                               const std::vector<signed char>* known = nullptr);

}  // namespace pw::storage
