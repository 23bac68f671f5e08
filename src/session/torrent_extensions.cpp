// Extension messages of a torrent with metadata: serving the info dictionary to peers
// that fetch it by magnet link (BEP 9), and peer exchange (BEP 11).
#include <fmt/format.h>

#include "session/endpoint.hpp"
#include "session/torrent.hpp"
#include "wire/ext_messages.hpp"

namespace pw::session {

namespace {
constexpr std::size_t pex_max_entries = 50;
}

void Torrent::serve_metadata(PeerConnection& p, std::string_view payload) {
    auto m = wire::decode_metadata_msg(payload);
    if (!m || p.ext_ut_metadata == 0) return;
    if (m->type != wire::MetadataMsg::request) return;  // we never ask a torrent's own peers
    auto size = static_cast<std::int64_t>(meta_.info_bytes.size());
    std::int64_t pieces = (size + wire::metadata_block - 1) / wire::metadata_block;
    // Flood protection (BEP 9 allows it): a few passes over the metadata, then rejects.
    if (m->piece >= pieces || ++p.metadata_requests > pieces * 4 + 8) {
        p.send_extended(p.ext_ut_metadata, wire::encode_metadata_reject(m->piece));
        return;
    }
    auto begin = static_cast<std::size_t>(m->piece) * wire::metadata_block;
    auto chunk = std::string_view(meta_.info_bytes).substr(begin, wire::metadata_block);
    p.send_extended(p.ext_ut_metadata, wire::encode_metadata_data(m->piece, size, chunk));
}

void Torrent::handle_pex(PeerConnection& p, std::string_view payload) {
    if (meta_.is_private || !ctx_.settings.pex) return;
    auto now = Clock::now();
    // BEP 11: at most one message a minute; tolerate some jitter, ignore floods.
    if (p.last_pex_in != Clock::time_point{} && now - p.last_pex_in < std::chrono::seconds(45)) return;
    p.last_pex_in = now;
    auto m = wire::decode_pex(payload, pex_max_entries * 2);
    if (!m) return;
    for (const auto& a : m->added) {
        boost::asio::ip::address addr;
        if (a.v6) {
            boost::asio::ip::address_v6::bytes_type b;
            std::copy(a.addr.begin(), a.addr.end(), b.begin());
            addr = boost::asio::ip::address_v6(b);
        } else {
            addr = boost::asio::ip::address_v4({a.addr[0], a.addr[1], a.addr[2], a.addr[3]});
        }
        if (auto* u = ctx_.utp_for(addr); u && (a.flags & 0x04)) u->learn(addr);  // BEP 11: speaks uTP
        const tcp::endpoint ep = unmapped(tcp::endpoint(addr, a.port));
        add_peer(ep);
        // BEP 55: who told us, so that a failed dial can ask it to relay a rendezvous.
        if (auto it = known_.find(ep); it != known_.end() && !it->second.connected)
            it->second.pex_source = p.peer_key;
    }
}

void Torrent::learn_other_address(const PeerConnection& p, const wire::ExtHandshake& eh) {
    if (meta_.is_private) return;
    const std::uint16_t port = eh.p != 0 ? eh.p : (p.outgoing() ? p.remote().port() : 0);
    if (port == 0) return;
    const bool remote_v6 = p.remote().address().is_v6() && !p.remote().address().to_v6().is_v4_mapped();
    if (!remote_v6 && eh.ipv6.size() == 16) {
        boost::asio::ip::address_v6::bytes_type b;
        std::copy(eh.ipv6.begin(), eh.ipv6.end(), b.begin());
        add_peer(tcp::endpoint(boost::asio::ip::address_v6(b), port));
    } else if (remote_v6 && eh.ipv4.size() == 4) {
        auto u = [&](int i) { return static_cast<unsigned char>(eh.ipv4[i]); };
        add_peer(tcp::endpoint(boost::asio::ip::address_v4({u(0), u(1), u(2), u(3)}), port));
    }
}

void Torrent::send_pex() {
    if (meta_.is_private || !ctx_.settings.pex) return;
    // Live peers we know a listen address for: outgoing connections, or incoming ones
    // that told us their port.
    std::vector<std::pair<tcp::endpoint, std::uint8_t>> live;
    for (auto& q : peers_) {
        if (q->closed() || q->choke_id == 0) continue;
        if (!q->outgoing() && q->listen_port == 0) continue;
        std::uint8_t flags = q->seed ? 0x02 : 0;
        if (q->outgoing()) flags |= 0x10;
        if (q->utp()) flags |= 0x04;
        if (q->ext_ut_holepunch != 0) flags |= 0x08;  // BEP 55 / BEP 11: speaks ut_holepunch
        live.emplace_back(q->peer_key, flags);
    }
    for (auto& q : peers_) {
        if (q->closed() || q->ext_ut_pex == 0) continue;
        wire::PexMsg msg;
        auto to_pex = [](const tcp::endpoint& ep, std::uint8_t flags) {
            wire::PexPeer pp;
            pp.port = ep.port();
            pp.flags = flags;
            if (ep.address().is_v6()) {
                pp.v6 = true;
                auto b = ep.address().to_v6().to_bytes();
                std::copy(b.begin(), b.end(), pp.addr.begin());
            } else {
                auto b = ep.address().to_v4().to_bytes();
                std::copy(b.begin(), b.end(), pp.addr.begin());
            }
            return pp;
        };
        std::vector<tcp::endpoint> now_sent;
        for (auto& [ep, flags] : live) {
            if (ep == q->peer_key) continue;
            bool already = std::find(q->pex_sent.begin(), q->pex_sent.end(), ep) != q->pex_sent.end();
            if (!already && msg.added.size() >= pex_max_entries) continue;
            if (!already) msg.added.push_back(to_pex(ep, flags));
            now_sent.push_back(ep);
        }
        for (auto& ep : q->pex_sent) {
            bool still = std::find(now_sent.begin(), now_sent.end(), ep) != now_sent.end();
            if (!still && msg.dropped.size() < pex_max_entries) msg.dropped.push_back(to_pex(ep, 0));
            else if (!still) now_sent.push_back(ep);  // tell it next time
        }
        q->pex_sent = std::move(now_sent);
        if (msg.added.empty() && msg.dropped.empty()) continue;
        q->send_extended(q->ext_ut_pex, wire::encode_pex(msg));
    }
}

}  // namespace pw::session
