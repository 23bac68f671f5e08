// The session's rate limits on the network thread: two swarm::BandwidthQueues (download,
// upload) and the timer that hands out their tokens while connections wait.
//
// A connection asks acquire() for the bytes it is about to read or write through its
// torrent's bucket. When nothing on the chain is limited it never gets here (limited()
// is checked first, so an unlimited session costs one branch per read or write). When
// the budget is spent the connection's own timer (its Slot) waits, without polling,
// until the limiter's tick (every 50 ms, only while someone waits) grants it bytes or
// the connection closes (cancel()). Network thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>

#include "swarm/bandwidth_queue.hpp"

namespace pw::peer {

class BandwidthLimiter : public std::enable_shared_from_this<BandwidthLimiter> {
  public:
    using BucketId = swarm::BandwidthQueue::BucketId;
    static constexpr BucketId global = swarm::BandwidthQueue::global;
    static constexpr BucketId none = swarm::BandwidthQueue::none;
    enum Dir { down = 0, up = 1 };

    // One waiting transfer of a connection (one per direction).
    struct Slot {
        explicit Slot(const boost::asio::any_io_executor& ex) : timer(ex) {}
        boost::asio::steady_timer timer;
        swarm::BandwidthQueue::WaiterId id = 0;  // 0: not waiting
        std::int64_t granted = 0;
    };

    explicit BandwidthLimiter(boost::asio::any_io_executor ex);

    // A torrent's bucket in both directions; rates in bytes/s, 0: none of its own.
    BucketId add_bucket(bool honors_global, std::int64_t down_rate, std::int64_t up_rate);
    void remove_bucket(BucketId b);
    void set_rates(BucketId b, std::int64_t down_rate, std::int64_t up_rate);
    void set_honors_global(BucketId b, bool honors);
    // -1 low, 0 normal, 1 high, both directions (swarm::BandwidthQueue::set_priority).
    void set_priority(BucketId b, int priority) {
        for (auto& q : queue_) q.set_priority(b, priority);
    }
    // Any parent (a bandwidth group's bucket, global, or none), both directions.
    void set_parent(BucketId b, BucketId parent);
    // The session's limits (bytes/s, 0: none).
    void set_global(std::int64_t down_rate, std::int64_t up_rate) {
        set_rates(global, down_rate, up_rate);
    }

    bool limited(Dir d, BucketId b) const { return queue_[d].limited(b); }
    std::int64_t rate(Dir d, BucketId b) const { return queue_[d].chain_rate(b); }  // 0: none
    // Bytes (1..want) the caller may move now, waiting for them when needed; 0 when the
    // wait was cancelled.
    boost::asio::awaitable<std::int64_t> acquire(Dir d, BucketId b, std::int64_t want, Slot& slot);
    void give_back(Dir d, BucketId b, std::int64_t n) { queue_[d].give_back(b, n); }
    void cancel(Dir d, Slot& slot);

  private:
    void arm();
    void on_tick();

    boost::asio::any_io_executor ex_;
    swarm::BandwidthQueue queue_[2];
    std::map<swarm::BandwidthQueue::WaiterId, Slot*> slots_[2];
    swarm::BandwidthQueue::WaiterId next_waiter_ = 1;
    BucketId next_bucket_ = 1;
    boost::asio::steady_timer tick_;
    bool armed_ = false;
};

}  // namespace pw::peer
