// Transfer rate over a sliding window of one-second slots.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

namespace pw::swarm {

class RateMeter {
public:
    using clock = std::chrono::steady_clock;
    static constexpr int slots = 5;

    void add(std::int64_t bytes) {
        roll(clock::now());
        slot_[static_cast<std::size_t>(cur_ % slots)] += bytes;
        total_ += bytes;
    }
    // Bytes per second over the last few seconds.
    double rate() const {
        auto now = clock::now();
        roll(now);
        std::int64_t sum = 0;
        for (auto v : slot_) sum += v;
        double since_start = std::chrono::duration<double>(now - start_).count();
        double in_slot = since_start - static_cast<double>(cur_);
        double window = std::min(since_start, (slots - 1) + in_slot);
        return static_cast<double>(sum) / std::max(window, 0.5);
    }
    std::int64_t total() const { return total_; }

private:
    void roll(clock::time_point now) const {
        auto sec = std::chrono::duration_cast<std::chrono::seconds>(now - start_).count();
        while (cur_ < sec) {
            ++cur_;
            slot_[static_cast<std::size_t>(cur_ % slots)] = 0;
            if (sec - cur_ > slots) cur_ = sec - slots;
        }
    }
    clock::time_point start_ = clock::now();
    mutable std::int64_t cur_ = 0;
    mutable std::array<std::int64_t, slots> slot_{};
    std::int64_t total_ = 0;
};

}  // namespace pw::swarm
