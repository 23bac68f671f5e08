// State shared by the HTTP and UDP front ends of `piecewise tracker`: the swarm store,
// the allow-list, the announce interval and the counters behind GET /stats. It is
// touched only on the network thread. The front ends translate wire requests into
// calls here, so HTTP (BEP 3, 23, 7, 24, 48) and UDP (BEP 15) behave the same.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include "tracker/server/swarm_store.hpp"

namespace pw::tracker {

using AllowList = std::unordered_set<Sha1Digest>;

// Reads an allow-list file: one info-hash in 40 hex digits per line; blank lines and
// text after '#' are ignored. Returns an error naming the file and line, or "".
std::string load_allow_list(const std::string& path, AllowList& out);

// Announces per second over the last minute, in one-second buckets.
class AnnounceRate {
  public:
    void count(Clock::time_point now);
    double per_second(Clock::time_point now, Clock::time_point since) const;

  private:
    static constexpr int buckets = 60;
    std::array<std::int64_t, buckets> second_{};  // which second each bucket holds
    std::array<std::uint32_t, buckets> n_{};
};

struct ServerCounters {
    std::uint64_t http_announces = 0;
    std::uint64_t http_scrapes = 0;
    std::uint64_t udp_connects = 0;
    std::uint64_t udp_announces = 0;
    std::uint64_t udp_scrapes = 0;
    std::uint64_t udp_dropped = 0;  // malformed packets and bad connection ids
    std::uint64_t failures = 0;     // announces answered with a failure reason
};

class TrackerState {
  public:
    TrackerState(std::chrono::seconds interval, StoreLimits limits, Clock::time_point now);

    std::chrono::seconds interval() const { return interval_; }
    bool allowed(const Sha1Digest& h) const { return !allow_ || allow_->count(h) != 0; }
    void set_allow_list(std::optional<AllowList> list) { allow_ = std::move(list); }
    bool has_allow_list() const { return allow_.has_value(); }

    // An announce from either front end: checks the allow-list, updates the store.
    StoreReply announce(const StoreAnnounce& a, Clock::time_point now);
    void announce(const StoreAnnounce& a, Clock::time_point now, StoreReply& reply);

    std::string stats_text(Clock::time_point now) const;

    SwarmStore store;
    ServerCounters counters;

  private:
    std::chrono::seconds interval_;
    std::optional<AllowList> allow_;
    AnnounceRate rate_;
    Clock::time_point started_;
};

}  // namespace pw::tracker
