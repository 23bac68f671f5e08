// The torrent's peer slots: its limit, and idle-peer eviction: when the slots are full, the
// peer that holds its slot most uselessly (swarm/eviction.hpp) is closed in favour of a
// newcomer.
#include <algorithm>
#include <vector>

#include "session/torrent.hpp"
#include "swarm/eviction.hpp"

namespace pw::session {

namespace {
// A newcomer that already talked (answered our handshake with a message) is worth more
// than a peer that has said nothing for 1 s: honest clients send their bitfield or BEP 10
// handshake within a round trip, so this ends a flood's hold on the slots at once.
swarm::EvictionRules rules_for(bool for_talker) {
    swarm::EvictionRules r;
    if (for_talker) r.silent_after = std::chrono::seconds(1);
    return r;
}
}  // namespace

int Torrent::live_peers() const {
    int n = 0;
    for (auto& p : peers_)
        if (!p->closed()) ++n;
    return n;
}

PeerConnection* Torrent::eviction_candidate(bool for_talker, const char** why) const {
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
    auto pick = swarm::pick_eviction(facts, rules_for(for_talker));
    if (!pick) return nullptr;
    if (why) *why = swarm::eviction_reason(pick->why);
    return who[pick->index];
}

int Torrent::peer_limit() const {
    return params_.max_peers > 0 ? params_.max_peers : ctx_.settings.max_peers_per_torrent;
}

std::vector<PeerConnection*> Torrent::live_peer_list() const {
    std::vector<PeerConnection*> live;
    for (auto& p : peers_)
        if (!p->closed()) live.push_back(p.get());
    return live;
}

void Torrent::set_peer_limit(int max_peers) {
    params_.max_peers = std::max(max_peers, 0);
    auto live = live_peer_list();
    int excess = static_cast<int>(live.size()) - peer_limit();
    if (excess <= 0) return;
    // Those longest without payload (or that never sent any) go first.
    std::stable_sort(live.begin(), live.end(), [](PeerConnection* a, PeerConnection* b) {
        return a->last_payload < b->last_payload;
    });
    for (int i = 0; i < excess; ++i) live[std::size_t(i)]->close("peer limit lowered");
}

bool Torrent::has_room() const {
    if (!accepting() || stopping_) return false;
    return live_peers() < peer_limit() + incoming_slack() ||
           eviction_candidate(false, nullptr) != nullptr;
}

bool Torrent::evict_idle_peer(bool for_talker) {
    const char* why = "";
    auto* p = eviction_candidate(for_talker, &why);
    if (!p) return false;
    p->close(std::string("evicted for a new peer: ") + why);
    return true;
}

}  // namespace pw::session
