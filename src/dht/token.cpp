// Write tokens (BEP 5 "get_peers" / "announce_peer").
#include "dht/token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace pw::dht {

namespace {
void fill_random(std::array<std::uint8_t, 20>& a) {
    if (RAND_bytes(a.data(), static_cast<int>(a.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
}
constexpr std::size_t token_size = 8;
}  // namespace

TokenIssuer::TokenIssuer(Clock::time_point now) : rotated_at_(now) {
    fill_random(current_);
    fill_random(previous_);
}

std::string TokenIssuer::mac(const std::array<std::uint8_t, 20>& secret, std::string_view ip) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(ip.data()), ip.size(), out, &len) ||
        len < token_size)
        throw std::runtime_error("HMAC-SHA1 failed");
    return std::string(reinterpret_cast<const char*>(out), token_size);
}

std::string TokenIssuer::make(std::string_view ip) const {
    return mac(current_, ip);
}

bool TokenIssuer::verify(std::string_view ip, std::string_view token) const {
    if (token.size() != token_size) return false;
    std::string a = mac(current_, ip), b = mac(previous_, ip);
    return CRYPTO_memcmp(a.data(), token.data(), token_size) == 0 ||
           CRYPTO_memcmp(b.data(), token.data(), token_size) == 0;
}

void TokenIssuer::maybe_rotate(Clock::time_point now) {
    if (now - rotated_at_ < rotation) return;
    rotate();
    rotated_at_ = now;
}

void TokenIssuer::rotate() {
    previous_ = current_;
    fill_random(current_);
}

}  // namespace pw::dht
