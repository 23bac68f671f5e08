// Stateless BEP 15 connection ids (see connection_id.hpp).
#include "tracker/server/connection_id.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace pw::tracker {

namespace {
std::int64_t window_of(Clock::time_point t) {
    using std::chrono::duration_cast;
    auto s = duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    // Floor division: steady_clock may be negative on some systems.
    const auto w = ConnectionIds::window.count();
    return s >= 0 ? s / w : -((-s + w - 1) / w);
}
}  // namespace

ConnectionIds::ConnectionIds() {
    if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
        throw std::runtime_error("cannot draw a random connection-id key");
    init_mac();
}

ConnectionIds::ConnectionIds(const std::array<std::uint8_t, 32>& key) : key_(key) {
    init_mac();
}

ConnectionIds::~ConnectionIds() {
    EVP_MAC_CTX_free(ctx_);
}

void ConnectionIds::init_mac() {
    EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (hmac) ctx_ = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);  // the context keeps its own reference
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (!ctx_ || EVP_MAC_init(ctx_, key_.data(), key_.size(), params) != 1) {
        EVP_MAC_CTX_free(ctx_);
        throw std::runtime_error("cannot set up HMAC-SHA256");
    }
}

std::uint64_t ConnectionIds::mac(const PeerEndpoint& client, std::int64_t window_index) const {
    // Message: window (8 bytes) | family (1) | address (16) | port (2).
    std::uint8_t msg[27];
    for (int i = 0; i < 8; ++i)
        msg[i] =
            static_cast<std::uint8_t>(static_cast<std::uint64_t>(window_index) >> (56 - 8 * i));
    msg[8] = client.v6 ? 6 : 4;
    std::memcpy(msg + 9, client.addr.data(), 16);
    msg[25] = static_cast<std::uint8_t>(client.port >> 8);
    msg[26] = static_cast<std::uint8_t>(client.port);
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    // A null key re-initialises the context with the key it already holds.
    if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(ctx_, msg, sizeof msg) != 1 ||
        EVP_MAC_final(ctx_, out, &len, sizeof out) != 1 || len < 8)
        throw std::runtime_error("HMAC-SHA256 failed");
    std::uint64_t id;
    std::memcpy(&id, out, 8);
    return id;
}

std::uint64_t ConnectionIds::issue(const PeerEndpoint& client, Clock::time_point now) const {
    return mac(client, window_of(now));
}

bool ConnectionIds::valid(const PeerEndpoint& client, std::uint64_t id,
                          Clock::time_point now) const {
    // Which window matched may show in the timing; the key does not.
    const std::int64_t w = window_of(now);
    return mac(client, w) == id || mac(client, w - 1) == id;
}

}  // namespace pw::tracker
