// XOR metric helpers (BEP 5).
#include "dht/node_id.hpp"

#include <openssl/rand.h>

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

}  // namespace pw::dht
