// Node ids and the XOR metric of Kademlia as used by the mainline DHT (BEP 5): ids are
// 160-bit strings, distance(a, b) = a XOR b read as an unsigned big-endian integer.
// Ids are random (BEP 42's IP-derived ids are not enforced: loopback and private
// addresses are exempt from it anyway).
#pragma once

#include <cstddef>

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

}  // namespace pw::dht
