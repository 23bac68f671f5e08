// BEP 52 hybrid torrents in their second swarm: the v2 info-hash truncated to 20 bytes
// is announced to the same trackers and looked up in the DHT like the v1 one, and peers
// that name it in their handshake are accepted (session_impl.hpp routes them here).
// Outgoing connections always use the v1 hash: every peer of either swarm of a hybrid
// holds the same info dictionary and so answers to both.
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dht/dht_node.hpp"
#include "session/torrent.hpp"
#include "tracker/client.hpp"

namespace pw::session {

namespace asio = boost::asio;
using asio::awaitable;

std::optional<Sha1Digest> Torrent::v2_swarm() const {
    if (meta_.format == meta::Format::hybrid && meta_.info_hash_v2)
        return meta_.info_hash_v2->truncated();
    return std::nullopt;
}

bool Torrent::has_info_hash(const Sha1Digest& ih) const {
    return ih == meta_.info_hash || v2_swarm() == ih;
}

awaitable<void> Torrent::announce_v2_swarm(std::string url, tracker::Event ev) {
    auto self = shared_from_this();
    auto sw = v2_swarm();
    if (!sw) co_return;
    auto timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.settings.tracker_timeout);
    const tracker::TlsSettings tls{ctx_.settings.tracker_ca_file, ctx_.settings.tracker_verify_tls};
    tracker::AnnounceRequest req = make_request(url, ev);
    req.info_hash = *sw;
    auto resp = co_await tracker::announce(req, timeout, tls, ctx_.proxy);
    if (stopping_) co_return;
    if (!resp.failure_reason.empty()) {
        emit(piecewise::EventType::tracker_error, url + " (v2 swarm): " + resp.failure_reason);
        co_return;
    }
    for (auto& pa : resp.peers) {
        boost::system::error_code ec;
        auto addr = asio::ip::make_address(pa.ip, ec);
        if (!ec) add_peer(tcp::endpoint(addr, pa.port));
    }
}

void Torrent::dht_lookup_v2() {
    auto sw = v2_swarm();
    if (!sw || !ctx_.dht) return;
    std::weak_ptr<Torrent> weak = shared_from_this();
    ctx_.dht->get_peers_with_stats(
        *sw, ctx_.listen_port,
        [weak](std::vector<boost::asio::ip::udp::endpoint> peers) {
            auto self = weak.lock();
            if (!self || self->stopping_) return;
            for (auto& ep : peers) self->add_peer(tcp::endpoint(ep.address(), ep.port()));
            self->connect_more();
        },
        [](const dht::LookupStats&) {});
}

}  // namespace pw::session
