// Idle-peer eviction: when the torrent's peer slots are full, the peer that holds its slot
// most uselessly (swarm/eviction.hpp) is closed in favour of a newcomer.
#include <vector>

#include "session/torrent.hpp"
#include "swarm/eviction.hpp"

namespace pw::session {

int Torrent::live_peers() const {
    int n = 0;
    for (auto& p : peers_)
        if (!p->closed()) ++n;
    return n;
}

bool Torrent::evict_idle_peer() {
    auto now = Clock::now();
    std::vector<swarm::EvictionFacts> facts;
    std::vector<PeerConnection*> who;
    facts.reserve(peers_.size());
    for (auto& p : peers_) {
        // Peers still exchanging handshakes (choke_id 0) are not in a slot's steady state
        // yet; the connection's own handshake timeout deals with them.
        if (p->closed() || p->choke_id == 0) continue;
        swarm::EvictionFacts f;
        f.age = now - p->connected_at;
        f.since_payload = p->last_payload == Clock::time_point{} ? f.age : now - p->last_payload;
        f.said_anything = p->messages_in > 0;
        f.peer_interested = p->peer_interested;
        f.am_interested = p->am_interested;
        facts.push_back(f);
        who.push_back(p.get());
    }
    auto pick = swarm::pick_eviction(facts);
    if (!pick) return false;
    who[pick->index]->close(std::string("evicted for a new peer: ") +
                            swarm::eviction_reason(pick->why));
    return true;
}

}  // namespace pw::session
