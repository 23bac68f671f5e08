// Node ids and the XOR metric of Kademlia as used by the mainline DHT (BEP 5): ids are
// 160-bit strings, distance(a, b) = a XOR b read as an unsigned big-endian integer.
//
// BEP 42 (DHT security extension) ties an id to its node's external IP address: the
// first 21 bits of the id are the top 21 bits of
//   crc32c((ip & 0x030f3fff) | (r << 29))               (IPv4, the 4 address bytes)
//   crc32c((ip & 0x0103070f1f3f7fff) | (r << 61))       (IPv6, the high 8 address bytes)
// hashed big-endian, where r = the id's last byte & 7. The functions below derive such
// ids and check them. Addresses of local networks are exempt from the check (BEP 42's
// list: 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8; for IPv6, as libtorrent: ::1,
// fe80::/10 link-local and fc00::/7 unique local). Pure; `ip` is always the 4 (IPv4)
// or 16 (IPv6) address bytes in network order, as Endpoint::ip_bytes() gives them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dht/parse/krpc.hpp"

namespace pw::dht {

NodeId distance(const NodeId& a, const NodeId& b);

// True if a is strictly closer to target than b.
bool closer(const NodeId& target, const NodeId& a, const NodeId& b);

// Number of leading bits a and b share (0..160).
int common_prefix_bits(const NodeId& a, const NodeId& b);

// A random id from OpenSSL's generator.
NodeId random_node_id();

// A random id that shares exactly `bits` leading bits with `base` (bits < 160), or,
// with exact=false, at least `bits` leading bits.
NodeId random_id_with_prefix(const NodeId& base, int bits, bool exact);

// ---- BEP 42 ----

// The CRC32C of the masked address with r (0..7) in its top bits; ip of another size: 0.
std::uint32_t bep42_hash(std::string_view ip, std::uint8_t r);

// The id BEP 42 gives `ip` for the random byte `rand` (the id's last byte; r = rand & 7):
// 21 bits from bep42_hash, the other bits of bytes 2..18 taken from `fill`.
NodeId bep42_node_id(std::string_view ip, std::uint8_t rand, const NodeId& fill);
// The same with random `rand` and fill.
NodeId bep42_random_node_id(std::string_view ip);

// Whether id's first 21 bits match bep42_hash(ip, id's last byte & 7); no exemption.
bool bep42_id_matches(const NodeId& id, std::string_view ip);
// Whether ip is on a local network, exempt from the check (see above).
bool bep42_exempt(std::string_view ip);
// What the DHT enforces: exempt, or the id matches.
bool bep42_valid(const NodeId& id, std::string_view ip);

}  // namespace pw::dht
