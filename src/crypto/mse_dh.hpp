// Diffie-Hellman key agreement of Message Stream Encryption (specs/mse.md, "Constants
// and functions"): the 768-bit MODP prime P, generator 2, a fresh 160-bit private key
// per connection; public keys and the shared secret S are 96 bytes, big-endian,
// left-padded. Pure computation (OpenSSL BIGNUM); the randomness comes from the caller.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

namespace pw::crypto {

constexpr std::size_t mse_key_size = 96;
using MseKey = std::array<std::uint8_t, mse_key_size>;

// Fills a buffer with random bytes. The default (an empty function) is OpenSSL's
// RAND_bytes; tests and the fuzz target pass a deterministic one.
using RandomFn = std::function<void(std::uint8_t*, std::size_t)>;
void random_bytes(const RandomFn& rnd, std::uint8_t* out, std::size_t n);

class MseDh {
  public:
    explicit MseDh(const RandomFn& rnd = {});
    const MseKey& public_key() const { return public_; }
    // S = peer^x mod P. nullopt when the peer's key is not in [2, P-2] (a degenerate key
    // would make S predictable).
    std::optional<MseKey> shared_secret(std::span<const std::uint8_t, mse_key_size> peer) const;

  private:
    std::array<std::uint8_t, 20> private_{};  // 160 bits
    MseKey public_{};
};

}  // namespace pw::crypto
