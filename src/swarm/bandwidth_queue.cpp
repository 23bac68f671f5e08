#include "swarm/bandwidth_queue.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace pw::swarm {

namespace {
constexpr int max_fair_rounds = 8;    // water-filling rounds per distribute(); the rest is FIFO
constexpr std::size_t max_depth = 4;  // chain length bound (a parent cycle cannot loop)
}  // namespace

BandwidthQueue::BandwidthQueue(Clock::time_point now) {
    buckets_.emplace(global, Bucket{TokenBucket(now), none, 0});
}

void BandwidthQueue::add_bucket(BucketId id, BucketId parent, std::int64_t rate,
                                Clock::time_point now) {
    if (id == global || id == none || buckets_.count(id)) return;
    auto& b = buckets_.emplace(id, Bucket{TokenBucket(now), parent, 0}).first->second;
    if (rate > 0) {
        b.tokens.set_rate(rate, now);
        ++limited_buckets_;
    }
}

void BandwidthQueue::remove_bucket(BucketId id) {
    if (id == global) return;
    auto it = buckets_.find(id);
    if (it == buckets_.end()) return;
    if (!it->second.tokens.unlimited()) --limited_buckets_;
    buckets_.erase(it);
}

void BandwidthQueue::set_rate(BucketId id, std::int64_t rate, Clock::time_point now) {
    auto it = buckets_.find(id);
    if (it == buckets_.end()) return;
    auto& t = it->second.tokens;
    bool was = !t.unlimited();
    t.set_rate(rate, now);
    limited_buckets_ += int(!t.unlimited()) - int(was);
}

void BandwidthQueue::set_parent(BucketId id, BucketId parent) {
    if (id == global) return;
    if (auto it = buckets_.find(id); it != buckets_.end()) it->second.parent = parent;
}

void BandwidthQueue::set_priority(BucketId id, int priority) {
    if (auto it = buckets_.find(id); it != buckets_.end())
        it->second.priority = std::clamp(priority, -1, 1);
}

int BandwidthQueue::priority(BucketId id) const {
    auto it = buckets_.find(id);
    return it == buckets_.end() ? 0 : it->second.priority;
}

std::int64_t BandwidthQueue::rate(BucketId id) const {
    auto it = buckets_.find(id);
    return it == buckets_.end() ? 0 : it->second.tokens.rate();
}

std::int64_t BandwidthQueue::chain_rate(BucketId id) const {
    std::int64_t r = 0;
    for (auto b : chain_of(id)) {
        auto v = buckets_.at(b).tokens.rate();
        if (v > 0 && (r == 0 || v < r)) r = v;
    }
    return r;
}

bool BandwidthQueue::bucket_limited(BucketId id) const {
    auto it = buckets_.find(id);
    return it != buckets_.end() && !it->second.tokens.unlimited();
}

bool BandwidthQueue::chain_limited(BucketId id) const {
    for (std::size_t depth = 0; id != none && depth < max_depth; ++depth) {
        auto it = buckets_.find(id);
        if (it == buckets_.end()) return false;
        if (!it->second.tokens.unlimited()) return true;
        id = it->second.parent;
    }
    return false;
}

std::vector<BandwidthQueue::BucketId> BandwidthQueue::chain_of(BucketId id) const {
    std::vector<BucketId> out;
    for (std::size_t depth = 0; id != none && depth < max_depth; ++depth) {
        auto it = buckets_.find(id);
        if (it == buckets_.end()) break;
        out.push_back(id);
        id = it->second.parent;
    }
    return out;
}

std::int64_t BandwidthQueue::chain_tokens(const std::vector<BucketId>& chain) const {
    std::int64_t n = std::numeric_limits<std::int64_t>::max();
    for (auto id : chain) {
        auto it = buckets_.find(id);
        if (it != buckets_.end() && !it->second.tokens.unlimited())
            n = std::min(n, it->second.tokens.tokens());
    }
    return std::max<std::int64_t>(n, 0);
}

void BandwidthQueue::charge(const std::vector<BucketId>& chain, std::int64_t n) {
    for (auto id : chain) {
        auto it = buckets_.find(id);
        if (it != buckets_.end() && !it->second.tokens.unlimited()) it->second.tokens.take(n);
    }
}

std::int64_t BandwidthQueue::take(BucketId id, std::int64_t want, Clock::time_point now) {
    if (want <= 0) return 0;
    auto chain = chain_of(id);
    for (auto b : chain) {
        auto& bucket = buckets_.at(b);
        if (bucket.tokens.unlimited()) continue;
        if (bucket.waiting > 0) return 0;  // first come, first served
        bucket.tokens.refill(now);
    }
    std::int64_t n = std::min(want, chain_tokens(chain));
    if (n < std::min(want, min_grant)) return 0;
    charge(chain, n);
    return n;
}

void BandwidthQueue::give_back(BucketId id, std::int64_t n) {
    if (n <= 0) return;
    for (auto b : chain_of(id)) {
        auto& t = buckets_.at(b).tokens;
        if (!t.unlimited()) t.give_back(n);
    }
}

void BandwidthQueue::wait(WaiterId w, BucketId id, std::int64_t want) {
    Waiter x{w, chain_of(id), std::max<std::int64_t>(want, 1), 0, priority(id)};
    for (auto b : x.chain) ++buckets_.at(b).waiting;
    waiters_.push_back(std::move(x));
}

void BandwidthQueue::release(std::size_t index) {
    for (auto b : waiters_[index].chain)
        if (auto it = buckets_.find(b); it != buckets_.end()) --it->second.waiting;
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(index));
}

void BandwidthQueue::cancel(WaiterId w) {
    for (std::size_t i = 0; i < waiters_.size(); ++i)
        if (waiters_[i].id == w) {
            auto& x = waiters_[i];
            for (auto b : x.chain)
                if (auto it = buckets_.find(b);
                    it != buckets_.end() && !it->second.tokens.unlimited())
                    it->second.tokens.give_back(x.got);
            release(i);
            return;
        }
}

void BandwidthQueue::share_out(int priority) {
    // Water-filling: each round every unsatisfied waiter gets an equal share of each of
    // its buckets' tokens (the smallest share along its chain).
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < waiters_.size(); ++i)
        if (waiters_[i].priority == priority && waiters_[i].got < waiters_[i].want)
            active.push_back(i);
    std::map<BucketId, std::int64_t> count, share;
    for (int round = 0; round < max_fair_rounds && !active.empty(); ++round) {
        count.clear();
        share.clear();
        for (auto i : active)
            for (auto b : waiters_[i].chain)
                if (bucket_limited(b)) ++count[b];
        for (auto& [b, n] : count) share[b] = buckets_.at(b).tokens.tokens() / n;
        bool progress = false;
        std::vector<std::size_t> next;
        for (auto i : active) {
            auto& w = waiters_[i];
            std::int64_t g = w.want - w.got;
            for (auto b : w.chain)
                if (bucket_limited(b)) g = std::min(g, share[b]);
            // A share too small to release the waiter stays for the queue-order pass:
            // spread thin, every waiter would hold a few bytes and none could move.
            if (g > 0 && w.got + g >= std::min(w.want, min_grant)) {
                charge(w.chain, g);
                w.got += g;
                progress = true;
            }
            if (w.got < w.want) next.push_back(i);
        }
        active.swap(next);
        if (!progress) break;
    }
    // What is left (fewer tokens than waiters): in queue order.
    for (auto i : active) {
        auto& w = waiters_[i];
        std::int64_t g = std::min(w.want - w.got, chain_tokens(w.chain));
        if (g <= 0) continue;
        charge(w.chain, g);
        w.got += g;
    }
}

std::vector<BandwidthQueue::Grant> BandwidthQueue::distribute(Clock::time_point now) {
    std::vector<Grant> out;
    if (waiters_.empty()) return out;
    for (auto& [id, b] : buckets_) b.tokens.refill(now);
    // Waiters whose chain has no limit left (a limit was lifted) get what they want.
    for (auto& w : waiters_)
        if (std::none_of(w.chain.begin(), w.chain.end(), [this](BucketId b) { return bucket_limited(b); })) w.got = w.want;

    // Higher priorities first; each hands on what its waiters could not use.
    for (int p = 1; p >= -1; --p) share_out(p);
    // Released waiters leave; the others keep their places (one pass, no erase per waiter).
    std::deque<Waiter> still;
    for (auto& w : waiters_) {
        if (w.got < std::min(w.want, min_grant)) {
            still.push_back(std::move(w));
            continue;
        }
        out.push_back({w.id, w.got});
        for (auto b : w.chain)
            if (auto it = buckets_.find(b); it != buckets_.end()) --it->second.waiting;
    }
    waiters_.swap(still);
    return out;
}

}  // namespace pw::swarm
