// A kernel pipe that carries a run of blocks from the files to a peer's TCP socket without
// copying them in user space (splice(2)): a disk worker writes the PIECE message headers
// into it and splices the payload in from the files (Storage::splice_to: the page cache's
// pages are referenced, not copied), and the peer's writer splices it all out to the
// socket. Uploading this way saves the two copies of a read into a buffer and a send from
// it (bench/RESULTS.md, "Uploads by splice").
//
// Pipes are file descriptors: at most `max_live` exist in the process at once (the fd
// budget reserves them, session/fd_budget.cpp); past that, or when the kernel refuses one,
// make() returns null and the caller reads into a buffer instead.
#pragma once

#include <cstddef>
#include <memory>

namespace pw::storage {

class SplicePipe {
public:
    static constexpr int max_live = 64;
    static constexpr std::size_t page = 4096;

    // A pipe with room for `slots` buffers of a page each (a spliced range takes one per
    // page it touches, a small write one of its own), both ends non-blocking; null if
    // `max_live` pipes exist, pipe2 fails (EMFILE...) or the pipe cannot be made that large
    // (fs.pipe-max-size, fs.pipe-user-pages-soft).
    static std::unique_ptr<SplicePipe> make(std::size_t slots);
    // The slots a run needs: `blocks` headers and payloads of `payload` bytes in all, each
    // payload starting anywhere in a page.
    static std::size_t slots_for(std::size_t blocks, std::size_t payload) {
        return payload / page + 3 * blocks + 2;
    }
    static int live();  // pipes that exist now

    ~SplicePipe();
    SplicePipe(const SplicePipe&) = delete;
    SplicePipe& operator=(const SplicePipe&) = delete;

    int read_fd() const { return r_; }
    int write_fd() const { return w_; }

private:
    SplicePipe(int r, int w) : r_(r), w_(w) {}
    int r_, w_;
};

}  // namespace pw::storage
