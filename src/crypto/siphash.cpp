// SipHash-2-4 (see siphash.hpp).
#include "crypto/siphash.hpp"

#include <cstring>

namespace pw::crypto {

namespace {

std::uint64_t rotl(std::uint64_t x, int b) {
    return (x << b) | (x >> (64 - b));
}

std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

struct State {
    std::uint64_t v0, v1, v2, v3;
    void round() {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    }
    void compress(std::uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

}  // namespace

SipHash24::SipHash24(const std::array<std::uint8_t, 16>& key)
    : k0_(load_le64(key.data())), k1_(load_le64(key.data() + 8)) {}

std::uint64_t SipHash24::operator()(const void* data, std::size_t len) const {
    // Initialisation: the key xored with the constants "somepseudorandomlygeneratedbytes".
    State s{k0_ ^ 0x736f6d6570736575ULL, k1_ ^ 0x646f72616e646f6dULL,
            k0_ ^ 0x6c7967656e657261ULL, k1_ ^ 0x7465646279746573ULL};
    const auto* p = static_cast<const std::uint8_t*>(data);
    const std::size_t whole = len - len % 8;
    for (std::size_t i = 0; i < whole; i += 8) s.compress(load_le64(p + i));
    // The last word: the remaining bytes, zero-padded, with len mod 256 in its top byte.
    std::uint8_t tail[8] = {};
    std::memcpy(tail, p + whole, len - whole);
    tail[7] = static_cast<std::uint8_t>(len);
    s.compress(load_le64(tail));
    // Finalisation.
    s.v2 ^= 0xff;
    s.round();
    s.round();
    s.round();
    s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace pw::crypto
