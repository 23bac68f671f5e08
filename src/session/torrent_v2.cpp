// BEP 52 hybrid torrents in their second swarm: the v2 info-hash truncated to 20 bytes
// is announced to the same trackers and looked up in the DHT like the v1 one, and peers
// that name it in their handshake are accepted (session_impl.hpp routes them here).
// Outgoing connections always use the v1 hash: every peer of either swarm of a hybrid
// holds the same info dictionary and so answers to both.
//
// BEP 52 hash requests are answered here from the torrent's piece layers: a peer that
// joined by a v2 magnet link fetches each file's piece layer this way before it can check
// any piece.
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dht/dht_node.hpp"
#include "session/torrent.hpp"
#include "tracker/client.hpp"
#include "wire/hash_messages.hpp"

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
    auto sources = ctx_.tracker_sources();
    auto resp = co_await tracker::announce_from(req, sources, timeout, tls, ctx_.proxy);
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

std::shared_ptr<const meta::MerkleTree> Torrent::merkle_tree_for(const Sha256Digest& root) {
    if (meta_.piece_hashes_v2.empty() || root == Sha256Digest{}) return nullptr;
    if (auto it = merkle_trees_.find(root); it != merkle_trees_.end()) return it->second;
    for (const auto& s : meta_.v2_spans) {
        // A file of one piece has no piece layer: its root is its only piece hash.
        if (s.num_pieces < 2 || meta_.files[static_cast<std::size_t>(s.file)].pieces_root != root)
            continue;
        const auto first = meta_.piece_hashes_v2.begin() + s.first_piece;
        std::vector<Sha256Digest> layer(first, first + s.num_pieces);
        const int level = meta::log2_exact(static_cast<std::uint64_t>(meta_.piece_length / meta::kMerkleBlock));
        auto tree = std::make_shared<const meta::MerkleTree>(layer, level);
        if (tree->root() != root) return nullptr;  // cannot happen for a parsed torrent
        merkle_trees_.emplace(root, tree);
        return tree;
    }
    return nullptr;
}

void Torrent::handle_hash_message(PeerConnection& p, const wire::Message& m) {
    const char* why = nullptr;
    if (m.id == wire::MsgId::hashes) {
        wire::HashesMsg msg;
        if (!wire::decode_hashes(m.payload, msg, why)) {
            p.close(std::string("bad hashes message: ") + why);
            return;
        }
        // Only leaf hashes of failed pieces are asked for here (torrent_leaf_check.cpp);
        // any other well-formed answer is ignored.
        handle_leaf_answer(p, msg.req, &msg.hashes);
        return;
    }
    wire::HashRequest req;
    if (!wire::decode_hash_request(m.payload, req, why)) {
        p.close(std::string(m.id == wire::MsgId::hash_reject ? "bad hash reject: "
                                                             : "bad hash request: ") + why);
        return;
    }
    if (m.id == wire::MsgId::hash_reject) {
        handle_leaf_answer(p, req, nullptr);
        return;
    }

    // Answer from the piece layers, leaf layers from the disk (the pieces a run covers,
    // all of which we have, see torrent_leaf_check.cpp); reject what neither can give
    // (files of one piece above their leaves, torrents known without their layers) and
    // anything past a full send queue.
    constexpr std::size_t max_queue = 4u << 20;
    std::string out;
    std::optional<std::vector<Sha256Digest>> hashes;
    if (p.send_queue_bytes() < max_queue) {
        if (auto tree = merkle_tree_for(req.pieces_root))
            hashes = meta::merkle_proof(*tree, static_cast<int>(req.base), req.index, req.length,
                                        static_cast<int>(req.proof_layers));
        if (!hashes && serve_leaf_hashes(p, req)) return;  // answered after the read
    }
    if (hashes) {
        wire::put_hashes(out, req, *hashes);
        ++ctx_.counters.hash_requests_served;
    } else {
        wire::put_hash_reject(out, req);
        ++ctx_.counters.hash_requests_rejected;
    }
    p.send_raw(out);
    p.flush();
}

}  // namespace pw::session
