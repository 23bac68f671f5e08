#include "crypto/sha1.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace pw {

std::string Sha1Digest::hex() const {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(40);
    for (auto b : bytes) {
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

Sha1Digest Sha1Digest::from_bytes(std::string_view twenty) {
    Sha1Digest out;
    if (twenty.size() == 20) std::memcpy(out.bytes.data(), twenty.data(), 20);
    return out;
}

bool Sha1Digest::from_hex(std::string_view s, Sha1Digest& out) {
    if (s.size() != 40) return false;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (int i = 0; i < 20; ++i) {
        int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

namespace crypto {

Sha1::Sha1() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha1(), nullptr) != 1) throw std::bad_alloc();
}

Sha1::~Sha1() { EVP_MD_CTX_free(ctx_); }

void Sha1::update(std::string_view data) { update(data.data(), data.size()); }

void Sha1::update(const void* data, std::size_t len) { EVP_DigestUpdate(ctx_, data, len); }

Sha1Digest Sha1::finish() {
    Sha1Digest d;
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, d.bytes.data(), &len);
    EVP_DigestInit_ex(ctx_, EVP_sha1(), nullptr);
    return d;
}

Sha1Digest sha1(std::string_view data) {
    Sha1 h;
    h.update(data);
    return h.finish();
}

}  // namespace crypto
}  // namespace pw
