// DiskPool: every job runs, in FIFO order on one thread, in parallel on several, and a
// throwing job neither kills its worker nor loses the jobs after it.
#include "storage/disk_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>

using pw::storage::DiskPool;
using namespace std::chrono_literals;

TEST(DiskPoolTest, SizeAndDefault) {
    EXPECT_EQ(DiskPool(3).size(), 3u);
    EXPECT_GE(DiskPool(0).size(), 2u);
}

TEST(DiskPoolTest, DestructorRunsAllQueuedJobs) {
    std::atomic<int> ran{0};
    {
        DiskPool pool(3);
        for (int i = 0; i < 1000; ++i) pool.post([&] { ++ran; });
    }
    EXPECT_EQ(ran.load(), 1000);
}

TEST(DiskPoolTest, JobsPostedWhileDrainingRun) {
    std::atomic<int> ran{0};
    {
        DiskPool pool(2);
        for (int i = 0; i < 10; ++i)
            pool.post([&] {
                ++ran;
                pool.post([&] { ++ran; });
            });
    }
    EXPECT_EQ(ran.load(), 20);
}

TEST(DiskPoolTest, FifoOnOneThread) {
    std::vector<int> order;
    {
        DiskPool pool(1);
        for (int i = 0; i < 100; ++i) pool.post([&order, i] { order.push_back(i); });
    }
    ASSERT_EQ(order.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(DiskPoolTest, QueuedCountsWaitingJobs) {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::promise<void> started;
    DiskPool pool(1);
    pool.post([&] {
        started.set_value();
        gate.wait_for(10s);
    });
    ASSERT_EQ(started.get_future().wait_for(10s), std::future_status::ready);
    for (int i = 0; i < 5; ++i) pool.post([] {});
    EXPECT_EQ(pool.queued(), 5u);
    release.set_value();
}

TEST(DiskPoolTest, WorkersRunInParallel) {
    // Two jobs that each wait for the other: only possible on two threads at once.
    DiskPool pool(2);
    std::promise<void> a, b;
    std::future<void> fa = a.get_future(), fb = b.get_future();
    std::atomic<int> met{0};
    pool.post([&] {
        a.set_value();
        if (fb.wait_for(10s) == std::future_status::ready) ++met;
    });
    pool.post([&] {
        b.set_value();
        if (fa.wait_for(10s) == std::future_status::ready) ++met;
    });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (met.load() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    EXPECT_EQ(met.load(), 2);
}

TEST(DiskPoolTest, SurvivesThrowingJobs) {
    std::atomic<int> ran{0};
    testing::internal::CaptureStderr();
    {
        DiskPool pool(1);  // one worker: it must survive both throws to run the rest
        pool.post([] { throw std::runtime_error("boom"); });
        pool.post([] { throw 42; });
        pool.post([&] { ++ran; });
        pool.post(std::function<void()>());  // an empty job is ignored
        pool.post([&] { ++ran; });
    }
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(ran.load(), 2);
    EXPECT_NE(err.find("boom"), std::string::npos);
    EXPECT_NE(err.find("unknown exception"), std::string::npos);
}

// Urgent jobs (reads a peer waits on) run before the queued ones, in their own order.
TEST(DiskPool, UrgentJobsGoFirst) {
    std::mutex mu;
    std::vector<int> order;
    std::promise<void> release;
    auto gate = release.get_future().share();
    {
        pw::storage::DiskPool pool(1);
        pool.post([gate] { gate.wait(); });  // holds the only worker
        for (int i = 0; i < 3; ++i)
            pool.post([&, i] {
                std::lock_guard lk(mu);
                order.push_back(i);
            });
        for (int i = 10; i < 12; ++i)
            pool.post_urgent([&, i] {
                std::lock_guard lk(mu);
                order.push_back(i);
            });
        EXPECT_GE(pool.queued(), 5u);  // 6 while the worker has not taken the gate yet
        release.set_value();
    }  // the destructor drains the queues
    EXPECT_EQ(order, (std::vector<int>{10, 11, 0, 1, 2}));
}
