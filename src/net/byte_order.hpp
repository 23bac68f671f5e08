// Big-endian ("network byte order") integers in byte strings: the fixed-width fields of
// peer wire messages (BEP 3, BEP 52 hash messages), uTP headers (BEP 29), UDP tracker
// packets (BEP 15), MSE's pad lengths and NAT-PMP / PCP messages (RFC 6886, RFC 6887).
// Readers take a pointer, or a view and an offset; they do not check bounds: callers
// check the size first. Writers append to a std::string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pw::net {

inline std::uint16_t get_be16(const void* at) {
    auto p = static_cast<const unsigned char*>(at);
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t get_be32(const void* at) {
    auto p = static_cast<const unsigned char*>(at);
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

inline std::uint64_t get_be64(const void* at) {
    auto p = static_cast<const unsigned char*>(at);
    return (std::uint64_t{get_be32(p)} << 32) | get_be32(p + 4);
}

inline std::uint16_t get_be16(std::string_view d, std::size_t offset) {
    return get_be16(d.data() + offset);
}
inline std::uint32_t get_be32(std::string_view d, std::size_t offset) {
    return get_be32(d.data() + offset);
}
inline std::uint64_t get_be64(std::string_view d, std::size_t offset) {
    return get_be64(d.data() + offset);
}

inline void put_be16(std::string& out, std::uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 2);
}

inline void put_be32(std::string& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 4);
}

inline void put_be64(std::string& out, std::uint64_t v) {
    put_be32(out, static_cast<std::uint32_t>(v >> 32));
    put_be32(out, static_cast<std::uint32_t>(v));
}

}  // namespace pw::net
