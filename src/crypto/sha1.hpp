// SHA-1 (BEP 3 piece hashes and info-hash) and SHA-256 through OpenSSL's EVP interface.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace pw {

struct Sha1Digest {
    std::array<std::uint8_t, 20> bytes{};
    auto operator<=>(const Sha1Digest&) const = default;
    std::string_view view() const {
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }
    std::string hex() const;
    static Sha1Digest from_bytes(std::string_view twenty);  // requires size 20
    static bool from_hex(std::string_view forty, Sha1Digest& out);
};

namespace crypto {

// Incremental SHA-1; feed blocks in order, then finish().
class Sha1 {
public:
    Sha1();
    ~Sha1();
    Sha1(const Sha1&) = delete;
    Sha1& operator=(const Sha1&) = delete;
    void update(std::string_view data);
    void update(const void* data, std::size_t len);
    Sha1Digest finish();  // the object can be reused after finish()

private:
    EVP_MD_CTX* ctx_;
};

Sha1Digest sha1(std::string_view data);

}  // namespace crypto
}  // namespace pw

template <>
struct std::hash<pw::Sha1Digest> {
    std::size_t operator()(const pw::Sha1Digest& d) const noexcept {
        std::size_t h;
        static_assert(sizeof(h) <= 20);
        __builtin_memcpy(&h, d.bytes.data(), sizeof(h));
        return h;
    }
};
