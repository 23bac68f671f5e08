// The tracker's in-memory peer store: per info-hash, the peers that announced it
// (BEP 3), keyed by (address, port), with seeder/leecher counts and a completed
// counter for scrapes (BEP 48). No I/O, no clock of its own: callers pass the time.
//
// Contract:
// - A peer is (address, port). Its entry holds the last peer_id, bytes left and the
//   time of its last announce; it is a seeder when left == 0.
// - event=stopped removes the peer; event=completed increments `downloaded` once per
//   announce carrying it.
// - sweep(now) drops peers not seen for `peer_ttl`, then torrents left empty.
// - Memory is bounded: at most max_torrents torrents, max_peers_per_torrent peers in
//   one torrent, max_peers peers in all. An announce that would create a torrent past
//   the cap fails; a new peer past a peer cap is answered but not stored.
// - Replies hold at most max_numwant peers, chosen at random, never the requester.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/sha1.hpp"
#include "tracker/parse/announce.hpp"
#include "wire/messages.hpp"

namespace pw::tracker {

using Clock = std::chrono::steady_clock;

// An IPv4 or IPv6 address and a port, as raw network-order bytes.
struct PeerEndpoint {
    std::array<std::uint8_t, 16> addr{};  // IPv4: the first 4 bytes, the rest zero
    bool v6 = false;
    std::uint16_t port = 0;
    // Port first: peers of one swarm mostly differ there, and the check is the inner
    // loop of choosing peers for a reply.
    bool operator==(const PeerEndpoint& o) const {
        return port == o.port && v6 == o.v6 && addr == o.addr;
    }

    static PeerEndpoint v4_of(const std::array<std::uint8_t, 4>& a, std::uint16_t port);
    static PeerEndpoint v6_of(const std::array<std::uint8_t, 16>& a, std::uint16_t port);
    std::string address_text() const;  // "1.2.3.4" or "::1"
};

struct PeerEndpointHash {
    std::size_t operator()(const PeerEndpoint& e) const noexcept;
};

struct StoreLimits {
    std::size_t max_torrents = 100'000;
    std::size_t max_peers_per_torrent = 50'000;
    std::size_t max_peers = 1'000'000;
    int max_numwant = 200;
    int default_numwant = 50;
};

struct StoreAnnounce {
    Sha1Digest info_hash;
    wire::PeerId peer_id{};
    PeerEndpoint endpoint;  // source address + announced port
    std::int64_t left = 0;
    Event event = Event::none;
    int numwant = -1;  // -1: default_numwant
    // Whether to return peers of the other address family too (HTTP replies can carry
    // both lists; a BEP 15 reply carries only the requester's family).
    bool both_families = true;
    bool peer_ids = true;  // fill ReplyPeer::peer_id (only non-compact HTTP replies use it)
};

struct ReplyPeer {
    PeerEndpoint endpoint;
    wire::PeerId peer_id{};
};

struct SwarmCounts {
    std::uint32_t complete = 0;    // seeders
    std::uint32_t incomplete = 0;  // leechers
    std::uint32_t downloaded = 0;  // completed events seen
};

struct StoreReply {
    std::string failure;  // non-empty: the announce was refused
    SwarmCounts counts;
    std::vector<ReplyPeer> peers;  // requester's family first
};

struct StoreTotals {
    std::size_t torrents = 0;
    std::size_t seeders = 0;
    std::size_t leechers = 0;
};

class SwarmStore {
  public:
    SwarmStore(StoreLimits limits, Clock::duration peer_ttl, std::uint64_t seed);

    StoreReply announce(const StoreAnnounce& a, Clock::time_point now);
    // The same, into `reply` (cleared first; its peer vector keeps its capacity, so a
    // caller that reuses one reply allocates nothing per announce).
    void announce(const StoreAnnounce& a, Clock::time_point now, StoreReply& reply);
    // Counts of a torrent; zeros when unknown.
    SwarmCounts scrape(const Sha1Digest& info_hash) const;
    // Up to `max` torrents with their counts, in no particular order.
    std::vector<std::pair<Sha1Digest, SwarmCounts>> scrape_all(std::size_t max) const;
    // Drops expired peers and empty torrents; returns the number of peers dropped.
    std::size_t sweep(Clock::time_point now);

    StoreTotals totals() const;
    void set_peer_ttl(Clock::duration ttl) { peer_ttl_ = ttl; }
    const StoreLimits& limits() const { return limits_; }

  private:
    struct Peer {  // its endpoint is PeerList::endpoints[i]
        wire::PeerId peer_id{};
        std::int64_t left = 0;
        Clock::time_point last_seen;
        bool seed() const { return left == 0; }
    };
    // Peers of one family in a vector (cheap random picks, swap-remove) with an index.
    // endpoints[i] is peers[i]'s (address, port), kept apart and dense: choosing peers
    // for a reply and finding a small swarm's requester read 20 bytes a peer, not a Peer
    // (a reply of 50 peers touches 16 cache lines instead of 50; swarms are many and
    // picked at random, so their peers are mostly not in the cache).
    struct PeerList {
        std::vector<Peer> peers;
        std::vector<PeerEndpoint> endpoints;
        std::unordered_map<PeerEndpoint, std::size_t, PeerEndpointHash> index;
        static constexpr std::size_t scan_below = 64;  // smaller lists are searched in order
        std::size_t find(const PeerEndpoint& e) const;  // peers.size() when absent
        void add(const PeerEndpoint& e, Peer p);
        void remove_at(std::size_t i);
    };
    struct Swarm {
        PeerList v4, v6;
        std::uint32_t seeders = 0;
        std::uint32_t downloaded = 0;
        std::size_t size() const { return v4.peers.size() + v6.peers.size(); }
    };

    void remove_peer(Swarm& s, PeerList& list, std::size_t i);
    void pick(const PeerList& list, const PeerEndpoint& self, std::size_t want, bool peer_ids,
              std::vector<ReplyPeer>& out);
    static SwarmCounts counts_of(const Swarm& s);

    StoreLimits limits_;
    Clock::duration peer_ttl_;
    std::unordered_map<Sha1Digest, Swarm> swarms_;
    std::size_t total_peers_ = 0;
    std::size_t total_seeders_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace pw::tracker
