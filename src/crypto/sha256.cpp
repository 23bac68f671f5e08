#include "crypto/sha256.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <new>

namespace pw {

std::string Sha256Digest::hex() const {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(64);
    for (auto b : bytes) {
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

Sha1Digest Sha256Digest::truncated() const {
    Sha1Digest out;
    std::memcpy(out.bytes.data(), bytes.data(), 20);
    return out;
}

Sha256Digest Sha256Digest::from_bytes(std::string_view s) {
    Sha256Digest out;
    if (s.size() == 32) std::memcpy(out.bytes.data(), s.data(), 32);
    return out;
}

bool Sha256Digest::from_hex(std::string_view s, Sha256Digest& out) {
    if (s.size() != 64) return false;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (int i = 0; i < 32; ++i) {
        int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

namespace crypto {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(ctx_);
}

void Sha256::update(const void* data, std::size_t len) {
    EVP_DigestUpdate(ctx_, data, len);
}

Sha256Digest Sha256::finish() {
    Sha256Digest d;
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, d.bytes.data(), &len);
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
    return d;
}

Sha256Digest sha256(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

}  // namespace crypto
}  // namespace pw
