// Stateless BEP 15 connection ids (see connection_id.hpp).
#include "tracker/server/connection_id.hpp"

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

std::array<std::uint8_t, 16> random_key() {
    std::array<std::uint8_t, 16> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
        throw std::runtime_error("cannot draw a random connection-id key");
    return key;
}
}  // namespace

ConnectionIds::ConnectionIds() : prf_(random_key()) {}

ConnectionIds::ConnectionIds(const std::array<std::uint8_t, 16>& key) : prf_(key) {}

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
    return prf_(msg, sizeof msg);
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
