#include "session/metadata_fetch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "crypto/sha1.hpp"
#include "dht/dht_node.hpp"
#include "lsd/local_discovery.hpp"
#include "peer/mse_stream.hpp"
#include "session/endpoint.hpp"
#include "tracker/client.hpp"
#include "meta/merkle.hpp"
#include "wire/ext_messages.hpp"
#include "wire/hash_messages.hpp"

namespace pw::session {

namespace asio = boost::asio;
using peer::Clock;
using peer::PeerConnection;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {
constexpr std::uint8_t our_metadata_id = 2;
constexpr int max_peers = 30;
constexpr auto piece_timeout = std::chrono::seconds(10);
}  // namespace

MetadataFetch::MetadataFetch(Context& ctx, piecewise::TorrentId id, meta::Magnet magnet, Done done)
    : ctx_(ctx),
      id_(id),
      magnet_(std::move(magnet)),
      done_(std::move(done)),
      tick_timer_(ctx.io),
      tracker_timer_(ctx.io) {
    for (auto& t : magnet_.trackers) {
        piecewise::TrackerStatus st;
        st.url = t;
        trackers_.push_back(st);
    }
}

void MetadataFetch::start() {
    for (const auto& s : magnet_.peers)
        if (auto ep = parse_endpoint(s)) add_peer(*ep);
    if (!magnet_.trackers.empty()) asio::co_spawn(ctx_.io, tracker_loop(), asio::detached);
    if (ctx_.lsd) ctx_.lsd->announce(magnet_.info_hash);
    tick();
}

void MetadataFetch::stop() {
    stopped_ = true;
    if (ctx_.lsd) ctx_.lsd->remove(magnet_.info_hash);
    tick_timer_.cancel();
    tracker_timer_.cancel();
    for (auto& p : std::vector(peers_)) p->close("metadata fetch stopped");
}

void MetadataFetch::tick() {
    if (stopped_ || finished_) return;
    // The DHT: at once, after 5 and 15 s (a swarm may announce itself meanwhile), then
    // every 30 s while the metadata is missing.
    int t = ticks_++;
    if (ctx_.dht && (t == 0 || t == 5 || t % 15 == 0)) {
        std::weak_ptr<MetadataFetch> weak = shared_from_this();
        ctx_.dht->get_peers(
            magnet_.info_hash, ctx_.listen_port,
            [weak](std::vector<asio::ip::udp::endpoint> peers) {
                if (auto self = weak.lock())
                    for (auto& ep : peers) self->add_peer(tcp::endpoint(ep.address(), ep.port()));
            },
            [] {});
    }
    connect_more();
    auto now = Clock::now();
    for (std::size_t i = 0; i < state_.size(); ++i)
        if (state_[i] == 1 && now - requested_at_[i] > piece_timeout) state_[i] = 0;
    for (auto& p : std::vector(peers_)) request_from(*p);
    if (layers_for_) layers_tick();
    auto self = shared_from_this();
    tick_timer_.expires_after(std::chrono::seconds(1));
    tick_timer_.async_wait([self](boost::system::error_code ec) {
        if (!ec) self->tick();
    });
}

piecewise::TorrentStatus MetadataFetch::status() const {
    piecewise::TorrentStatus s;
    s.name = magnet_.name.empty() ? magnet_.info_hash.hex() : magnet_.name;
    s.info_hash = magnet_.info_hash.hex();
    s.state = piecewise::TorrentState::metadata;
    for (auto& p : peers_) s.peers += p->choke_id != 0;
    s.known_peers = static_cast<int>(known_.size());
    int have = 0;
    for (auto st : state_) have += st == 2;
    s.check_progress = state_.empty() ? 0 : double(have) / double(state_.size());
    s.trackers = trackers_;
    return s;
}

void MetadataFetch::close_blocked() {
    for (auto& p : std::vector(peers_))
        if (ctx_.blocked(p->peer_key.address())) p->close("blocked by the IP blocklist");
}

void MetadataFetch::add_peer(const tcp::endpoint& given) {
    const tcp::endpoint ep = unmapped(given);
    if (ep.port() == 0 || ep.address().is_unspecified() || known_.size() >= 2000) return;
    if (ctx_.blocked(ep.address())) return;  // every peer source of the fetch comes here
    known_.try_emplace(ep);
    if (!stopped_ && !finished_) connect_more();
}

void MetadataFetch::connect_more() {
    auto now = Clock::now();
    for (auto& [ep, k] : known_) {
        if (static_cast<int>(peers_.size()) + connecting_ >= max_peers || connecting_ >= 10) break;
        if (k.connected || k.banned || k.next_attempt > now || ctx_.blocked(ep.address())) continue;
        if (ctx_.is_self(ep)) continue;
        auto why = ctx_.limits->check_outgoing(ep.address());
        if (why == ConnectionLimits::Refusal::per_ip) continue;
        if (why != ConnectionLimits::Refusal::none) break;  // session-wide caps: later
        k.connected = true;
        ++connecting_;
        asio::co_spawn(ctx_.io, connect_to(ep, ctx_.limits->outgoing(ep.address())), asio::detached);
    }
}

wire::Handshake MetadataFetch::our_handshake() const {
    wire::Handshake h;
    h.info_hash = magnet_.info_hash;
    h.peer_id = ctx_.peer_id;
    h.set_extensions();
    if (magnet_.info_hash_v2) h.set_v2();  // BEP 52
    return h;
}

asio::awaitable<void> MetadataFetch::connect_to(tcp::endpoint ep, ConnectionLimits::Slot slot) {
    auto self = shared_from_this();
    auto dialed = co_await peer::dial_peer(ctx_.io, ep, ctx_.bind_for(ep.address()), std::chrono::seconds(10),
                                           magnet_.info_hash, wire::encode_handshake(our_handshake()),
                                           ctx_.settings.encryption, ctx_.encryption_memory,
                                           ctx_.proxy, ctx_.settings.bind_interface, ctx_.utp_dial(ep.address()));
    auto& sock = dialed.dialled;
    --connecting_;
    if (!dialed.error.empty())
        ctx_.emit({piecewise::EventType::peer_disconnected, id_,
                   format_endpoint(ep) + ": " + dialed.error});
    auto& k = known_[ep];
    if (!sock || stopped_ || finished_) {
        k.connected = false;
        ++k.failures;
        k.next_attempt = Clock::now() + std::chrono::seconds(std::min(5 << std::min(k.failures, 6), 300));
        co_return;
    }
    auto p = std::make_shared<PeerConnection>(std::move(sock->socket), weak_from_this(), true, 0,
                                              1u << 20);
    slot.connected();
    p->slot = std::move(slot).hold();
    p->peer_key = ep;
    peers_.push_back(p);
    p->set_transport(std::move(sock->transport));
    p->start(our_handshake(), std::nullopt, magnet_.info_hash);
}

void MetadataFetch::attach_incoming(peer::PeerStream s, const wire::Handshake& theirs,
                                    peer::Transport t, std::shared_ptr<void> slot) {
    if (stopped_ || finished_ || static_cast<int>(peers_.size()) >= max_peers) return;
    auto p = std::make_shared<PeerConnection>(std::move(s), weak_from_this(), false, 0, 1u << 20);
    p->slot = std::move(slot);
    peers_.push_back(p);
    p->set_transport(std::move(t));
    p->start(our_handshake(), theirs, magnet_.info_hash);
}

bool MetadataFetch::on_handshake(PeerConnection& p) {
    const auto& h = p.their_handshake();
    if (h.peer_id == ctx_.peer_id) {
        known_[p.peer_key].banned = true;  // ourselves
        p.close("connected to ourselves");
        return false;
    }
    if (!h.supports_extensions()) {
        p.close("peer cannot send metadata (no extension protocol)");
        return false;
    }
    p.choke_id = 1;
    wire::ExtHandshake eh;
    eh.v = "Piecewise " PW_VERSION;
    eh.p = ctx_.listen_port;
    eh.m.emplace_back("ut_metadata", our_metadata_id);
    eh.ipv6 = ctx_.compact_listen_address(true);
    if (ctx_.second_listener) eh.ipv4 = ctx_.compact_listen_address(false);
    p.send_extended(0, wire::encode_ext_handshake(eh));
    return true;
}

void MetadataFetch::on_message(PeerConnection& p, const wire::Message& m) {
    if (finished_) return;
    if (m.id == wire::MsgId::hash_request || m.id == wire::MsgId::hashes ||
        m.id == wire::MsgId::hash_reject) {
        on_hash_message(p, m);
        return;
    }
    if (m.id != wire::MsgId::extended || layers_for_) return;
    if (m.ext_id == 0) {
        auto eh = wire::decode_ext_handshake(m.payload);
        if (!eh) return;
        for (auto& [name, id] : eh->m)
            if (name == "ut_metadata") p.ext_ut_metadata = static_cast<std::uint8_t>(id);
        if (p.ext_ut_metadata == 0) {
            p.close("peer does not offer metadata");
            return;
        }
        if (size_ == 0 && eh->metadata_size > 0) {
            if (eh->metadata_size > max_metadata) {
                p.close("metadata size over the limit");
                return;
            }
            size_ = eh->metadata_size;
            buffer_.assign(static_cast<std::size_t>(size_), '\0');
            auto n = static_cast<std::size_t>((size_ + wire::metadata_block - 1) / wire::metadata_block);
            state_.assign(n, 0);
            requested_at_.assign(n, Clock::time_point{});
            from_.assign(n, tcp::endpoint());
        }
        request_from(p);
        return;
    }
    if (m.ext_id != our_metadata_id) return;
    auto msg = wire::decode_metadata_msg(m.payload);
    if (!msg) {
        p.close("malformed ut_metadata message");
        return;
    }
    if (msg->type == wire::MetadataMsg::piece_data) on_data(p, msg->piece, msg->total_size, msg->data);
    else if (msg->type == wire::MetadataMsg::reject && msg->piece < static_cast<std::int64_t>(state_.size()) &&
             state_[static_cast<std::size_t>(msg->piece)] == 1)
        state_[static_cast<std::size_t>(msg->piece)] = 0;
}

void MetadataFetch::request_from(PeerConnection& p) {
    if (p.closed() || p.ext_ut_metadata == 0 || state_.empty() || finished_ || verifying_) return;
    if (solo_ && p.peer_key != solo_peer_) return;
    int asked = 0;
    for (std::size_t i = 0; i < state_.size() && asked < 2; ++i) {
        if (state_[i] != 0) continue;
        state_[i] = 1;
        requested_at_[i] = Clock::now();
        p.send_extended(p.ext_ut_metadata, wire::encode_metadata_request(static_cast<std::int64_t>(i)));
        ++asked;
    }
}

void MetadataFetch::on_data(PeerConnection& p, std::int64_t piece, std::int64_t total, std::string_view data) {
    if (verifying_) return;  // every piece is in; the buffer is with the disk pool
    if (size_ == 0 || total != size_ || piece < 0 || piece >= static_cast<std::int64_t>(state_.size())) {
        p.close("ut_metadata data that does not fit the metadata");
        return;
    }
    auto i = static_cast<std::size_t>(piece);
    std::int64_t begin = piece * static_cast<std::int64_t>(wire::metadata_block);
    auto expected = static_cast<std::size_t>(std::min<std::int64_t>(wire::metadata_block, size_ - begin));
    if (data.size() != expected) {
        p.close("ut_metadata piece of the wrong size");
        return;
    }
    if (state_[i] != 2) {
        std::copy(data.begin(), data.end(), buffer_.begin() + begin);
        state_[i] = 2;
        from_[i] = p.peer_key;
    }
    if (std::all_of(state_.begin(), state_.end(), [](auto s) { return s == 2; })) verify();
    else request_from(p);
}

// The hashing (the whole metadata, and the pieces of earlier failed attempts) and the
// parsing run on the disk pool: the network thread never hashes. The job holds the data
// and a weak pointer; a fetch stopped or gone meanwhile ignores the result.
void MetadataFetch::verify() {
    verifying_ = true;
    auto data = std::make_shared<std::string>(std::move(buffer_));
    buffer_.clear();
    std::vector<std::pair<std::size_t, Sha1Digest>> earlier;  // (piece, hash) per suspect
    earlier.reserve(suspects_.size());
    for (const auto& s : suspects_) earlier.emplace_back(s.piece, s.hash);
    std::weak_ptr<MetadataFetch> weak = weak_from_this();
    asio::io_context& io = ctx_.io;
    ctx_.disk.post([data, earlier = std::move(earlier), expected = magnet_.info_hash,
                    has_btih = magnet_.has_btih, expected_v2 = magnet_.info_hash_v2, weak, &io] {
        auto piece = [&](std::size_t i) {
            return std::string_view(*data).substr(i * wire::metadata_block, wire::metadata_block);
        };
        auto r = std::make_shared<VerifyResult>();
        // BEP 52: a btmh names the SHA-256 of the info dictionary; a btih its SHA-1.
        r->matches = (!has_btih || crypto::sha1(*data) == expected) &&
                     (!expected_v2 || crypto::sha256(*data) == *expected_v2);
        if (!r->matches) {
            std::size_t n = (data->size() + wire::metadata_block - 1) / wire::metadata_block;
            for (std::size_t i = 0; i < n; ++i) r->piece_hashes.push_back(crypto::sha1(piece(i)));
        } else {
            try {
                meta::ParseLimits lim;
                lim.allow_missing_layers = expected_v2.has_value();
                r->meta = meta::parse_info(*data, lim);
            } catch (const std::exception& e) {  // MetainfoError, or anything else
                r->parse_error = e.what();
            }
            for (std::size_t k = 0; k < earlier.size(); ++k)
                if (earlier[k].first * wire::metadata_block < data->size() &&
                    crypto::sha1(piece(earlier[k].first)) != earlier[k].second)
                    r->lying_suspects.push_back(k);
        }
        asio::post(io, [weak, data, r] {
            if (auto self = weak.lock()) self->on_verified(std::move(*data), std::move(*r));
        });
    });
}

void MetadataFetch::on_verified(std::string data, VerifyResult r) {
    verifying_ = false;
    if (stopped_ || finished_) return;
    buffer_ = std::move(data);
    if (!r.matches) {
        // Someone sent wrong metadata. One sender: ban it. Several: the liar is among
        // them, so fetch the whole metadata from one peer at a time until it verifies;
        // whoever fails alone is banned.
        std::set<tcp::endpoint> senders(from_.begin(), from_.end());
        // Remember what each sent, to find the liar once some attempt verifies.
        for (std::size_t i = 0;
             i < from_.size() && i < r.piece_hashes.size() && suspects_.size() < 4096; ++i)
            suspects_.push_back({from_[i], i, r.piece_hashes[i]});
        ++attempts_failed_;
        std::fill(state_.begin(), state_.end(), 0);
        if (senders.size() == 1) {
            auto liar = *senders.begin();
            known_[liar].banned = true;
            for (auto& p : std::vector(peers_))
                if (p->peer_key == liar) p->close("sent metadata that does not match the info-hash");
            ctx_.emit({piecewise::EventType::peer_banned, id_,
                       fmt::format("{}: sent metadata that does not match the info-hash",
                                   format_endpoint(liar))});
        } else {
            ctx_.emit({piecewise::EventType::piece_failed, id_,
                       fmt::format("metadata from {} peers did not match the info-hash; asking one at a time",
                                   senders.size())});
        }
        choose_solo();
        for (auto& p : std::vector(peers_)) request_from(*p);
        return;
    }
    if (!r.meta) {
        // Matches the hash but is not a usable torrent: nothing to retry.
        finished_ = true;
        ctx_.emit({piecewise::EventType::storage_error, id_, "metadata: " + r.parse_error});
        return;
    }
    meta::Metainfo m = std::move(*r.meta);
    // Peers whose pieces of a failed attempt differ from the verified metadata lied.
    std::set<tcp::endpoint> liars;
    for (std::size_t k : r.lying_suspects)
        if (k < suspects_.size()) liars.insert(suspects_[k].from);
    for (const auto& liar : liars) {
        if (known_[liar].banned) continue;
        known_[liar].banned = true;
        ctx_.emit({piecewise::EventType::peer_banned, id_,
                   fmt::format("{}: sent metadata that does not match the info-hash",
                               format_endpoint(liar))});
    }
    if (m.format == meta::Format::v2 && m.piece_hashes_v2.empty()) {
        start_layers(std::move(m));
        return;
    }
    finish(std::move(m));
}

void MetadataFetch::finish(meta::Metainfo m) {
    for (const auto& t : magnet_.trackers) m.trackers.push_back({t});
    finished_ = true;
    std::vector<tcp::endpoint> useful;
    for (auto& p : peers_)
        if (p->ext_ut_metadata != 0 && p->outgoing() && !known_[p->peer_key].banned) useful.push_back(p->peer_key);
    for (auto& [ep, k] : known_)
        if (!k.banned && std::find(useful.begin(), useful.end(), ep) == useful.end()) useful.push_back(ep);
    tick_timer_.cancel();
    tracker_timer_.cancel();
    for (auto& p : std::vector(peers_)) p->close("metadata complete");
    if (done_) done_(std::move(m), std::move(useful));
}

// After a failed attempt with several senders: the next peer to fetch everything alone.
void MetadataFetch::choose_solo() {
    solo_ = attempts_failed_ > 0;
    if (!solo_) return;
    for (auto& p : peers_)
        if (!p->closed() && p->ext_ut_metadata != 0 && !known_[p->peer_key].banned &&
            !tried_solo_.count(p->peer_key)) {
            solo_peer_ = p->peer_key;
            tried_solo_.insert(solo_peer_);
            return;
        }
    // Everyone had a turn (or nobody is left): let any peer answer again.
    tried_solo_.clear();
    solo_peer_ = tcp::endpoint();
    solo_ = false;
}

void MetadataFetch::on_closed(PeerConnection& p, const std::string&) {
    std::erase_if(peers_, [&](auto& q) { return q.get() == &p; });
    if (solo_ && p.peer_key == solo_peer_) choose_solo();
    auto it = known_.find(p.peer_key);
    if (it != known_.end()) {
        it->second.connected = false;
        it->second.next_attempt = Clock::now() + std::chrono::seconds(10);
    }
    for (std::size_t i = 0; i < state_.size(); ++i)
        if (state_[i] == 1) state_[i] = 0;  // re-ask whoever is left
    for (auto& f : layers_)
        for (auto& c : f.chunks)
            if (c.state == 1 && c.from == p.peer_key) c.state = 0;
    for (auto& q : std::vector(peers_)) {
        request_from(*q);
        if (layers_for_) request_layers(*q);
    }
}

asio::awaitable<void> MetadataFetch::tracker_loop() {
    auto self = shared_from_this();
    while (!stopped_ && !finished_) {
        for (std::size_t i = 0; i < magnet_.trackers.size() && !stopped_ && !finished_; ++i) {
            tracker::AnnounceRequest r;
            r.url = magnet_.trackers[i];
            r.info_hash = magnet_.info_hash;
            r.peer_id = ctx_.peer_id;
            r.port = ctx_.listen_port;
            r.left = 1;  // size unknown until the metadata arrives; not a seed
            r.event = tracker::Event::started;
            r.numwant = ctx_.settings.numwant;
            r.key = ctx_.tracker_key;
            r.bind_ip = ctx_.tracker_bind_ip();
            auto sources = ctx_.tracker_sources();
            const auto timeout =
                std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.settings.tracker_timeout);
            const tracker::TlsSettings tls{ctx_.settings.tracker_ca_file, ctx_.settings.tracker_verify_tls};
            auto resp = co_await tracker::announce_from(r, sources, timeout, tls, ctx_.proxy);
            if (stopped_ || finished_) co_return;
            trackers_[i].last_error = resp.failure_reason;
            trackers_[i].peers_returned = static_cast<int>(resp.peers.size());
            for (auto& pa : resp.peers) {
                boost::system::error_code ec;
                auto addr = asio::ip::make_address(pa.ip, ec);
                if (!ec) add_peer(tcp::endpoint(addr, pa.port));
            }
        }
        tracker_timer_.expires_after(std::chrono::seconds(30));
        co_await tracker_timer_.async_wait(use_nothrow);
    }
}

// ---- BEP 52 piece layers (v2-only torrents from btmh magnets) ----

namespace {
constexpr std::uint32_t layer_chunk = 512;  // hashes per request (BEP 52: SHOULD NOT exceed)
constexpr int layer_requests_per_peer = 4;
constexpr auto layer_timeout = std::chrono::seconds(15);
constexpr auto reject_backoff = std::chrono::seconds(5);
}  // namespace

void MetadataFetch::start_layers(meta::Metainfo m) {
    const int base =
        meta::log2_exact(static_cast<std::uint64_t>(m.piece_length / meta::kMerkleBlock));
    layers_.clear();
    for (const auto& s : m.v2_spans) {
        if (s.num_pieces < 2) continue;  // its root is its only piece hash
        FileLayer f;
        f.root = m.files[static_cast<std::size_t>(s.file)].pieces_root;
        f.num_pieces = s.num_pieces;
        f.base = base;
        const std::uint64_t width = meta::next_pow2(static_cast<std::uint64_t>(s.num_pieces));
        f.root_level = base + meta::log2_exact(width);
        f.hashes.resize(static_cast<std::size_t>(s.num_pieces));
        const auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(layer_chunk, width));
        for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(s.num_pieces); i += len)
            f.chunks.push_back(LayerChunk{i, len, 0, {}, {}});
        layers_.push_back(std::move(f));
    }
    layers_for_ = std::move(m);
    for (auto& p : std::vector(peers_)) request_layers(*p);
}

void MetadataFetch::request_layers(PeerConnection& p) {
    // Every peer here answered a handshake naming the v2 swarm (a v2-only torrent's only
    // swarm), so it is asked whether or not it set the v2 bit (libtorrent 2.0 does not
    // always); one that cannot serve rejects or hangs up, and the request goes elsewhere.
    if (!layers_for_ || p.closed() || p.choke_id == 0) return;
    auto now = Clock::now();
    if (auto it = hash_backoff_.find(p.peer_key); it != hash_backoff_.end() && it->second > now) return;
    int mine = 0;
    for (auto& f : layers_)
        for (auto& c : f.chunks) mine += c.state == 1 && c.from == p.peer_key;
    std::string out;
    for (auto& f : layers_) {
        for (auto& c : f.chunks) {
            if (mine >= layer_requests_per_peer) break;
            if (c.state != 0) continue;
            wire::HashRequest r;
            r.pieces_root = f.root;
            r.base = static_cast<std::uint32_t>(f.base);
            r.index = c.index;
            r.length = c.length;
            r.proof_layers = static_cast<std::uint32_t>(f.root_level - f.base - 1);
            wire::put_hash_request(out, r);
            c.state = 1;
            c.at = now;
            c.from = p.peer_key;
            ++mine;
        }
    }
    if (!out.empty()) {
        p.send_raw(out);
        p.flush();
    }
}

void MetadataFetch::layers_tick() {
    auto now = Clock::now();
    for (auto& f : layers_)
        for (auto& c : f.chunks)
            if (c.state == 1 && now - c.at > layer_timeout) c.state = 0;
    for (auto& p : std::vector(peers_)) request_layers(*p);
}

void MetadataFetch::on_hash_message(PeerConnection& p, const wire::Message& m) {
    const char* why = nullptr;
    if (m.id == wire::MsgId::hash_request) {
        // We hold no layers yet: every request is rejected (BEP 52: always answered).
        wire::HashRequest r;
        if (!wire::decode_hash_request(m.payload, r, why)) {
            p.close(std::string("bad hash request: ") + why);
            return;
        }
        std::string out;
        wire::put_hash_reject(out, r);
        p.send_raw(out);
        p.flush();
        return;
    }
    wire::HashesMsg hm;
    if (m.id == wire::MsgId::hash_reject) {
        if (!wire::decode_hash_request(m.payload, hm.req, why)) {
            p.close(std::string("bad hash reject: ") + why);
            return;
        }
    } else if (!wire::decode_hashes(m.payload, hm, why)) {
        p.close(std::string("bad hashes message: ") + why);
        return;
    }
    if (!layers_for_) return;  // nothing asked
    const auto& r = hm.req;
    FileLayer* file = nullptr;
    LayerChunk* chunk = nullptr;
    for (auto& f : layers_) {
        if (f.root != r.pieces_root || static_cast<std::uint32_t>(f.base) != r.base) continue;
        for (auto& c : f.chunks)
            if (c.index == r.index && c.length == r.length && c.state == 1 && c.from == p.peer_key) {
                file = &f;
                chunk = &c;
            }
    }
    if (!chunk) return;  // not ours, or already given to someone else
    if (m.id == wire::MsgId::hash_reject) {
        chunk->state = 0;
        hash_backoff_[p.peer_key] = Clock::now() + reject_backoff;
        for (auto& q : std::vector(peers_))
            if (q.get() != &p) request_layers(*q);
        return;
    }
    if (r.proof_layers != static_cast<std::uint32_t>(file->root_level - file->base - 1) ||
        !meta::merkle_verify(file->root, file->root_level, file->base, r.index, r.length, hm.hashes)) {
        chunk->state = 0;
        known_[p.peer_key].banned = true;
        ctx_.emit({piecewise::EventType::peer_banned, id_,
                   fmt::format("{}: sent piece-layer hashes that do not match the pieces root",
                               format_endpoint(p.peer_key))});
        p.close("sent piece-layer hashes that do not match the pieces root");
        return;
    }
    for (std::uint32_t i = 0; i < r.length && r.index + i < static_cast<std::uint32_t>(file->num_pieces); ++i)
        file->hashes[r.index + i] = hm.hashes[i];
    chunk->state = 2;
    for (const auto& f : layers_)
        for (const auto& c : f.chunks)
            if (c.state != 2) {
                request_layers(p);
                return;
            }
    // Every layer is in: the torrent as a whole .torrent would have it, parsed again so
    // that its layers pass the same checks as any other.
    meta::Metainfo with_layers = std::move(*layers_for_);
    layers_for_.reset();
    with_layers.piece_hashes_v2.clear();
    for (const auto& s : with_layers.v2_spans) {
        if (s.num_pieces < 2) {
            with_layers.piece_hashes_v2.push_back(with_layers.files[static_cast<std::size_t>(s.file)].pieces_root);
            continue;
        }
        for (const auto& f : layers_)
            if (f.root == with_layers.files[static_cast<std::size_t>(s.file)].pieces_root) {
                with_layers.piece_hashes_v2.insert(with_layers.piece_hashes_v2.end(), f.hashes.begin(),
                                                   f.hashes.end());
                break;
            }
    }
    try {
        meta::Metainfo full = meta::parse("d4:info" + with_layers.info_bytes + "12:piece layers" +
                                          meta::encode_piece_layers(with_layers) + "e");
        finish(std::move(full));
    } catch (const std::exception& e) {
        finished_ = true;
        ctx_.emit({piecewise::EventType::storage_error, id_, std::string("piece layers: ") + e.what()});
    }
}

}  // namespace pw::session
