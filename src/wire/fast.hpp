// BEP 6 (Fast Extension) allowed fast set: the canonical set of pieces a peer may
// download from us while we choke it. Pure: the same peer address (/24), info-hash and
// piece count always give the same pieces, so reconnecting earns a peer nothing new.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::wire {

// The BEP's algorithm: x = (ip & 0xffffff00) ++ info_hash; repeatedly x = SHA1(x) and
// take its five big-endian words modulo `num_pieces`, skipping repeats, until `k`
// pieces (at most `num_pieces`) are chosen. `ipv4` is in host order (127.0.0.1 is
// 0x7f000001). The BEP has no IPv6 form.
std::vector<std::uint32_t> allowed_fast_set(std::uint32_t ipv4, const Sha1Digest& info_hash,
                                            std::uint32_t num_pieces, std::uint32_t k);

}  // namespace pw::wire
