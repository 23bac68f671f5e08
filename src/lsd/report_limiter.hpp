// Limits how often Local Service Discovery reports one peer (BEP 14). Announces arrive by
// multicast every few minutes from each neighbour, and a hostile neighbour can send many
// more: a (source address, info-hash) pair (IPv4 and IPv6 sources alike; an IPv4 address
// and its IPv4-mapped IPv6 form are one source) is reported at most once per `interval` for each
// announced port, with at most `max_ports` ports per pair within that time. At most
// `max_tracked` pairs are remembered; when full, pairs whose reports have all expired are
// forgotten, and if none has, new pairs are refused until some expire.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
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

    // True if this peer may be reported now (and records it).
    bool allow(const boost::asio::ip::address& ip, std::uint16_t port,
               const Sha1Digest& info_hash, Clock::time_point now);
    // `ipv4` in host byte order.
    bool allow(std::uint32_t ipv4, std::uint16_t port, const Sha1Digest& info_hash,
               Clock::time_point now) {
        return allow(boost::asio::ip::address_v4(ipv4), port, info_hash, now);
    }

    std::size_t tracked() const { return seen_.size(); }

  private:
    struct Key {
        std::array<unsigned char, 16> ip;  // IPv6, or IPv4-mapped IPv6
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
