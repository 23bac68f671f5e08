// Internals shared by the metainfo parsers (metainfo.cpp: v1 and the common keys;
// metainfo_v2.cpp: BEP 52 file tree, piece layers, hybrid consistency). Not an API.
#pragma once

#include <string>
#include <vector>

#include "bencode/bencode.hpp"
#include "meta/metainfo.hpp"

namespace pw::meta::detail {

[[noreturn]] void fail(const std::string& why);  // throws MetainfoError("torrent: " + why)

// Numbers later duplicate paths (pads excluded) so every file path is unique.
void make_paths_unique(std::vector<FileEntry>& files, std::size_t max_len);

// Reads the BEP 47 `attr` flags (p, x, h, l) of a file dictionary and, for a symlink, its
// `symlink path`, which must stay inside the torrent (no "..", "." or empty components).
void read_attributes(const bencode::Node& dict, const std::string& where, std::size_t max_len,
                     FileEntry& f);

// Reads the BEP 52 half of `info` (`meta version` 2 already checked; name and piece
// length set in `m`). For a v2-only torrent (m.files empty) it builds the file list with
// synthetic pads; for a hybrid (m.files holds the v1 list) it checks that both halves
// describe the same files at the same piece-aligned offsets and refuses them otherwise.
// `layers` is the top-level `piece layers` (absent for a bare info dictionary): without
// it a v2-only torrent with a file larger than a piece is refused, a hybrid keeps only
// its v1 piece hashes.
void parse_v2(const bencode::Node& info, const bencode::Node& layers, const ParseLimits& lim,
              Metainfo& m);

}  // namespace pw::meta::detail
