// XOR metric helpers (BEP 5) and IP-derived node ids (BEP 42).
#include "dht/node_id.hpp"

#include <openssl/rand.h>

#include <array>

#include "crypto/crc32c.hpp"

#include <stdexcept>

namespace pw::dht {

NodeId distance(const NodeId& a, const NodeId& b) {
    NodeId d;
    for (std::size_t i = 0; i < d.bytes.size(); ++i) d.bytes[i] = a.bytes[i] ^ b.bytes[i];
    return d;
}

bool closer(const NodeId& target, const NodeId& a, const NodeId& b) {
    for (std::size_t i = 0; i < target.bytes.size(); ++i) {
        std::uint8_t da = a.bytes[i] ^ target.bytes[i];
        std::uint8_t db = b.bytes[i] ^ target.bytes[i];
        if (da != db) return da < db;
    }
    return false;
}

int common_prefix_bits(const NodeId& a, const NodeId& b) {
    for (std::size_t i = 0; i < a.bytes.size(); ++i) {
        std::uint8_t x = a.bytes[i] ^ b.bytes[i];
        if (x != 0) return static_cast<int>(i) * 8 + __builtin_clz(x) - 24;
    }
    return 160;
}

NodeId random_node_id() {
    NodeId id;
    if (RAND_bytes(id.bytes.data(), static_cast<int>(id.bytes.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return id;
}

NodeId random_id_with_prefix(const NodeId& base, int bits, bool exact) {
    NodeId id = random_node_id();
    if (bits <= 0 && !exact) return id;
    if (bits > 160) bits = 160;
    for (int i = 0; i < bits; ++i) {
        std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (i % 8));
        id.bytes[i / 8] =
            static_cast<std::uint8_t>((id.bytes[i / 8] & ~mask) | (base.bytes[i / 8] & mask));
    }
    if (exact && bits < 160) {
        std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (bits % 8));
        id.bytes[bits / 8] = static_cast<std::uint8_t>((id.bytes[bits / 8] & ~mask) |
                                                       (~base.bytes[bits / 8] & mask));
    }
    return id;
}

std::uint32_t bep42_hash(std::string_view ip, std::uint8_t r) {
    static constexpr std::array<std::uint8_t, 4> v4_mask{0x03, 0x0f, 0x3f, 0xff};
    static constexpr std::array<std::uint8_t, 8> v6_mask{0x01, 0x03, 0x07, 0x0f,
                                                         0x1f, 0x3f, 0x7f, 0xff};
    std::size_t n;
    const std::uint8_t* mask;
    if (ip.size() == 4) {
        n = 4;
        mask = v4_mask.data();
    } else if (ip.size() == 16) {
        n = 8;
        mask = v6_mask.data();
    } else {
        return 0;
    }
    std::array<std::uint8_t, 8> buf{};
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::uint8_t>(ip[i]) & mask[i];
    buf[0] = static_cast<std::uint8_t>(buf[0] | ((r & 7) << 5));
    return crc32c(buf.data(), n);
}

NodeId bep42_node_id(std::string_view ip, std::uint8_t rand, const NodeId& fill) {
    std::uint32_t crc = bep42_hash(ip, rand & 7);
    NodeId id = fill;
    id.bytes[0] = static_cast<std::uint8_t>(crc >> 24);
    id.bytes[1] = static_cast<std::uint8_t>(crc >> 16);
    id.bytes[2] = static_cast<std::uint8_t>(((crc >> 8) & 0xf8) | (fill.bytes[2] & 0x07));
    id.bytes[19] = rand;
    return id;
}

NodeId bep42_random_node_id(std::string_view ip) {
    NodeId fill = random_node_id();
    return bep42_node_id(ip, fill.bytes[19], fill);
}

bool bep42_id_matches(const NodeId& id, std::string_view ip) {
    if (ip.size() != 4 && ip.size() != 16) return false;
    std::uint32_t crc = bep42_hash(ip, id.bytes[19] & 7);
    return id.bytes[0] == static_cast<std::uint8_t>(crc >> 24) &&
           id.bytes[1] == static_cast<std::uint8_t>(crc >> 16) &&
           (id.bytes[2] & 0xf8) == ((crc >> 8) & 0xf8);
}

bool bep42_exempt(std::string_view ip) {
    auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(ip[i]); };
    if (ip.size() == 4) {
        return b(0) == 10 || (b(0) == 172 && (b(1) & 0xf0) == 16) ||
               (b(0) == 192 && b(1) == 168) || (b(0) == 169 && b(1) == 254) || b(0) == 127;
    }
    if (ip.size() == 16) {
        bool loopback = b(15) == 1;
        for (std::size_t i = 0; i < 15 && loopback; ++i) loopback = b(i) == 0;
        return loopback || (b(0) == 0xfe && (b(1) & 0xc0) == 0x80) || (b(0) & 0xfe) == 0xfc;
    }
    return false;
}

bool bep42_valid(const NodeId& id, std::string_view ip) {
    return bep42_exempt(ip) || bep42_id_matches(id, ip);
}

}  // namespace pw::dht
