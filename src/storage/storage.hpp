// The mapping between the torrent's byte stream (pieces) and files on disk, and the
// positional I/O on those files. Thread-safe: called from the disk worker pool.
//
// BEP 3: a multi-file torrent is one byte stream made of its files concatenated in
// metainfo order, so a piece may span several files. BEP 47: pad files are never written
// and read as zeros. Files are created lazily and sparse (never preallocated); descriptors
// are cached (at most a few hundred open at once) and every file stays inside `root`.
//
// Parts file (as libtorrent's): a file that is not wanted is not created. The bytes of it
// that a boundary piece (shared with a wanted file) carries go to one sparse parts file
// instead, at their offset in the torrent's byte stream; reads of that file come from
// there, and when the file is wanted again those bytes move into it (unpark()).
//
// Partial names (Transmission's rename-partial-files, storage_part.cpp): while they are on,
// a file created before it is complete is named "<name>.part", and finish_file() gives it
// its own name once every piece of it is verified. Whatever the setting, a file is found
// under either name (its own first), so a download started with the other setting, or cut
// off between its last piece and the rename, goes on where it is.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "meta/metainfo.hpp"
#include "storage/file_io.hpp"

namespace pw::storage {

// Errors of our own (the rest are OS errors in std::system_category()).
enum class StorageErrc {
    unexpected_eof = 1,  // a read reached the end of a file before the bytes it needed
    outside_root,        // a file's path would leave the download directory
    out_of_range,        // the byte range is not inside the torrent
    no_splice,           // splice_to cannot move these bytes: read them instead
};
const std::error_category& storage_category();
std::error_code make_error_code(StorageErrc e);

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

// Where a file whose own path is `own` is on disk: `own`, or own + ".part" when only that
// exists (`own` when neither does). See "Partial names" above.
std::filesystem::path stored_path(const std::filesystem::path& own);

class Storage {
public:
    // `root` is the download directory; each FileEntry::path is relative to it. `io`: the
    // file calls to make (null: default_file_io(), the system's unless a test replaced
    // them); it must be thread-safe.
    Storage(std::vector<meta::FileEntry> files, std::int64_t total_size, std::filesystem::path root,
            std::shared_ptr<FileIo> io = nullptr);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    const std::vector<meta::FileEntry>& files() const { return files_; }
    std::filesystem::path root() const { return root_; }
    // Where the file is on disk: its own name, or "<name>.part" when only that exists
    // (its own name when neither does).
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
    // The same bytes, spliced into the pipe `pipe_fd` (splice(2): the pages are referenced,
    // not copied; pad files become zeros written into it). The pipe must have room for
    // them: it is never waited on. StorageErrc::no_splice when that cannot be done (the
    // FileIo or the file system has no splice, the pipe is full); the caller then reads.
    StorageError splice_to(std::int64_t offset, std::size_t len, int pipe_fd);

    // Creates every zero-length file and the directory tree; never truncates existing data.
    // Files that use the parts file are neither created nor get directories.
    StorageError create_empty_files();
    // Closes all cached file descriptors (e.g. before reading file times for resume data).
    // Safe while I/O is in flight: a descriptor in use stays open until that call ends.
    void close_all();

    // The parts file's path (set once, before any I/O; empty: none, every file is used).
    void set_parts_path(std::filesystem::path p);
    std::filesystem::path parts_path() const { return parts_path_; }
    // Whether the file's bytes live in the parts file. Setting it does not move data: see
    // park_if_absent() and unpark().
    bool uses_parts(int file) const;
    // A file that is no longer wanted: it uses the parts file from now on if it does not
    // exist on disk (an existing file keeps being used, as libtorrent does). Returns
    // whether it now uses the parts file.
    bool park_if_absent(int file);
    // A file that is wanted again: copies its bytes in the given stream ranges (those of
    // verified pieces) from the parts file into the file, then uses the file. Blocks
    // reads and writes of the torrent meanwhile.
    StorageError unpark(int file, const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges);
    // Deletes the parts file when no file uses it any more.
    void drop_parts_if_unused();
    // Bytes of the file present on disk (where it lives: its own file or the parts file),
    // -1 when missing; for the check.
    std::int64_t size_on_disk(int file) const;
    // storage_rename.cpp: renames the file or folder `from` to `to` (relative paths) on disk
    // when it is there, never replacing an existing entry, then uses `paths` (every file's
    // new relative path). Reads and writes of the torrent wait meanwhile.
    // Renaming a file that is on disk as "<name>.part" renames that to "<to>.part".
    StorageError rename_entry(const std::string& from, const std::string& to,
                              const std::vector<std::string>& paths);

    // storage_part.cpp: partial names. With `on`, files created from now on before they are
    // complete get the ".part" suffix; files already on disk keep the name they have.
    void set_part_names(bool on) { part_names_.store(on, std::memory_order_relaxed); }
    bool part_names() const { return part_names_.load(std::memory_order_relaxed); }
    // Whether the file was last seen (opened, created, located) on disk as "<name>.part".
    bool part_named(int file) const;
    // The file is complete: "<name>.part" becomes "<name>" (never replacing a file of that
    // name: then the one with its own name stays in use). Nothing happens when the file is
    // not on disk under the partial name. Reads and writes of the torrent wait meanwhile.
    StorageError finish_file(int file);

  private:
    // One open descriptor. Shared by the cache and every call using it, and closed when
    // the last of them lets go, so that evicting or reopening never closes an fd that
    // another thread is reading or writing.
    struct OpenFile;
    using FileRef = std::shared_ptr<const OpenFile>;
    struct Slot;

    // Opens (and caches) the file; `create` opens it read-write, making it and its parent
    // directories. A file cached read-only is reopened read-write when `create` is set.
    FileRef fd(int file, bool create, StorageError& err);
    bool inside_root(const std::filesystem::path& p) const;
    // The file's path on disk (see full_path()); `exists` tells whether it is there.
    // Records which name it found in part_named_.
    std::filesystem::path locate(int file, bool& exists) const;
    // Lets go of the cached descriptor of one slot (a rename follows). With mu_ not held.
    void drop_fd(int slot);
    std::filesystem::path slot_path(int slot) const;  // a file, or the parts file (last slot)
    int parts_slot() const { return static_cast<int>(files_.size()); }
    // Where the bytes of `file` (not a pad file) at `file_offset` are: in the file itself or
    // in the parts file (its slot, the offset there, and its descriptor: null, with `err`
    // set, if it cannot be opened). With layout_mu_ held.
    struct Place {
        int slot;
        std::int64_t at;
        FileRef f;
    };
    Place place(int file, std::int64_t file_offset, bool create, StorageError& err);
    // Calls fn(file, file_offset, length) for every file in [offset, offset+length), in
    // order, pad files included, zero-length files skipped. Stops when fn returns false.
    template <class Fn>
    void for_each_part(std::int64_t offset, std::int64_t length, Fn&& fn) const;

    std::shared_ptr<FileIo> io_;  // never null
    std::vector<meta::FileEntry> files_;
    std::int64_t total_size_;
    // Paths are kept as strings: a std::filesystem::path also keeps a list of its
    // components, several hundred bytes per torrent for these three.
    std::string root_;
    std::string root_norm_;  // root_ lexically normal, for inside_root()
    std::mutex mu_;
    std::vector<Slot> slots_;  // one per file
    std::list<int> lru_;       // files with an open descriptor, most recently used first
    std::size_t max_open_ = 256;
    std::string parts_path_;
    // Guards use_parts_: reads and writes share it, a change of where a file lives is exclusive.
    mutable std::shared_mutex layout_mu_;
    std::vector<char> use_parts_;  // per file
    std::atomic<bool> part_names_{false};
    // Per file: last seen on disk under the partial name (read by the network thread).
    std::unique_ptr<std::atomic<bool>[]> part_named_;
};

}  // namespace pw::storage

template <>
struct std::is_error_code_enum<pw::storage::StorageErrc> : std::true_type {};
