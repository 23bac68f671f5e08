// A pipe(2) that carries file pages to a socket without a copy through user space: a
// disk worker splices file data (and writes message headers) into it, then the peer
// connection splices it into the socket (Linux splice(2)).
#pragma once

#include <cstddef>
#include <memory>

namespace pw::peer {

class Pipe {
public:
    // A pipe whose capacity is at least `capacity` bytes (F_SETPIPE_SZ), both ends
    // non-blocking; nullptr when the system will not make one that large (limits on pipe
    // sizes per user) or has no pipes left.
    static std::unique_ptr<Pipe> make(std::size_t capacity);
    ~Pipe();
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    int read_fd() const { return fds_[0]; }
    int write_fd() const { return fds_[1]; }

private:
    Pipe() = default;
    int fds_[2] = {-1, -1};
};

}  // namespace pw::peer
