// Which peer to evict when a torrent's peer slots are full and a new connection arrives.
//
// A peer that holds a slot without ever becoming useful must not make the torrent refuse
// new peers: the attack measured in issue 14 was 70 connections that sent a valid BEP 3
// handshake and then nothing, filling every slot for the length of a flood. The policy
// names, from facts the torrent keeps per peer and the clock, the peer to close in favour
// of the newcomer, or none (then the newcomer is refused, as before). Worst first:
//   1. silent: nothing at all received since the handshake (a real client sends its
//      bitfield, HAVE NONE or BEP 10 handshake right away), for `silent_after`;
//   2. useless: neither side interested, and no payload either way for `useless_after`
//      (a seed connected to a seed, a peer with nothing we want that wants nothing);
//   3. stale: no payload in either direction for `stale_after` although someone is
//      interested (choked forever on both sides).
// Within a class the one idle longest goes first. A peer younger than every threshold is
// never evicted, so a burst of newcomers cannot push out peers still starting up.
// Pure: no I/O; the caller passes durations measured on its own clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

namespace pw::swarm {

struct EvictionFacts {
    std::chrono::steady_clock::duration age{};  // since the handshake completed
    std::chrono::steady_clock::duration
        since_payload{};           // since a block moved either way (age if never)
    bool said_anything = false;    // a message (not a keep-alive) arrived after the handshake
    bool peer_interested = false;  // it is interested in us
    bool am_interested = false;    // we are interested in it
};

struct EvictionRules {
    std::chrono::seconds silent_after{5};
    std::chrono::seconds useless_after{60};
    std::chrono::seconds stale_after{300};
};

enum class EvictionClass { none, stale, useless, silent };

inline const char* eviction_reason(EvictionClass c) {
    switch (c) {
        case EvictionClass::silent:
            return "silent since its handshake";
        case EvictionClass::useless:
            return "neither side interested";
        case EvictionClass::stale:
            return "no payload for a long time";
        case EvictionClass::none:
            break;
    }
    return "";
}

// The class a peer falls in now (none: it must be kept).
inline EvictionClass classify(const EvictionFacts& f, const EvictionRules& r = {}) {
    if (!f.said_anything && f.age >= r.silent_after) return EvictionClass::silent;
    if (!f.peer_interested && !f.am_interested && f.age >= r.useless_after &&
        f.since_payload >= r.useless_after)
        return EvictionClass::useless;
    if (f.age >= r.stale_after && f.since_payload >= r.stale_after) return EvictionClass::stale;
    return EvictionClass::none;
}

struct EvictionChoice {
    std::size_t index = 0;  // into the facts given
    EvictionClass why = EvictionClass::none;
};

// The peer to evict, or nullopt when every peer is worth keeping.
inline std::optional<EvictionChoice> pick_eviction(std::span<const EvictionFacts> peers,
                                                   const EvictionRules& r = {}) {
    std::optional<EvictionChoice> best;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        auto c = classify(peers[i], r);
        if (c == EvictionClass::none) continue;
        if (!best || c > best->why ||
            (c == best->why && peers[i].since_payload > peers[best->index].since_payload))
            best = EvictionChoice{i, c};
    }
    return best;
}

}  // namespace pw::swarm
