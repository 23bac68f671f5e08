#include "peer/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace pw::peer {

std::unique_ptr<Pipe> Pipe::make(std::size_t capacity) {
    std::unique_ptr<Pipe> p(new Pipe);
    if (::pipe2(p->fds_, O_CLOEXEC | O_NONBLOCK) != 0) return nullptr;
    int got = ::fcntl(p->fds_[1], F_SETPIPE_SZ, static_cast<int>(capacity));
    if (got < 0 || static_cast<std::size_t>(got) < capacity) return nullptr;
    return p;
}

Pipe::~Pipe() {
    for (int fd : fds_)
        if (fd >= 0) ::close(fd);
}

}  // namespace pw::peer
