// A FileIo for tests that misbehaves on purpose (src/storage/file_io.hpp), as rqbit's
// storage middleware: rules fail chosen calls with an errno (ENOSPC, EIO, EACCES, EROFS),
// cut reads and writes short (down to 0 bytes), or sleep before them (a slow disk).
// Everything else is passed to the real calls. Given to one Storage, or to every torrent
// of the process with ScopedFileIo (below). Thread-safe (the disk pool calls it from
// several threads); rules may be added and cleared while a session runs.
//
// A rule matches calls of one kind whose file path contains `path_contains` (empty: any
// file). Matching calls are counted per rule from 1; calls number `nth` up to
// `nth + count - 1` (count < 0: every one from `nth` on) are the ones it acts on.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/file_io.hpp"

namespace pw::test {

class FaultIo : public storage::FileIo {
  public:
    enum class Op { open, read, write };
    struct Rule {
        Op op = Op::write;
        std::string path_contains{};  // empty: any file
        int nth = 1;                  // the first call acted on (1: the first matching call)
        int count = 1;                // how many calls from `nth` on; < 0: all of them
        int error = 0;                // fail with this errno (0: do not fail)
        std::optional<std::size_t> max_bytes{};  // transfer at most this many bytes per call
        std::chrono::milliseconds delay{0};      // sleep before the call
        int seen = 0;                            // matching calls so far
    };

    // Returns the rule's index (for fired()).
    std::size_t add(Rule r) {
        std::lock_guard lk(mu_);
        rules_.push_back(std::move(r));
        fired_.push_back(0);
        return rules_.size() - 1;
    }
    // Removes every rule: from now on each call goes straight to the real one.
    void clear() {
        std::lock_guard lk(mu_);
        for (auto& r : rules_) r.count = 0;
    }
    // How many calls the rule acted on.
    int fired(std::size_t rule) const {
        std::lock_guard lk(mu_);
        return rule < fired_.size() ? fired_[rule] : 0;
    }
    // Calls of a kind made so far (all files).
    int calls(Op op) const { return calls_[static_cast<int>(op)].load(); }

    int open(const char* path, int flags, mode_t mode) override {
        auto act = match(Op::open, path);
        if (act.delay.count() > 0) std::this_thread::sleep_for(act.delay);
        if (act.error) {
            errno = act.error;
            return -1;
        }
        int fd = ::open(path, flags, mode);
        if (fd >= 0) {
            std::lock_guard lk(mu_);
            paths_[fd] = path;
        }
        return fd;
    }
    int close(int fd) override {
        {
            std::lock_guard lk(mu_);
            paths_.erase(fd);
        }
        return ::close(fd);
    }
    ssize_t preadv(int fd, const iovec* iov, int count, off_t offset) override {
        return transfer(Op::read, fd, iov, count, offset);
    }
    ssize_t pwritev(int fd, const iovec* iov, int count, off_t offset) override {
        return transfer(Op::write, fd, iov, count, offset);
    }
    // Splices are reads (Op::read rules act on them) once `splice` is set; until then
    // they are refused as by a FileIo without splice, and uploads read by preadv.
    std::atomic<bool> splice{false};
    ssize_t splice_to_pipe(int fd, off_t offset, int pipe_fd, std::size_t len) override {
        if (!splice) return storage::FileIo::splice_to_pipe(fd, offset, pipe_fd, len);
        auto act = match(Op::read, path_of(fd));
        if (act.delay.count() > 0) std::this_thread::sleep_for(act.delay);
        if (act.error) {
            errno = act.error;
            return -1;
        }
        if (act.max_bytes) {
            if (*act.max_bytes == 0) return 0;
            len = std::min(len, *act.max_bytes);
        }
        return storage::posix_file_io()->splice_to_pipe(fd, offset, pipe_fd, len);
    }

  private:
    struct Action {
        int error = 0;
        std::optional<std::size_t> max_bytes;
        std::chrono::milliseconds delay{0};
    };

    // What the rules say about this call (the first matching rule that acts on it, and
    // every rule's counter moves on).
    Action match(Op op, const std::string& path) {
        ++calls_[static_cast<int>(op)];
        std::lock_guard lk(mu_);
        Action a;
        bool taken = false;
        for (std::size_t i = 0; i < rules_.size(); ++i) {
            auto& r = rules_[i];
            if (r.op != op || r.count == 0) continue;
            if (!r.path_contains.empty() && path.find(r.path_contains) == std::string::npos)
                continue;
            int n = ++r.seen;
            bool acts = n >= r.nth && (r.count < 0 || n < r.nth + r.count);
            if (!acts || taken) continue;
            taken = true;
            ++fired_[i];
            a = {r.error, r.max_bytes, r.delay};
        }
        return a;
    }

    std::string path_of(int fd) {
        std::lock_guard lk(mu_);
        auto it = paths_.find(fd);
        return it == paths_.end() ? std::string() : it->second;
    }

    ssize_t transfer(Op op, int fd, const iovec* iov, int count, off_t offset) {
        auto act = match(op, path_of(fd));
        if (act.delay.count() > 0) std::this_thread::sleep_for(act.delay);
        if (act.error) {
            errno = act.error;
            return -1;
        }
        if (!act.max_bytes)
            return op == Op::read ? ::preadv(fd, iov, count, offset)
                                  : ::pwritev(fd, iov, count, offset);
        if (*act.max_bytes == 0) return 0;
        // A short transfer: the first max_bytes of the vector only.
        std::vector<iovec> cut;
        std::size_t left = *act.max_bytes;
        for (int i = 0; i < count && left > 0; ++i) {
            std::size_t take = std::min(left, iov[i].iov_len);
            cut.push_back({iov[i].iov_base, take});
            left -= take;
        }
        int n = static_cast<int>(cut.size());
        return op == Op::read ? ::preadv(fd, cut.data(), n, offset)
                              : ::pwritev(fd, cut.data(), n, offset);
    }

    mutable std::mutex mu_;
    std::vector<Rule> rules_;
    std::vector<int> fired_;
    std::map<int, std::string> paths_;  // open descriptors' paths
    std::atomic<int> calls_[3] = {0, 0, 0};
};

// Makes `io` the FileIo of every Storage constructed while it lives (the engine's
// torrents: sessions in the test process), then restores the real calls. Rules can tell
// sessions apart by the path (each has its own download directory).
class ScopedFileIo {
  public:
    explicit ScopedFileIo(std::shared_ptr<storage::FileIo> io) {
        storage::set_default_file_io(std::move(io));
    }
    ~ScopedFileIo() { storage::set_default_file_io(nullptr); }
    ScopedFileIo(const ScopedFileIo&) = delete;
    ScopedFileIo& operator=(const ScopedFileIo&) = delete;
};

}  // namespace pw::test
