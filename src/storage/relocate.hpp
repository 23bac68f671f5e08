// Moving a torrent's files to another download directory, on a disk worker (never the
// network thread). Same file system: rename(2), the whole top-level entry at once when the
// destination has none of it (atomic for a multi-file torrent's folder), else file by file.
// Across file systems (EXDEV): every file is copied (holes kept, fsync'd, times kept) into
// a staging folder under the destination, then renamed into place, and only then are the
// sources removed; a crash at any point leaves a complete copy at the old or the new place.
//
// Contract: nothing at the destination is ever replaced (an existing file of the same
// name fails the move before anything is touched); on failure every step done is undone,
// so the data stays complete at the old location and the error names the file and the
// operation. Files that do not exist (not downloaded yet, skipped) are left out.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "meta/metainfo.hpp"
#include "storage/storage.hpp"

namespace pw::storage {

struct RelocateJob {
    std::filesystem::path from_root, to_root;  // absolute download directories
    std::vector<std::string> files;            // the torrent's files, relative (pad files left out)
    std::string parts_name;                    // its parts file, relative; may not exist
    std::string staging_name;                  // the staging folder of a copy, under to_root
    bool force_copy = false;                   // copy as across file systems (tests)
    std::shared_ptr<std::atomic<bool>> cancel;  // set: stop and undo (session shutting down)
};

struct RelocateOutcome {
    StorageError err;
    bool copied = false;  // across file systems
    int moved = 0;        // files (and parts file) that moved
};

RelocateOutcome relocate(const RelocateJob& job);

// Bytes of the files present under `root`, each counted up to its length: how much of the
// torrent's data a directory holds (the daemon's choice after a crash during a move).
std::int64_t bytes_present(const std::vector<meta::FileEntry>& files,
                           const std::filesystem::path& root);

// Removes a staging folder a crash left behind (only `root`/`staging_name`, never more).
void remove_staging(const std::filesystem::path& root, const std::string& staging_name);

// rename(2) that never replaces an existing entry (renameat2 RENAME_NOREPLACE, or a check
// first on file systems without it). 0 or an errno value.
int rename_noreplace(const std::filesystem::path& from, const std::filesystem::path& to);
// Makes a directory's entries (renames, new files) durable.
void fsync_dir(const std::filesystem::path& dir);

}  // namespace pw::storage
