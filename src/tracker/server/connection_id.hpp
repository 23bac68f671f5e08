// BEP 15 connection ids, syn-cookie style: no state is kept per client. An id is a
// keyed MAC (HMAC-SHA256 truncated to 64 bits, with a random key drawn per process)
// over the client's address, port and the current one-minute window. An id is
// accepted in the window it was issued in and in the next one, so it stays valid for
// at least one and at most two minutes (BEP 15: clients use an id for one minute,
// trackers accept it for two). Ids cannot be forged without the key, and an id issued
// to one address:port is refused from any other.
//
// The keyed HMAC context is made once and reused, so an object serves one thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>

#include "tracker/server/swarm_store.hpp"

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace pw::tracker {

class ConnectionIds {
  public:
    static constexpr std::chrono::seconds window{60};

    ConnectionIds();  // draws a random key (OpenSSL RAND_bytes); throws if it cannot
    explicit ConnectionIds(const std::array<std::uint8_t, 32>& key);
    ~ConnectionIds();
    ConnectionIds(const ConnectionIds&) = delete;
    ConnectionIds& operator=(const ConnectionIds&) = delete;

    // `now` is any monotonic time; only its one-minute window matters.
    std::uint64_t issue(const PeerEndpoint& client, Clock::time_point now) const;
    bool valid(const PeerEndpoint& client, std::uint64_t id, Clock::time_point now) const;

  private:
    void init_mac();
    std::uint64_t mac(const PeerEndpoint& client, std::int64_t window_index) const;
    std::array<std::uint8_t, 32> key_{};
    EVP_MAC_CTX* ctx_ = nullptr;  // HMAC-SHA256 keyed with key_
};

}  // namespace pw::tracker
