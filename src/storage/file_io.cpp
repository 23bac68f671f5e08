// The direct system calls behind Storage. See file_io.hpp for the contract.
#include "storage/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace pw::storage {

namespace {

class PosixFileIo final : public FileIo {
  public:
    int open(const char* path, int flags, mode_t mode) override {
        return ::open(path, flags, mode);
    }
    int close(int fd) override { return ::close(fd); }
    ssize_t preadv(int fd, const iovec* iov, int count, off_t offset) override {
        return ::preadv(fd, iov, count, offset);
    }
    ssize_t pwritev(int fd, const iovec* iov, int count, off_t offset) override {
        return ::pwritev(fd, iov, count, offset);
    }
    ssize_t splice_to_pipe(int fd, off_t offset, int pipe_fd, std::size_t len) override {
        loff_t at = offset;
        return ::splice(fd, &at, pipe_fd, nullptr, len, SPLICE_F_NONBLOCK);
    }
};

}  // namespace

ssize_t FileIo::splice_to_pipe(int, off_t, int, std::size_t) {
    errno = ENOSYS;
    return -1;
}

const std::shared_ptr<FileIo>& posix_file_io() {
    static const std::shared_ptr<FileIo> io = std::make_shared<PosixFileIo>();
    return io;
}

namespace {
std::mutex default_mu;
std::shared_ptr<FileIo>& default_slot() {
    static std::shared_ptr<FileIo> io;
    return io;
}
}  // namespace

std::shared_ptr<FileIo> default_file_io() {
    std::lock_guard lk(default_mu);
    auto& io = default_slot();
    return io ? io : posix_file_io();
}

void set_default_file_io(std::shared_ptr<FileIo> io) {
    std::lock_guard lk(default_mu);
    default_slot() = std::move(io);
}

}  // namespace pw::storage
