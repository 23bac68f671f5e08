// Token-bucket limit on incoming queries per source address.
#include "dht/rate_limiter.hpp"

#include <algorithm>

namespace pw::dht {

double RateLimiter::refill(Bucket& b, Clock::time_point now) const {
    double burst = std::max(rate_, 1.0);
    double elapsed = std::chrono::duration<double>(now - b.updated).count();
    if (elapsed > 0) b.tokens = std::min(burst, b.tokens + elapsed * rate_);
    b.updated = now;
    return b.tokens;
}

void RateLimiter::forget_idle(Clock::time_point now) {
    double burst = std::max(rate_, 1.0);
    for (auto it = buckets_.begin(); it != buckets_.end();)
        it = refill(it->second, now) >= burst ? buckets_.erase(it) : std::next(it);
}

bool RateLimiter::allow(std::string_view source, Clock::time_point now) {
    if (rate_ <= 0) return false;
    auto it = buckets_.find(std::string(source));
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_sources_) {
            // A sweep costs O(sources): at most one per second, so a flood of new
            // addresses cannot make every packet pay for it.
            if (now - last_sweep_ < std::chrono::seconds(1)) return false;
            last_sweep_ = now;
            forget_idle(now);
            if (buckets_.size() >= max_sources_) return false;
        }
        it = buckets_.emplace(std::string(source), Bucket{std::max(rate_, 1.0), now}).first;
    }
    if (refill(it->second, now) < 1.0) return false;
    it->second.tokens -= 1.0;
    return true;
}

}  // namespace pw::dht
