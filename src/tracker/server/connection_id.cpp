// Stateless BEP 15 connection ids (see connection_id.hpp).
#include "tracker/server/connection_id.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
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
}

ConnectionIds::ConnectionIds(const std::array<std::uint8_t, 32>& key) : key_(key) {}

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
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), msg, sizeof msg, out,
              &len) ||
        len < 8)
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
    const std::int64_t w = window_of(now);
    // Both MACs are computed so the time taken does not depend on which one matched.
    const std::uint64_t a = mac(client, w), b = mac(client, w - 1);
    return ((a ^ id) == 0) | ((b ^ id) == 0);
}

}  // namespace pw::tracker
