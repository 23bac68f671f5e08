// Metainfo (.torrent) files: BEP 3 (info dictionary, single and multi-file), BEP 12
// (announce-list), BEP 27 (private), BEP 19 (url-list), BEP 47 (pad files, attributes) and
// BEP 52 (v2: `meta version` 2, `file tree`, `piece layers`; hybrid v1+v2 torrents).
//
// Every format is presented as one byte stream of files (Metainfo::files) cut into pieces
// of `piece_length`. A v2-only torrent gets synthetic pad entries so that each file starts
// on a piece boundary, exactly as the BEP 47 pads of a hybrid torrent do: the piece
// numbering of BEP 52 is then the plain offset / piece_length of that stream. Pads are
// never written to disk. The last piece of each v2 file may be short (piece_size()).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"
#include "crypto/sha256.hpp"

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
    // BEP 47 attributes. A symlink is kept as data only: it is never created as a link,
    // so nothing is ever written through it (its target is relative to the torrent root
    // and free of "..").
    bool executable = false;
    bool hidden = false;
    bool symlink = false;
    std::string symlink_target{};
    Sha256Digest pieces_root{};  // BEP 52 Merkle root (v2 and hybrid; zero for empty files)
};

enum class Format { v1, v2, hybrid };
const char* format_name(Format f);  // "v1", "v2", "hybrid"

// A non-empty file of a v2 or hybrid torrent in piece space (BEP 52: files start pieces).
struct V2Span {
    int file = 0;  // index into Metainfo::files
    std::int64_t length = 0;
    int first_piece = 0;
    int num_pieces = 0;
};

// What the v2 hash of one piece covers: the first `data_len` bytes of the piece (the rest
// is padding of a hybrid), hashed as the root of `leaves` 16 KiB leaves.
struct V2PieceShape {
    std::int64_t data_len = 0;
    std::int64_t leaves = 0;
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

    // BEP 52. For a v2-only torrent `info_hash` is the v2 info-hash truncated to 20 bytes
    // and `piece_hashes` is empty; a hybrid has both. `piece_hashes_v2` holds, per piece,
    // the hash at piece level (the file's pieces root for a file of at most one piece);
    // empty for v1 and for a hybrid known only from its info dictionary (magnet).
    Format format = Format::v1;
    std::optional<Sha256Digest> info_hash_v2;
    std::vector<Sha256Digest> piece_hashes_v2;
    std::vector<V2Span> v2_spans;  // in piece order

    int num_pieces() const {
        return static_cast<int>(piece_hashes.empty() ? piece_hashes_v2.size()
                                                     : piece_hashes.size());
    }
    // The last piece may be shorter; in a v2-only torrent so may the last piece of each file.
    std::int64_t piece_size(int piece) const;
    V2PieceShape v2_piece(int piece) const;  // requires !v2_spans.empty()
};

struct ParseLimits {
    std::size_t max_files = 1'000'000;
    std::int64_t max_piece_length = 256ll << 20;
    std::size_t max_path_component = 255;  // bytes; longer names are shortened
    // A v2-only info dictionary without its piece layers (a btmh magnet's metadata) is
    // accepted with `piece_hashes_v2` empty: the layers are fetched from peers (BEP 52
    // hash requests), then the whole is parsed again with them.
    bool allow_missing_layers = false;
};

// Parses and validates a whole .torrent file. Throws MetainfoError.
Metainfo parse(std::string_view torrent_file, const ParseLimits& = {});
// Parses a bare info dictionary (from ut_metadata). Throws MetainfoError; a v2-only info
// dictionary needs its piece layers from the .torrent file, so it is refused.
Metainfo parse_info(std::string_view info_dict, const ParseLimits& = {});
// BEP 52 `piece layers` of a v2 or hybrid torrent with its piece hashes, bencoded: one
// entry per file larger than a piece, its pieces root -> its piece layer. Empty when no
// file needs one or the hashes are not known.
std::string encode_piece_layers(const Metainfo& m);
// Reads and parses a file. Throws MetainfoError (also for I/O failures).
Metainfo load(const std::filesystem::path& file);

// Turns one path component into something safe to create inside the download
// directory; returns empty if the component must be dropped (".", empty).
std::string sanitize_component(std::string_view in, std::size_t max_len = 255);

}  // namespace pw::meta
