// Per-source-address token buckets for incoming DHT queries: each address may send
// `rate` queries per second with a burst of `rate` (at least 1); queries beyond are
// dropped unanswered. The number of addresses tracked is bounded: when full, idle
// buckets (full again) are forgotten, and if none is idle the new address is refused.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pw::dht {

class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    explicit RateLimiter(double rate_per_second, std::size_t max_sources = 20000)
        : rate_(rate_per_second), max_sources_(max_sources) {}

    // `source` is the address's bytes. True if one more query is allowed now.
    bool allow(std::string_view source, Clock::time_point now);

    std::size_t tracked() const { return buckets_.size(); }

  private:
    struct Bucket {
        double tokens;
        Clock::time_point updated;
    };
    double refill(Bucket& b, Clock::time_point now) const;
    void forget_idle(Clock::time_point now);

    double rate_;
    std::size_t max_sources_;
    std::unordered_map<std::string, Bucket> buckets_;
    Clock::time_point last_sweep_{};
};

}  // namespace pw::dht
