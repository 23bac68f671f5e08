// A token bucket: `rate` bytes per second flow in, up to `burst()` bytes are kept, and
// each transfer takes its bytes out. The caller passes the time (any steady-clock time
// point), so the bucket is pure and tests drive it with a made-up clock.
//
// Contract: rate 0 is unlimited (tokens are not tracked). The burst is a quarter second
// of the rate (at least min_burst bytes), so after a pause at most that much moves at
// once, and a lower rate takes effect at once (tokens above the new burst are dropped).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace pw::swarm {

class TokenBucket {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::int64_t min_burst = 4096;

    explicit TokenBucket(Clock::time_point now = {}) : last_(now) {}

    std::int64_t rate() const { return rate_; }
    bool unlimited() const { return rate_ == 0; }
    std::int64_t burst() const { return std::max(rate_ / 4, min_burst); }
    std::int64_t tokens() const { return tokens_; }

    void set_rate(std::int64_t bytes_per_s, Clock::time_point now) {
        refill(now);
        rate_ = std::max<std::int64_t>(0, bytes_per_s);
        tokens_ = std::min(tokens_, burst());
        if (rate_ == 0) tokens_ = 0, frac_ = 0;
    }

    void refill(Clock::time_point now) {
        if (now <= last_) return;
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count();
        last_ = now;
        if (rate_ == 0) return;
        if (tokens_ >= burst()) {
            frac_ = 0;
            return;
        }
        // Long pauses only fill the bucket: cap the interval before multiplying.
        ns = std::min<std::int64_t>(ns, 1'000'000'000'000ll);
        __int128 add = static_cast<__int128>(rate_) * ns + frac_;
        tokens_ =
            static_cast<std::int64_t>(std::min<__int128>(tokens_ + add / 1'000'000'000, burst()));
        frac_ = tokens_ >= burst() ? 0 : static_cast<std::int64_t>(add % 1'000'000'000);
    }

    void take(std::int64_t n) { tokens_ -= n; }
    // Bytes granted but not used come back (never above the burst).
    void give_back(std::int64_t n) { tokens_ = std::min(tokens_ + n, burst()); }

  private:
    std::int64_t rate_ = 0;
    std::int64_t tokens_ = 0;
    std::int64_t frac_ = 0;  // nanosecond-bytes not yet a whole token
    Clock::time_point last_;
};

}  // namespace pw::swarm
