// Limits how often Local Service Discovery reports one peer (BEP 14). Announces arrive by
// multicast every few minutes from each neighbour, and a hostile neighbour can send many
// more: a (source address, info-hash) pair is reported at most once per `interval` for each
// announced port, with at most `max_ports` ports per pair within that time. At most
// `max_tracked` pairs are remembered; when full, pairs whose reports have all expired are
// forgotten, and if none has, new pairs are refused until some expire.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::lsd {

class ReportLimiter {
  public:
    using Clock = std::chrono::steady_clock;

    explicit ReportLimiter(Clock::duration interval, std::size_t max_tracked = 4096,
                           std::size_t max_ports = 4)
        : interval_(interval), max_tracked_(max_tracked), max_ports_(max_ports) {}

    // `ipv4` in host byte order. True if this peer may be reported now (and records it).
    bool allow(std::uint32_t ipv4, std::uint16_t port, const Sha1Digest& info_hash,
               Clock::time_point now);

    std::size_t tracked() const { return seen_.size(); }

  private:
    struct Key {
        std::uint32_t ip;
        Sha1Digest hash;
        auto operator<=>(const Key&) const = default;
    };
    struct Report {
        std::uint16_t port;
        Clock::time_point at;
    };
    void drop_expired(std::vector<Report>& reports, Clock::time_point now) const;
    void forget_expired(Clock::time_point now);

    Clock::duration interval_;
    std::size_t max_tracked_;
    std::size_t max_ports_;
    std::map<Key, std::vector<Report>> seen_;
};

}  // namespace pw::lsd
