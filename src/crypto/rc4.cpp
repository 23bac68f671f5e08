#include "crypto/rc4.hpp"

#include <openssl/evp.h>
#include <openssl/provider.h>

#include <climits>
#include <new>
#include <utility>

namespace pw::crypto {

namespace {

// OpenSSL 3 keeps RC4 in the legacy provider. Loaded once, in a library context of our
// own; null when it is not installed (then every Rc4 uses Rc4Own).
EVP_CIPHER* openssl_rc4() {
    static EVP_CIPHER* cipher = []() -> EVP_CIPHER* {
        OSSL_LIB_CTX* lib = OSSL_LIB_CTX_new();
        if (!lib) return nullptr;
        if (!OSSL_PROVIDER_load(lib, "legacy") || !OSSL_PROVIDER_load(lib, "default"))
            return nullptr;
        return EVP_CIPHER_fetch(lib, "RC4", nullptr);
    }();
    return cipher;
}

}  // namespace

Rc4Own::Rc4Own(std::span<const std::uint8_t> key) {
    for (int k = 0; k < 256; ++k) s_[k] = static_cast<std::uint8_t>(k);
    std::uint8_t j = 0;
    for (int k = 0; k < 256; ++k) {
        j = static_cast<std::uint8_t>(j + s_[k] + (key.empty() ? 0 : key[k % key.size()]));
        std::swap(s_[k], s_[j]);
    }
}

void Rc4Own::process(const std::uint8_t* in, std::uint8_t* out, std::size_t n) {
    // Local copies of the indices let the compiler keep them in registers.
    std::uint8_t i = i_, j = j_;
    std::uint8_t* s = s_.data();
    for (std::size_t k = 0; k < n; ++k) {
        i = static_cast<std::uint8_t>(i + 1);
        const std::uint8_t si = s[i];
        j = static_cast<std::uint8_t>(j + si);
        const std::uint8_t sj = s[j];
        s[i] = sj;
        s[j] = si;
        out[k] = in[k] ^ s[static_cast<std::uint8_t>(si + sj)];
    }
    i_ = i;
    j_ = j;
}

Rc4::Rc4(std::span<const std::uint8_t> key, bool force_own) : own_(key) {
    EVP_CIPHER* c = force_own || key.empty() ? nullptr : openssl_rc4();
    if (!c) return;
    ctx_ = EVP_CIPHER_CTX_new();
    if (!ctx_) throw std::bad_alloc();
    unsigned int keylen = static_cast<unsigned int>(key.size());
    OSSL_PARAM params[] = {OSSL_PARAM_construct_uint("keylen", &keylen), OSSL_PARAM_END};
    if (EVP_EncryptInit_ex2(ctx_, c, nullptr, nullptr, params) != 1 ||
        EVP_EncryptInit_ex2(ctx_, nullptr, key.data(), nullptr, nullptr) != 1) {
        EVP_CIPHER_CTX_free(ctx_);
        ctx_ = nullptr;  // fall back to our own
    }
}

Rc4::~Rc4() {
    EVP_CIPHER_CTX_free(ctx_);
}

Rc4::Rc4(const Rc4& o) : own_(o.own_) {
    if (!o.ctx_) return;
    ctx_ = EVP_CIPHER_CTX_new();
    if (!ctx_ || EVP_CIPHER_CTX_copy(ctx_, o.ctx_) != 1) {
        EVP_CIPHER_CTX_free(ctx_);
        throw std::bad_alloc();
    }
}

Rc4& Rc4::operator=(const Rc4& o) {
    if (this != &o) {
        Rc4 tmp(o);
        *this = std::move(tmp);
    }
    return *this;
}

Rc4::Rc4(Rc4&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)), own_(o.own_) {}

Rc4& Rc4::operator=(Rc4&& o) noexcept {
    std::swap(ctx_, o.ctx_);
    own_ = o.own_;
    return *this;
}

void Rc4::discard(std::size_t n) {
    std::uint8_t junk[256];
    while (n > 0) {
        std::size_t k = std::min(n, sizeof junk);
        process(junk, k);
        n -= k;
    }
}

void Rc4::process(const std::uint8_t* in, std::uint8_t* out, std::size_t n) {
    if (!ctx_) return own_.process(in, out, n);
    while (n > 0) {
        int chunk = static_cast<int>(std::min<std::size_t>(n, INT_MAX / 2));
        int outl = 0;
        // RC4 is a stream cipher: it writes exactly `chunk` bytes and cannot fail once set up.
        EVP_EncryptUpdate(ctx_, out, &outl, in, chunk);
        in += chunk;
        out += chunk;
        n -= static_cast<std::size_t>(chunk);
    }
}

}  // namespace pw::crypto
