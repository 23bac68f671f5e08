// Worker threads draining one FIFO queue of jobs. See disk_pool.hpp for the contract.
#include "storage/disk_pool.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace pw::storage {

DiskPool::DiskPool(unsigned threads) {
    if (threads == 0) threads = std::max(2u, std::thread::hardware_concurrency());
    try {
        for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
    } catch (...) {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
        throw;
    }
}

DiskPool::~DiskPool() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void DiskPool::post(std::function<void()> job) {
    if (!job) return;
    {
        std::lock_guard lock(mu_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
}

void DiskPool::post_urgent(std::function<void()> job) {
    if (!job) return;
    {
        std::lock_guard lock(mu_);
        urgent_.push_back(std::move(job));
    }
    cv_.notify_one();
}

std::size_t DiskPool::queued() const {
    std::lock_guard lock(mu_);
    return jobs_.size() + urgent_.size();
}

void DiskPool::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stop_ || !jobs_.empty() || !urgent_.empty(); });
            // Stopping still drains the queues, including jobs that running jobs post.
            auto& q = !urgent_.empty() ? urgent_ : jobs_;
            if (q.empty()) return;
            job = std::move(q.front());
            q.pop_front();
        }
        // A failing job must not take the worker (and with it the process) down.
        try {
            job();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "piecewise: disk job failed: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "piecewise: disk job failed with an unknown exception\n");
        }
    }
}

}  // namespace pw::storage
