// Super-seeding (BEP 16) in a torrent: with AddTorrentParams::super_seeding, a peer that
// connects while we have every piece is told we have nothing (HAVE NONE under the fast
// extension, BEP 6; otherwise no bitfield at all) and no allowed fast set, then sent a
// HAVE for each piece offered to it (swarm/super_seed.hpp decides which and when).
// Requests for pieces it was never told of are refused like requests for pieces we lack.
//
// Connections made before the torrent became a seed keep the ordinary exchange: they have
// seen our HAVEs already.
#include <algorithm>

#include "session/torrent.hpp"

namespace pw::session {

void Torrent::super_seed_intro(PeerConnection& p) {
    if (!super_seed_) super_seed_ = std::make_unique<swarm::SuperSeed>(meta_.num_pieces());
    p.super_seed = true;
    p.super_told = swarm::Bitfield(meta_.num_pieces());
    if (p.fast) p.send_simple(wire::MsgId::have_none);
    super_seed_fill(p);
}

void Torrent::super_seed_fill(PeerConnection& p) {
    if (!p.super_seed || p.closed() || !super_seed_) return;
    auto another_lacks = [&](std::uint32_t piece) {
        for (auto& q : peers_)
            if (q.get() != &p && !q->closed() && q->choke_id != 0 && !q->seed &&
                !q->has.get(static_cast<int>(piece)))
                return true;
        return false;
    };
    std::erase_if(p.super_offers, [&](std::uint32_t piece) {
        int i = static_cast<int>(piece);
        if (!swarm::SuperSeed::used_up(p.has.get(i), picker_.availability(i), another_lacks(piece)))
            return false;
        super_seed_->withdrawn(i);
        return true;
    });
    while (p.super_offers.size() < static_cast<std::size_t>(swarm::SuperSeed::slots)) {
        int piece = super_seed_->pick(
            have_, p.has, p.super_offers, [&](int i) { return picker_.availability(i); }, rng_());
        if (piece < 0) break;
        super_seed_->offered(piece);
        p.super_offers.push_back(static_cast<std::uint32_t>(piece));
        p.super_told.set(piece);
        p.send_have(static_cast<std::uint32_t>(piece));
    }
}

void Torrent::super_seed_peer_pieces(PeerConnection& p) {
    if (!super_seed_) return;
    // Offers made before its bitfield came that it turns out to have are not its to pass
    // on: we never sent them. They are withdrawn at once.
    if (p.super_seed)
        std::erase_if(p.super_offers, [&](std::uint32_t piece) {
            if (!p.has.get(static_cast<int>(piece))) return false;
            super_seed_->withdrawn(static_cast<int>(piece));
            return true;
        });
    super_seed_refill_all();
}

void Torrent::super_seed_refill_all() {
    if (!super_seed_) return;
    for (auto& q : std::vector(peers_))
        if (q->super_seed) super_seed_fill(*q);
}

void Torrent::super_seed_piece_changed(int piece) {
    if (!super_seed_ || super_seed_->offers(piece) == 0) return;
    auto u = static_cast<std::uint32_t>(piece);
    for (auto& q : std::vector(peers_))
        if (q->super_seed && std::find(q->super_offers.begin(), q->super_offers.end(), u) !=
                                 q->super_offers.end())
            super_seed_fill(*q);
}

void Torrent::super_seed_closed(PeerConnection& p) {
    if (!p.super_seed || !super_seed_) return;
    for (auto piece : p.super_offers) super_seed_->withdrawn(static_cast<int>(piece));
    p.super_offers.clear();
    p.super_seed = false;
}

}  // namespace pw::session
