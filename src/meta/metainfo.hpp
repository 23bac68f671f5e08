// Metainfo (.torrent) files, version 1: BEP 3 (info dictionary, single and multi-file),
// BEP 12 (announce-list), BEP 27 (private), BEP 19 (url-list, kept for later use).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::meta {

// A malformed or hostile torrent. what() is a one-line reason naming the problem.
class MetainfoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct FileEntry {
    // Sanitised path relative to the download directory, '/'-separated. For a
    // multi-file torrent it starts with the torrent's (sanitised) name.
    std::string path;
    std::int64_t length = 0;
    std::int64_t offset = 0;  // offset of the file's first byte in the torrent's byte stream
    bool pad = false;         // BEP 47 padding file: never written to disk
};

struct Metainfo {
    std::string name;  // sanitised
    Sha1Digest info_hash;
    std::int64_t piece_length = 0;
    std::vector<Sha1Digest> piece_hashes;
    std::int64_t total_size = 0;
    std::vector<FileEntry> files;
    bool multi_file = false;
    std::vector<std::vector<std::string>> trackers;  // tiers (BEP 12); `announce` alone is one tier
    bool is_private = false;
    std::string comment;
    std::string created_by;
    std::int64_t creation_date = 0;
    std::vector<std::string> url_list;
    std::string info_bytes;  // exact bytes of the info dictionary

    int num_pieces() const { return static_cast<int>(piece_hashes.size()); }
    std::int64_t piece_size(int piece) const;  // the last piece may be shorter
};

struct ParseLimits {
    std::size_t max_files = 1'000'000;
    std::int64_t max_piece_length = 256ll << 20;
    std::size_t max_path_component = 255;  // bytes; longer names are shortened
};

// Parses and validates a whole .torrent file. Throws MetainfoError.
Metainfo parse(std::string_view torrent_file, const ParseLimits& = {});
// Parses a bare info dictionary (from ut_metadata). Throws MetainfoError.
Metainfo parse_info(std::string_view info_dict, const ParseLimits& = {});
// Reads and parses a file. Throws MetainfoError (also for I/O failures).
Metainfo load(const std::filesystem::path& file);

// Turns one path component into something safe to create inside the download
// directory; returns empty if the component must be dropped (".", empty).
std::string sanitize_component(std::string_view in, std::size_t max_len = 255);

}  // namespace pw::meta
