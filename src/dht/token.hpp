// announce_peer write tokens (BEP 5): a token handed out in a get_peers reply proves,
// when it comes back in announce_peer, that the announcer receives packets at its IP.
// token = first 8 bytes of HMAC-SHA1(secret, IP bytes). The secret rotates every 5
// minutes and the previous one is still accepted, so a token is valid 5 to 10 minutes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace pw::dht {

class TokenIssuer {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::minutes rotation{5};

    explicit TokenIssuer(Clock::time_point now = Clock::now());

    // `ip` is the address's bytes (4 for IPv4, 16 for IPv6).
    std::string make(std::string_view ip) const;
    bool verify(std::string_view ip, std::string_view token) const;

    // Rotates when `rotation` has passed since the last rotation.
    void maybe_rotate(Clock::time_point now);
    // Rotates now: the current secret becomes the previous one.
    void rotate();

  private:
    static std::string mac(const std::array<std::uint8_t, 20>& secret, std::string_view ip);
    std::array<std::uint8_t, 20> current_{};
    std::array<std::uint8_t, 20> previous_{};
    Clock::time_point rotated_at_;
};

}  // namespace pw::dht
