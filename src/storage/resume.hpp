// Fast-resume data: which pieces were verified and written, and the size and
// modification time of every file when that was recorded. A restart whose files
// still match trusts the record; when some files changed (a kill after the last record,
// a file edited or truncated behind our back), only the pieces touching those files are
// hashed again; a record for another torrent, path or layout, or one that cannot be
// decoded (torn), triggers a full check.
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

// What a record vouches for, per piece: 1 have, 0 not have (both from the record, the
// piece lies wholly in files whose size and mtime still match), -1 check it (it touches a
// file that changed). nullopt when the record does not belong to these files at all
// (info-hash, save path, piece or file count differ) or the parts file (`parts_now`, size
// -1 when there is none) changed: check everything.
std::optional<std::vector<signed char>> resume_plan(const ResumeData& r, const meta::Metainfo& m,
                                                    const std::vector<FileStamp>& now,
                                                    const std::filesystem::path& root,
                                                    const FileStamp& parts_now = {});

}  // namespace pw::storage
