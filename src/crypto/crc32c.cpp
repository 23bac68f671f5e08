// CRC-32C, byte-at-a-time with a 256-entry table (RFC 3720 appendix B.4).
#include "crypto/crc32c.hpp"

#include <array>

namespace pw {

namespace {
constexpr std::uint32_t reflected_poly = 0x82F63B78u;  // 0x1EDC6F41 bit-reversed

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ reflected_poly : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr auto table = make_table();
}  // namespace

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::uint32_t crc32c(std::string_view data) {
    return crc32c(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
}

}  // namespace pw
