// A small pool of worker threads for disk I/O and hashing. The network thread never
// touches files: it posts jobs here and gets the completions posted back.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pw::storage {

class DiskPool {
public:
    explicit DiskPool(unsigned threads = 0);  // 0: hardware concurrency (at least 2)
    ~DiskPool();  // runs the jobs already queued, then joins
    DiskPool(const DiskPool&) = delete;
    DiskPool& operator=(const DiskPool&) = delete;

    void post(std::function<void()> job);
    // A job that someone waits on now (a read for a peer's request): run before every
    // queued post()ed job, in its own FIFO order. A slow disk then delays uploads by one
    // write at most, not by the whole queue of piece writes (bounded by the cache).
    void post_urgent(std::function<void()> job);
    std::size_t queued() const;
    unsigned size() const { return static_cast<unsigned>(threads_.size()); }

private:
    void run();
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    std::deque<std::function<void()>> urgent_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace pw::storage
