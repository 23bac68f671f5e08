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
    super_seed_fill(p, super_seed_leechers());
}

int Torrent::super_seed_leechers() const {
    // Counted as the picker counts: peers_ holds a peer until on_closed takes its pieces
    // out of the picker, so closed ones still count here.
    int n = 0;
    for (auto& q : peers_)
        if (q->choke_id != 0 && !q->seed) ++n;
    return n;
}

void Torrent::super_seed_fill(PeerConnection& p, int leechers) {
    if (!p.super_seed || p.closed() || !super_seed_) return;
    const int seeds = picker_.seeds();
    const bool p_counted = p.choke_id != 0 && !p.seed;
    // Other leechers that lack piece i: the leechers, less those that announced it (the
    // picker's count without seeds), less `p` itself when it lacks it. O(1) a piece, so
    // that a close or a bitfield costs O(peers) and not O(peers^2).
    auto another_lacks = [&](int i) {
        int lacking = leechers - (picker_.availability(i) - seeds);
        if (p_counted && !p.has.get(i)) --lacking;
        return lacking > 0;
    };
    std::erase_if(p.super_offers, [&](const swarm::SuperOffer& o) {
        int i = static_cast<int>(o.piece());
        bool announced = p.has.get(i);
        bool got = announced || o.all_sent();
        int elsewhere = picker_.availability(i) - (announced ? 1 : 0);
        if (!swarm::SuperSeed::used_up(got, elsewhere, another_lacks(i))) return false;
        super_seed_->withdrawn(i);
        return true;
    });
    std::vector<std::uint32_t> held;
    for (auto& o : p.super_offers) held.push_back(o.piece());
    const bool others = leechers - (p_counted ? 1 : 0) > 0;
    while (held.size() < static_cast<std::size_t>(swarm::SuperSeed::slots_for(others))) {
        int piece = super_seed_->pick(
            have_, p.has, held, [&](int i) { return picker_.availability(i); }, rng_());
        if (piece < 0) break;
        super_seed_->offered(piece);
        p.super_offers.emplace_back(static_cast<std::uint32_t>(piece), meta_.piece_size(piece));
        held.push_back(static_cast<std::uint32_t>(piece));
        p.super_told.set(piece);
        p.send_have(static_cast<std::uint32_t>(piece));
    }
}

void Torrent::super_seed_sent(PeerConnection& p, std::uint32_t piece, std::uint32_t begin,
                              std::uint32_t length) {
    if (!p.super_seed) return;
    for (auto& o : p.super_offers)
        if (o.piece() == piece) {
            if (o.sent(begin, length)) super_seed_fill(p, super_seed_leechers());
            return;
        }
}

void Torrent::super_seed_peer_pieces(PeerConnection& p) {
    if (!super_seed_) return;
    // Offers made before its bitfield came that it turns out to have are not its to pass
    // on: we never sent them. They are withdrawn at once.
    if (p.super_seed)
        std::erase_if(p.super_offers, [&](const swarm::SuperOffer& o) {
            if (!p.has.get(static_cast<int>(o.piece()))) return false;
            super_seed_->withdrawn(static_cast<int>(o.piece()));
            return true;
        });
    super_seed_refill_all();
}

void Torrent::super_seed_refill_all() {
    if (!super_seed_) return;
    const int leechers = super_seed_leechers();
    for (auto& q : std::vector(peers_))
        if (q->super_seed) super_seed_fill(*q, leechers);
}

void Torrent::super_seed_piece_changed(int piece) {
    if (!super_seed_ || super_seed_->offers(piece) == 0) return;
    auto u = static_cast<std::uint32_t>(piece);
    const int leechers = super_seed_leechers();
    for (auto& q : std::vector(peers_))
        if (q->super_seed && std::any_of(q->super_offers.begin(), q->super_offers.end(),
                                         [&](auto& o) { return o.piece() == u; }))
            super_seed_fill(*q, leechers);
}

void Torrent::super_seed_closed(PeerConnection& p) {
    if (!p.super_seed || !super_seed_) return;
    for (auto& o : p.super_offers) super_seed_->withdrawn(static_cast<int>(o.piece()));
    p.super_offers.clear();
    p.super_seed = false;
}

}  // namespace pw::session
