// The seam between Storage and the operating system's file calls: every open, close,
// positional read and write of a torrent's data goes through one FileIo. The default,
// posix_file_io(), makes the system calls directly; tests substitute one that fails the
// Nth call with a chosen errno, transfers fewer bytes than asked, or sleeps (a full disk,
// an I/O error, a slow disk: tests/support/fault_io.hpp), as rqbit's storage middleware,
// either per Storage or for the whole process (set_default_file_io()).
//
// Contract: each call behaves as its POSIX namesake (open(2), close(2), preadv(2),
// pwritev(2), splice(2)): -1 with errno set on failure, and a read or write may move fewer bytes
// than asked, which Storage completes by calling again (a transfer of 0 bytes ends it:
// end of file for a read, EIO for a write). Called from the disk pool's threads at once:
// an implementation must be thread-safe. The cost is one virtual call per system call,
// lost in the system call itself (bench/micro/storage_io.cpp measures it).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <memory>

namespace pw::storage {

class FileIo {
  public:
    virtual ~FileIo() = default;
    virtual int open(const char* path, int flags, mode_t mode) = 0;
    virtual int close(int fd) = 0;
    virtual ssize_t preadv(int fd, const iovec* iov, int count, off_t offset) = 0;
    virtual ssize_t pwritev(int fd, const iovec* iov, int count, off_t offset) = 0;
    // splice(2) of up to `len` bytes at `offset` of file `fd` into the pipe `pipe_fd`,
    // without waiting for room in the pipe: the pages are referenced, not copied
    // (Storage::splice_to). The default refuses with ENOSYS, so that a FileIo that does
    // not implement it has its reads done by preadv.
    virtual ssize_t splice_to_pipe(int fd, off_t offset, int pipe_fd, std::size_t len);
};

// The real calls.
const std::shared_ptr<FileIo>& posix_file_io();

// The FileIo of every Storage constructed without one of its own (the engine's torrents):
// posix_file_io() unless a test replaced it. Read once by each Storage's constructor, so
// a replacement applies to torrents added (or restarted) after it. For tests; null
// restores the real calls. Thread-safe.
std::shared_ptr<FileIo> default_file_io();
void set_default_file_io(std::shared_ptr<FileIo> io);

}  // namespace pw::storage
