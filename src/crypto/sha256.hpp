// SHA-256 (BEP 52: v2 info-hash and the Merkle trees of v2 file data) through OpenSSL's
// EVP interface, and the 32-byte digest type used for v2 roots and layer hashes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/sha1.hpp"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace pw {

struct Sha256Digest {
    std::array<std::uint8_t, 32> bytes{};
    auto operator<=>(const Sha256Digest&) const = default;
    std::string_view view() const {
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }
    std::string hex() const;
    // BEP 52: the v2 info-hash truncated to 20 bytes names the swarm on the wire, on
    // trackers and in the DHT.
    Sha1Digest truncated() const;
    static Sha256Digest from_bytes(std::string_view thirty_two);  // requires size 32
    static bool from_hex(std::string_view sixty_four, Sha256Digest& out);
};

namespace crypto {

// Incremental SHA-256; feed data in order, then finish().
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::string_view data) { update(data.data(), data.size()); }
    void update(const void* data, std::size_t len);
    Sha256Digest finish();  // the object can be reused after finish()

  private:
    EVP_MD_CTX* ctx_;
};

Sha256Digest sha256(std::string_view data);

}  // namespace crypto
}  // namespace pw
