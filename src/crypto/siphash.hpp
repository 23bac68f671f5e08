// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a
// keyed pseudorandom function with a 128-bit key and a 64-bit output, built for
// authenticating short messages. Two compression rounds per 8-byte word, four
// finalisation rounds, words read little-endian, the message length's low byte in the
// top byte of the last word, as the paper specifies.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pw::crypto {

class SipHash24 {
  public:
    // The key as 16 bytes; k0 is bytes 0..7 and k1 bytes 8..15, little-endian.
    explicit SipHash24(const std::array<std::uint8_t, 16>& key);
    std::uint64_t operator()(const void* data, std::size_t len) const;

  private:
    std::uint64_t k0_ = 0, k1_ = 0;
};

}  // namespace pw::crypto
