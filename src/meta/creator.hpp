// Building .torrent files from files on disk (BEP 3, BEP 12, BEP 19 url-list, BEP 27), as
// v1, v2 (BEP 52) or hybrid (both, with BEP 47 pad files aligning every file to a piece).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "meta/metainfo.hpp"

namespace pw::meta {

struct CreateOptions {
    std::vector<std::string> trackers;  // each URL its own tier, in order
    std::int64_t piece_size = 0;        // 0: chosen from the total size
    bool is_private = false;
    std::string comment;
    std::string created_by = "Piecewise/" PW_VERSION;
    std::int64_t creation_date = -1;  // -1: now; 0: omit
    unsigned threads = 0;             // 0: all cores
    Format format = Format::v1;       // v2 and hybrid need a power-of-two piece size >= 16 KiB
    std::vector<std::string> web_seeds;  // BEP 19 url-list, in order
    // Called from the hashing threads' coordinator with (pieces done, pieces total).
    std::function<void(std::int64_t, std::int64_t)> progress;
};

// Piece size chosen for a payload of this many bytes: a power of two from 16 KiB
// to 16 MiB aiming at about 1,000-2,000 pieces.
std::int64_t auto_piece_size(std::int64_t total_size);

// Hashes `path` (a file or a directory) and returns the bencoded .torrent.
// Throws std::runtime_error with a one-line reason.
std::string create_torrent(const std::filesystem::path& path, const CreateOptions& opts);

}  // namespace pw::meta
