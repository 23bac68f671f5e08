// Sharing a rate limit fairly among many connections (one direction: download or upload).
//
// Buckets form a tree: bucket 0 is the session's global one; a torrent's bucket usually
// has the global one as its parent ("honors session limits"), so a transfer through it
// takes its bytes from both. A connection asks for bytes through its torrent's bucket:
// take() answers at once when every limited bucket on the chain has tokens and nobody
// already waits on it; otherwise the connection wait()s, and distribute() (called on a
// timer while anyone waits) refills the buckets and hands the tokens out max-min fairly:
// equal shares to every waiter of a bucket (when a share is worth a transfer), what a
// waiter cannot use (it wants less, or a tighter bucket of its own holds it back) going
// to the others, then the remainder in queue order. A waiter is released once it holds min(want,
// min_grant) bytes, so grants are never a few bytes; a connection that comes back for more queues
// behind the others. Buckets carry a priority (Transmission's bandwidthPriority: -1 low,
// 0 normal, 1 high), which their waiters take: distribute() serves the waiters of a higher
// priority first (fairly among themselves) and hands what they cannot use to the next one,
// so a high-priority torrent gets bandwidth first and nothing is left unused.
//
// Pure: no I/O, no clock of its own (the caller passes the time). Rate 0 is unlimited;
// take() on a chain without any limit answers `want` at once.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "swarm/token_bucket.hpp"

namespace pw::swarm {

class BandwidthQueue {
  public:
    using Clock = TokenBucket::Clock;
    using BucketId = std::int64_t;
    using WaiterId = std::uint64_t;
    static constexpr BucketId global = 0;
    static constexpr BucketId none = -1;
    static constexpr std::int64_t min_grant = 1024;

    explicit BandwidthQueue(Clock::time_point now = {});

    // `id` is the caller's (unique, not global); parent: global or none.
    void add_bucket(BucketId id, BucketId parent, std::int64_t rate, Clock::time_point now);
    // Its waiters stay queued on what remains of their chain.
    void remove_bucket(BucketId id);
    void set_rate(BucketId id, std::int64_t rate, Clock::time_point now);
    void set_parent(BucketId id, BucketId parent);
    // -1 low, 0 normal (the default), 1 high; for waits from now on.
    void set_priority(BucketId id, int priority);
    int priority(BucketId id) const;
    std::int64_t rate(BucketId id) const;
    // The tightest rate on the chain from `id` up; 0: none.
    std::int64_t chain_rate(BucketId id) const;

    // Some bucket on the chain from `id` up has a rate. Cheap when nothing is limited.
    bool limited(BucketId id) const { return limited_buckets_ > 0 && chain_limited(id); }

    // Bytes that may move through `id` now (min(want, min_grant) up to want), or 0: wait().
    std::int64_t take(BucketId id, std::int64_t want, Clock::time_point now);
    // The unused part of a grant.
    void give_back(BucketId id, std::int64_t n);

    void wait(WaiterId w, BucketId id, std::int64_t want);
    void cancel(WaiterId w);  // its reserved bytes go back to its buckets
    bool waiting() const { return !waiters_.empty(); }
    std::size_t waiter_count() const { return waiters_.size(); }

    struct Grant {
        WaiterId waiter;
        std::int64_t bytes;
    };
    // Refills every bucket and releases the waiters that now hold enough.
    std::vector<Grant> distribute(Clock::time_point now);

  private:
    struct Bucket {
        TokenBucket tokens;
        BucketId parent = none;
        int waiting = 0;  // waiters whose chain holds this bucket
        int priority = 0;
    };
    struct Waiter {
        WaiterId id;
        std::vector<BucketId> chain;  // at wait() time
        std::int64_t want;
        std::int64_t got = 0;
        int priority = 0;  // its bucket's, at wait() time
    };
    bool bucket_limited(BucketId id) const;
    bool chain_limited(BucketId id) const;
    std::vector<BucketId> chain_of(BucketId id) const;  // the limited buckets, bottom up
    std::int64_t chain_tokens(const std::vector<BucketId>& chain) const;
    void charge(const std::vector<BucketId>& chain, std::int64_t n);
    void release(std::size_t index);  // removes waiters_[index] and its counts
    // Water-filling, then queue order, over the waiters of one priority.
    void share_out(int priority);

    std::unordered_map<BucketId, Bucket> buckets_;
    int limited_buckets_ = 0;
    std::deque<Waiter> waiters_;  // oldest first
};

}  // namespace pw::swarm
