// RC4 stream cipher, as used by Message Stream Encryption (specs/mse.md: the Vuze
// "Message_Stream_Encryption" protocol, "Constants and functions").
//
// Two implementations behind one value type: OpenSSL's RC4 from its legacy provider
// (loaded once into a library context of our own, so the default context is untouched)
// and our own few-line one, used when the legacy provider cannot be loaded.
// bench/micro/rc4.cpp measures both: OpenSSL's was ~8% faster on 16 KiB blocks (about
// 750 vs 690 MB/s on the benchmark machine), so it is the one used when available.
// Rc4 is copyable (a copy continues the same keystream independently): the MSE
// initiator looks ahead in the keystream to find the encrypted VC.
// RC4 is weak; MSE uses it against traffic shaping, not for secrecy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace pw::crypto {

// Our own RC4 (the fallback, and the reference for the tests).
class Rc4Own {
  public:
    explicit Rc4Own(std::span<const std::uint8_t> key);
    // out[k] = in[k] ^ keystream; in and out may be the same buffer.
    void process(const std::uint8_t* in, std::uint8_t* out, std::size_t n);

  private:
    std::array<std::uint8_t, 256> s_;
    std::uint8_t i_ = 0, j_ = 0;
};

class Rc4 {
  public:
    // force_own: use our implementation even when OpenSSL's is available (tests, bench).
    explicit Rc4(std::span<const std::uint8_t> key, bool force_own = false);
    ~Rc4();
    Rc4(const Rc4& o);
    Rc4& operator=(const Rc4& o);
    Rc4(Rc4&& o) noexcept;
    Rc4& operator=(Rc4&& o) noexcept;

    // Advances the keystream by n bytes (MSE drops the first 1024).
    void discard(std::size_t n);
    // XORs the keystream into data (encrypts or decrypts in place).
    void process(std::uint8_t* data, std::size_t n) { process(data, data, n); }
    void process(char* data, std::size_t n) { process(reinterpret_cast<std::uint8_t*>(data), n); }
    void process(const std::uint8_t* in, std::uint8_t* out, std::size_t n);
    bool uses_openssl() const { return ctx_ != nullptr; }

  private:
    EVP_CIPHER_CTX* ctx_ = nullptr;  // OpenSSL's RC4, or null: own_
    Rc4Own own_;
};

}  // namespace pw::crypto
