#include "storage/splice_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <bit>

namespace pw::storage {

namespace {
std::atomic<int> live_pipes{0};
}  // namespace

std::unique_ptr<SplicePipe> SplicePipe::make(std::size_t slots) {
    if (live_pipes.fetch_add(1) >= max_live) {
        live_pipes.fetch_sub(1);
        return nullptr;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        live_pipes.fetch_sub(1);
        return nullptr;
    }
    std::unique_ptr<SplicePipe> p(new SplicePipe(fds[0], fds[1]));
    // The kernel rounds the size up to a power of two pages, and reports what it set.
    const auto want = static_cast<int>(std::bit_ceil(slots) * page);
    int got = ::fcntl(fds[1], F_GETPIPE_SZ);
    if (got < want) got = ::fcntl(fds[1], F_SETPIPE_SZ, want);
    if (got < want) return nullptr;  // the destructor closes it
    return p;
}

int SplicePipe::live() { return live_pipes.load(); }

SplicePipe::~SplicePipe() {
    ::close(r_);
    ::close(w_);
    live_pipes.fetch_sub(1);
}

}  // namespace pw::storage
