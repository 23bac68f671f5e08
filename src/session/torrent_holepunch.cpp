// ut_holepunch (BEP 55): two peers that cannot accept connections (behind NAT or a
// firewall) and share a third peer connect over uTP. The initiator, whose dial to a peer
// learnt by PEX failed, asks the peer that told it (the relay) with a `rendezvous`; the
// relay sends `connect` to both; each then dials the other over uTP, so each side's NAT
// sees an outgoing flow and lets the other's packets in.
// The decisions are swarm/holepunch.hpp's; here they meet the peer list.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <fmt/format.h>

#include "session/endpoint.hpp"
#include "session/torrent.hpp"
#include "wire/holepunch.hpp"

namespace pw::session {

using piecewise::EventType;

namespace {

tcp::endpoint endpoint_of(const wire::HolepunchMsg& m) {
    boost::asio::ip::address addr;
    if (m.v6) {
        boost::asio::ip::address_v6::bytes_type b;
        std::copy(m.addr.begin(), m.addr.end(), b.begin());
        addr = boost::asio::ip::address_v6(b);
    } else {
        addr = boost::asio::ip::address_v4({m.addr[0], m.addr[1], m.addr[2], m.addr[3]});
    }
    return unmapped(tcp::endpoint(addr, m.port));
}

wire::HolepunchMsg message_for(wire::HolepunchMsg::Type type, const tcp::endpoint& ep) {
    wire::HolepunchMsg m;
    m.type = type;
    m.port = ep.port();
    if (ep.address().is_v6()) {
        m.v6 = true;
        auto b = ep.address().to_v6().to_bytes();
        std::copy(b.begin(), b.end(), m.addr.begin());
    } else {
        auto b = ep.address().to_v4().to_bytes();
        std::copy(b.begin(), b.end(), m.addr.begin());
    }
    return m;
}

bool dialable(const tcp::endpoint& ep) {
    return ep.port() != 0 && !ep.address().is_unspecified() && !ep.address().is_multicast();
}

}  // namespace

bool Torrent::holepunch_enabled() const {
    // BEP 55 connects over uTP only. Not on private torrents: their peers come from the
    // tracker alone (BEP 27), and a relay would hand out peer addresses.
    return !meta_.is_private && (ctx_.utp != nullptr || ctx_.utp2 != nullptr);
}

tcp::endpoint Torrent::holepunch_endpoint(const PeerConnection& q) {
    // Over uTP the remote endpoint is its UDP socket, which is what the other side must
    // send to. Over TCP an incoming peer's remote port is ephemeral: its listen port is the
    // one its uTP socket shares.
    return q.utp() ? q.remote() : q.peer_key;
}

void Torrent::handle_holepunch(PeerConnection& p, std::string_view payload) {
    // BEP 55: a peer that did not announce the extension is ignored silently; so is any
    // message while we do not announce it ourselves.
    if (p.ext_ut_holepunch == 0 || !holepunch_enabled() || p.choke_id == 0) return;
    auto m = wire::decode_holepunch(payload);
    if (!m) return;
    switch (m->type) {
        case wire::HolepunchMsg::rendezvous:
            relay_rendezvous(p, *m);
            break;
        case wire::HolepunchMsg::connect:
            // Bounded like rendezvous: a relay cannot make us dial at will.
            if (!p.holepunch_in.allow(Clock::now())) return;
            holepunch_connect(p, endpoint_of(*m));
            break;
        case wire::HolepunchMsg::error:
            // Reported, within the same bound (events are not to be flooded).
            if (!p.holepunch_in.allow(Clock::now())) return;
            emit(EventType::holepunch,
                 fmt::format("holepunch: {} answered {} for {}", format_endpoint(p.peer_key),
                             wire::holepunch_error_name(m->error_code), format_endpoint(endpoint_of(*m))));
            break;
    }
}

void Torrent::relay_rendezvous(PeerConnection& from, const wire::HolepunchMsg& m) {
    const tcp::endpoint target = endpoint_of(m);
    swarm::RendezvousFacts f;
    f.sender_supports = from.ext_ut_holepunch != 0;
    f.within_rate = from.holepunch_in.allow(Clock::now());
    f.is_us = ctx_.is_self(target);
    f.valid_endpoint = dialable(target) && target != from.peer_key && target != holepunch_endpoint(from) &&
                       target != from.remote();
    PeerConnection* to = nullptr;
    if (f.valid_endpoint && !f.is_us) {
        for (auto& q : peers_) {
            if (q.get() == &from || q->closed() || q->choke_id == 0) continue;
            if (q->peer_key == target || q->remote() == target) {
                to = q.get();
                break;
            }
        }
    }
    f.target_connected = to != nullptr;
    f.target_supports = to && to->ext_ut_holepunch != 0;
    auto verdict = swarm::judge_rendezvous(f);
    if (verdict == swarm::RendezvousVerdict::ignore) return;
    if (verdict != swarm::RendezvousVerdict::connect) {
        // BEP 55: the error repeats the rendezvous's address fields.
        wire::HolepunchMsg err = m;
        err.type = wire::HolepunchMsg::error;
        err.error_code = swarm::verdict_error_code(verdict);
        from.send_extended(from.ext_ut_holepunch, wire::encode_holepunch(err));
        return;
    }
    const tcp::endpoint a = holepunch_endpoint(from);
    const tcp::endpoint b = holepunch_endpoint(*to);
    from.send_extended(from.ext_ut_holepunch, wire::encode_holepunch(message_for(wire::HolepunchMsg::connect, b)));
    to->send_extended(to->ext_ut_holepunch, wire::encode_holepunch(message_for(wire::HolepunchMsg::connect, a)));
    emit(EventType::holepunch,
         fmt::format("holepunch: relayed {} <-> {}", format_endpoint(a), format_endpoint(b)));
}

void Torrent::holepunch_connect(PeerConnection& relay, const tcp::endpoint& target) {
    // BEP 55: a connect we do not act on is ignored silently (no error to the relay).
    if (!accepting() || stopping_ || !dialable(target) || ctx_.is_self(target)) return;
    if (ctx_.blocked(target.address()) || !ctx_.utp_for(target.address())) return;
    for (auto& q : peers_)
        if (!q->closed() && (q->peer_key == target || q->remote() == target)) return;  // connected
    auto it = known_.find(target);
    if (it != known_.end() && (it->second.connected || it->second.banned || it->second.self)) return;
    // The normal connection limits.
    if (peer_limit() - static_cast<int>(peers_.size()) - connecting_ <= 0 || connecting_ >= max_connecting)
        return;
    if (ctx_.limits->check_outgoing(target.address()) != ConnectionLimits::Refusal::none) return;
    add_peer(target);
    it = known_.find(target);
    if (it == known_.end()) return;  // the peer list is full
    it->second.connected = true;
    ++connecting_;
    emit(EventType::holepunch, fmt::format("holepunch: connecting to {} (relay {})", format_endpoint(target),
                                           format_endpoint(relay.peer_key)));
    boost::asio::co_spawn(ctx_.io, connect_to(target, ctx_.limits->outgoing(target.address()), true),
                          boost::asio::detached);
}

void Torrent::ask_relay(const tcp::endpoint& ep) {
    if (!holepunch_enabled() || !ctx_.utp_for(ep.address())) return;
    auto it = known_.find(ep);
    if (it == known_.end() || it->second.pex_source.port() == 0 || it->second.banned || it->second.self) return;
    PeerConnection* relay = nullptr;
    for (auto& q : peers_) {
        if (q->closed() || q->choke_id == 0) continue;
        if (q->peer_key == ep || q->remote() == ep) return;  // connected after all
        if (q->peer_key == it->second.pex_source && q->ext_ut_holepunch != 0) relay = q.get();
    }
    if (!relay || !rendezvous_asked_.may_ask(ep, Clock::now())) return;
    relay->send_extended(relay->ext_ut_holepunch,
                         wire::encode_holepunch(message_for(wire::HolepunchMsg::rendezvous, ep)));
    emit(EventType::holepunch, fmt::format("holepunch: asked {} to introduce {}", format_endpoint(relay->peer_key),
                                           format_endpoint(ep)));
}

}  // namespace pw::session
