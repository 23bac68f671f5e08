// BEP 15 connection ids, syn-cookie style: no state is kept per client. An id is a
// keyed MAC (SipHash-2-4, crypto/siphash.hpp, with a random 128-bit key drawn per
// process) over the client's address, port and the current one-minute window. An id
// is accepted in the window it was issued in and in the next one, so it stays valid
// for at least one and at most two minutes (BEP 15: clients use an id for one minute,
// trackers accept it for two). Ids cannot be forged without the key (SipHash is a
// PRF built for authenticating short messages), and an id issued to one address:port
// is refused from any other.
//
// The object is immutable after construction; any number of threads may use it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "crypto/siphash.hpp"
#include "tracker/server/swarm_store.hpp"

namespace pw::tracker {

class ConnectionIds {
  public:
    static constexpr std::chrono::seconds window{60};

    ConnectionIds();  // draws a random key (OpenSSL RAND_bytes); throws if it cannot
    explicit ConnectionIds(const std::array<std::uint8_t, 16>& key);

    // `now` is any monotonic time; only its one-minute window matters.
    std::uint64_t issue(const PeerEndpoint& client, Clock::time_point now) const;
    bool valid(const PeerEndpoint& client, std::uint64_t id, Clock::time_point now) const;

  private:
    std::uint64_t mac(const PeerEndpoint& client, std::int64_t window_index) const;
    crypto::SipHash24 prf_;
};

}  // namespace pw::tracker
