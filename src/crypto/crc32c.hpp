// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected, initial value and final XOR
// 0xFFFFFFFF: RFC 3720 appendix B.4), as BEP 42 uses it to tie DHT node ids to IP
// addresses. Pure and table-driven; crc32c("123456789") = 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pw {

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size);
std::uint32_t crc32c(std::string_view data);

}  // namespace pw
