// Peers announced to us (BEP 5 announce_peer), per info-hash, served in get_peers
// replies. Entries expire 30 minutes after their last announce. Bounded: at most
// max_peers_per_hash per info-hash (a newcomer replaces the oldest entry) and
// max_hashes info-hashes (announces for a new info-hash are refused when full).
#pragma once

#include <chrono>
#include <cstddef>
#include <unordered_map>
#include <vector>

#include "dht/parse/krpc.hpp"

namespace pw::dht {

class PeerStore {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::minutes lifetime{30};

    PeerStore(std::size_t max_peers_per_hash, std::size_t max_hashes)
        : max_peers_(max_peers_per_hash), max_hashes_(max_hashes) {}

    // False when refused (store full of other info-hashes).
    bool add(const Sha1Digest& info_hash, const Endpoint& peer, Clock::time_point now);
    // Up to `max` live peers for the info-hash, a random selection when there are more.
    std::vector<Endpoint> get(const Sha1Digest& info_hash, std::size_t max,
                                  Clock::time_point now) const;
    void expire(Clock::time_point now);

    std::size_t hash_count() const { return peers_.size(); }
    std::size_t peer_count() const;

  private:
    struct Entry {
        Endpoint peer;
        Clock::time_point added;
    };
    std::size_t max_peers_;
    std::size_t max_hashes_;
    std::unordered_map<Sha1Digest, std::vector<Entry>> peers_;
};

}  // namespace pw::dht
