// BEP 52 peer messages for Merkle hashes: `hash request` (id 21), `hashes` (22) and
// `hash reject` (23). Pure: payload bytes in, structs out; structs in, whole messages
// (length prefix and id included) out.
//
// A request names a file by its pieces root and asks for `length` hashes of the layer
// `base layer` levels above the 16 KiB leaves, starting at `index`, plus enough uncle
// hashes to prove them against the root: of the `proof layers` ancestor layers the first
// log2(length) - 1 are implied by the hashes themselves and omitted. `length` is a power
// of two >= 2 and `index` a multiple of it, so at most one uncle per layer is needed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.hpp"

namespace pw::wire {

// Bounds on what a peer may ask for. BEP 52 says a length SHOULD NOT exceed 512; we
// accept up to 8192 from others (and send at most 512). A tree has at most 64 levels.
inline constexpr std::uint32_t kMaxHashCount = 8192;
inline constexpr std::uint32_t kMaxTreeLevels = 64;
inline constexpr std::size_t kHashRequestPayload = 32 + 4 * 4;  // root, base, index, length, proof

struct HashRequest {
    Sha256Digest pieces_root;
    std::uint32_t base = 0;    // layers above the leaves
    std::uint32_t index = 0;   // first hash, in hashes of the base layer
    std::uint32_t length = 0;  // number of base-layer hashes
    std::uint32_t proof_layers = 0;
    auto operator<=>(const HashRequest&) const = default;
};

// How many uncle hashes follow the `length` base hashes in a `hashes` message:
// proof_layers minus the log2(length) - 1 layers the hashes themselves imply (>= 0).
std::uint32_t uncle_count(std::uint32_t length, std::uint32_t proof_layers);

// Why a request's numbers are out of bounds, or nullptr if they are in bounds: length a
// power of two in [2, kMaxHashCount], index a multiple of length, base and proof layers
// below kMaxTreeLevels, base + proof layers < kMaxTreeLevels.
const char* check_hash_request(const HashRequest& r);

struct HashesMsg {
    HashRequest req;
    std::vector<Sha256Digest> hashes;  // req.length base hashes, then the uncles (closest to the root last)
};

// Decodes the payload (after the id byte) of a `hash request` or `hash reject`.
// Returns false and sets `why` when it is not exactly 48 bytes or out of bounds.
bool decode_hash_request(std::string_view payload, HashRequest& out, const char*& why);
// Decodes the payload of a `hashes` message: the request fields, then exactly
// length + uncle_count(length, proof_layers) hashes.
bool decode_hashes(std::string_view payload, HashesMsg& out, const char*& why);

// Encoders append one whole message (prefix and id included) to `out`.
void put_hash_request(std::string& out, const HashRequest& r);
void put_hash_reject(std::string& out, const HashRequest& r);
void put_hashes(std::string& out, const HashRequest& r, const std::vector<Sha256Digest>& hashes);

}  // namespace pw::wire
