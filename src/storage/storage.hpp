// The mapping between the torrent's byte stream (pieces) and files on disk, and the
// positional I/O on those files. Thread-safe: called from the disk worker pool.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "meta/metainfo.hpp"

namespace pw::storage {

// A failed storage operation: which file, which operation, and the OS error.
struct StorageError {
    std::error_code ec;
    std::string file;       // path of the file involved (may be empty)
    std::string operation;  // "open", "read", "write", "truncate", "mkdir", "stat"
    explicit operator bool() const { return static_cast<bool>(ec); }
    std::string message() const;  // "write /x/y: No space left on device"
};

// One contiguous part of a byte range that falls inside one file.
struct Slice {
    int file;                 // index into the file list
    std::int64_t file_offset;
    std::int64_t length;
};

class Storage {
public:
    // `root` is the download directory; each FileEntry::path is relative to it.
    Storage(std::vector<meta::FileEntry> files, std::int64_t total_size, std::filesystem::path root);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    const std::vector<meta::FileEntry>& files() const { return files_; }
    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path full_path(int file) const;

    // The files covering [offset, offset+length), in order. Zero-length and pad files are skipped.
    std::vector<Slice> map(std::int64_t offset, std::int64_t length) const;

    // Writes bytes of the torrent stream at `offset` (may span files), creating directories
    // and files as needed (pwritev per file). Pad files are skipped.
    StorageError write(std::int64_t offset, std::span<const iovec> bufs);
    StorageError write(std::int64_t offset, const char* data, std::size_t len);
    // Reads bytes at `offset` (preadv per file). Reading past a file's end, or from a file
    // that does not exist, is an error; pad files read as zeros.
    StorageError read(std::int64_t offset, char* out, std::size_t len);

    // Creates every zero-length file and the directory tree; never truncates existing data.
    StorageError create_empty_files();
    // Closes all cached file descriptors (e.g. before reading file times for resume data).
    void close_all();

private:
    // Opens (and caches) the file; `create` makes it and its parent directories.
    int fd(int file, bool create, StorageError& err);

    std::vector<meta::FileEntry> files_;
    std::int64_t total_size_;
    std::filesystem::path root_;
    std::mutex mu_;
    std::vector<int> fds_;        // -1 when closed
    std::vector<bool> writable_;  // fd opened read-write
};

}  // namespace pw::storage
