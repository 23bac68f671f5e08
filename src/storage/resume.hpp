// Fast-resume data: which pieces were verified and written, and the size and
// modification time of every file when that was recorded. A restart whose files
// still match trusts the record; anything else triggers a full check.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "meta/metainfo.hpp"

namespace pw::storage {

struct FileStamp {
    std::int64_t size = -1;   // -1: missing
    std::int64_t mtime_ns = 0;
};

struct ResumeData {
    Sha1Digest info_hash;
    std::string save_path;       // absolute download directory
    std::vector<bool> have;      // one per piece
    std::vector<FileStamp> files;  // one per file, in metainfo order
    // File priorities when recorded (0..7, one per file; empty: all normal), and the stamp
    // of the parts file holding the boundary bytes of unwanted files (size -1: none).
    std::vector<int> priorities;
    FileStamp parts;
};

// The stamp of one file (size -1 when missing).
FileStamp stamp_file(const std::filesystem::path& p);

// Current stamps of the torrent's files under `root`.
std::vector<FileStamp> stamp_files(const std::vector<meta::FileEntry>& files,
                                   const std::filesystem::path& root);

std::string encode_resume(const ResumeData& r);
// nullopt if malformed (the caller then does a full check).
std::optional<ResumeData> decode_resume(std::string_view bytes, int num_pieces);

// Atomically writes (temp file + rename). Returns false on failure.
bool save_resume_file(const std::filesystem::path& file, const ResumeData& r);
std::optional<ResumeData> load_resume_file(const std::filesystem::path& file, int num_pieces);

// Whether the record can be trusted for these files (same info-hash, save path, piece
// count and every file's size and mtime equal).
bool resume_matches(const ResumeData& r, const meta::Metainfo& m, const std::filesystem::path& root);
// The same, and the parts file's stamp equal to the recorded one.
bool resume_matches(const ResumeData& r, const meta::Metainfo& m, const std::filesystem::path& root,
                    const std::filesystem::path& parts_file);

}  // namespace pw::storage
