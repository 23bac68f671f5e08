// The Fast Extension (BEP 6) in a torrent, for peers whose handshake set the bit too:
// HAVE ALL / HAVE NONE instead of a full or empty bitfield, REJECT REQUEST for every
// request we will not serve (a choke no longer drops requests silently), the allowed
// fast set (k = 10) served while we choke the peer, the peer's allowed fast pieces
// requested while it chokes us, and its SUGGEST PIECEs preferred when starting a piece.
//
// A BEP 6 message from a peer without the bit closes the connection (the BEP's MUST;
// libtorrent does the same). We send no SUGGEST PIECE: uploads read each run straight
// from the disk into a buffer freed once sent, so there is no piece cache whose content
// a suggestion could point peers at; suggesting by guess would only bend their
// rarest-first choice.
#include "session/torrent.hpp"
#include "wire/fast.hpp"

namespace pw::session {

namespace {
constexpr std::uint32_t allowed_fast_k = 10;     // the BEP's k
constexpr std::size_t max_allowed_fast_in = 64;  // a peer's allowed fast pieces we keep
constexpr std::size_t max_suggested = 16;        // a peer's suggestions we keep
constexpr int max_stray_rejects = 256;           // rejects of requests we never sent
// Requests rejected or ignored since we last unchoked the peer. An honest peer sends at
// most its queue (we advertise reqq 1000) before it sees our choke.
constexpr int max_dropped_requests = 4000;
}  // namespace

void Torrent::send_fast_intro(PeerConnection& p) {
    if (super_seeding()) {
        super_seed_intro(p);  // no allowed fast set either: it would give pieces away
        return;
    }
    if (p.fast && have_.all())
        p.send_simple(wire::MsgId::have_all);
    else if (p.fast && have_.none())
        p.send_simple(wire::MsgId::have_none);
    else if (have_.count() > 0)
        p.send_bitfield(have_);
    if (!p.fast || !p.remote().address().is_v4()) return;  // the BEP has no IPv6 form
    p.allowed_fast_out =
        wire::allowed_fast_set(p.remote().address().to_v4().to_uint(), meta_.info_hash,
                               static_cast<std::uint32_t>(meta_.num_pieces()), allowed_fast_k);
    // Only the ones we have are worth its asking; the others stay allowed for later.
    for (auto piece : p.allowed_fast_out)
        if (have_.get(static_cast<int>(piece))) p.send_allowed_fast(piece);
}

bool Torrent::allowed_fast_out(const PeerConnection& p, std::uint32_t piece) const {
    return p.fast && std::find(p.allowed_fast_out.begin(), p.allowed_fast_out.end(), piece) !=
                         p.allowed_fast_out.end();
}

void Torrent::drop_request(PeerConnection& p, std::uint32_t piece, std::uint32_t begin,
                           std::uint32_t length) {
    if (p.fast) p.send_reject(piece, begin, length);
    if (++p.dropped_requests > max_dropped_requests) p.close("request flood");
}

void Torrent::handle_fast(PeerConnection& p, const wire::Message& m) {
    if (!p.fast) {
        p.close("fast extension message from a peer without it (BEP 6)");
        return;
    }
    const auto n = static_cast<std::uint32_t>(meta_.num_pieces());
    switch (m.id) {
        case wire::MsgId::have_all:
            // Like a later bitfield, a late HAVE ALL / HAVE NONE replaces what we knew.
            set_peer_pieces(p, swarm::Bitfield(meta_.num_pieces(), true));
            break;
        case wire::MsgId::have_none:
            set_peer_pieces(p, swarm::Bitfield(meta_.num_pieces()));
            break;
        case wire::MsgId::suggest:
            // Advisory: out of range or already had, it is ignored.
            if (m.index >= n || have_.get(static_cast<int>(m.index))) break;
            if (std::find(p.suggested.begin(), p.suggested.end(), m.index) != p.suggested.end())
                break;
            if (p.suggested.size() >= max_suggested) p.suggested.pop_front();
            p.suggested.push_back(m.index);
            break;
        case wire::MsgId::allowed_fast:
            if (m.index >= n || p.allowed_fast_in.size() >= max_allowed_fast_in) break;
            if (std::find(p.allowed_fast_in.begin(), p.allowed_fast_in.end(), m.index) !=
                p.allowed_fast_in.end())
                break;
            p.allowed_fast_in.push_back(m.index);
            request_more(p);
            break;
        case wire::MsgId::reject:
            handle_reject(p, m);
            break;
        default:
            break;
    }
}

void Torrent::handle_reject(PeerConnection& p, const wire::Message& m) {
    auto same = [&](const peer::OutRequest& r) {
        return r.piece == m.index && r.begin == m.begin && r.length == m.length;
    };
    if (auto it = std::find_if(p.requests_out.begin(), p.requests_out.end(), same);
        it != p.requests_out.end()) {
        // The block is free for anyone again. Not re-requested from this peer at once:
        // the next tick asks again, so a peer rejecting everything costs one round a second.
        release_one(p, *it, false, false);
        p.requests_out.erase(it);
        ++endgame_epoch_;
        return;
    }
    // The answer to a request we had already released (on its choke, a timeout, endgame).
    if (auto c = std::find_if(p.cancelled.begin(), p.cancelled.end(), same);
        c != p.cancelled.end()) {
        p.cancelled.erase(c);
        return;
    }
    if (++p.stray_rejects > max_stray_rejects) p.close("rejects of requests never sent");
}

}  // namespace pw::session
