#include "session/torrent.hpp"
#include "swarm/seed_ratio.hpp"

#include "peer/mse_stream.hpp"
#include "dht/dht_node.hpp"
#include "lsd/discovery_set.hpp"
#include "session/endpoint.hpp"
#include "wire/ext_messages.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace pw::session {

namespace asio = boost::asio;
using asio::awaitable;
using piecewise::EventType;
using piecewise::TorrentState;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {
constexpr std::size_t max_known_peers = 2000;

// Reconnection back-off: 5 s, 10 s, 20 s ... up to 10 minutes.
std::chrono::seconds retry_delay(int failures) {
    return std::chrono::seconds(std::min(5 << std::min(failures - 1, 7), 600));
}

std::uint32_t max_message_for(const meta::Metainfo& m) {
    // A piece message with the largest block we accept, a whole bitfield, or an
    // extension message: whichever is largest.
    std::uint32_t bitfield = static_cast<std::uint32_t>(m.num_pieces() / 8 + 2);
    return std::max<std::uint32_t>({wire::block_size + 16, bitfield, 1u << 20});
}
}  // namespace

Torrent::Torrent(Context& ctx, piecewise::TorrentId id, meta::Metainfo m,
                 const piecewise::AddTorrentParams& params)
    : ctx_(ctx),
      id_(id),
      meta_(std::move(m)),
      params_(params),
      have_(meta_.num_pieces()),
      picker_(meta_.num_pieces(), std::random_device{}()),
      choker_(ctx.settings.unchoke_slots, std::random_device{}()),
      rng_(std::random_device{}()),
      tracker_wake_(ctx.io),
      tick_timer_(ctx.io) {
    // The .torrent's bytes were parsed into meta_ (which keeps the info dictionary for
    // ut_metadata): a second copy per torrent is memory for nothing.
    params_.torrent_data.clear();
    params_.torrent_data.shrink_to_fit();
    downloaded_ = params.downloaded_before;
    uploaded_ = params.uploaded_before;
    corrupt_bytes_ = params.corrupt_before;
    storage_ = std::make_shared<storage::Storage>(meta_.files, meta_.total_size,
                                                  std::filesystem::absolute(params.save_path));
    storage_->set_part_names(ctx.settings.part_files);
    build_trackers(params_.trackers ? *params_.trackers : meta_.trackers);
    init_priorities();
    init_web_seeds();
    bw_ = ctx.bandwidth;
    if (bw_) bw_bucket_ = bw_->add_bucket(params.honors_session_limits, params.download_limit, params.upload_limit);
    if (bw_ && !params.bandwidth_group.empty()) bw_->set_parent(bw_bucket_, bucket_parent());
    if (bw_) bw_->set_priority(bw_bucket_, params.bandwidth_priority);
}

Torrent::~Torrent() {
    if (bw_) bw_->remove_bucket(bw_bucket_);
}

void Torrent::emit(EventType t, std::string msg) {
    ctx_.emit(piecewise::Event{t, id_, std::move(msg)});
}

std::int64_t Torrent::left() const {
    std::int64_t have_bytes = 0;
    int n = meta_.num_pieces();
    if (have_.count() == n) return 0;
    have_bytes = static_cast<std::int64_t>(have_.count()) * meta_.piece_length;
    if (n > 0 && have_.get(n - 1)) have_bytes -= meta_.piece_length - meta_.piece_size(n - 1);
    return meta_.total_size - have_bytes;
}

void Torrent::start() {
    for (const auto& s : params_.peers)
        if (auto ep = parse_endpoint(s)) add_peer(*ep);
    begin_check();
}

void Torrent::fail_torrent(const std::string& why) {
    if (state_ == TorrentState::error) return;
    state_ = TorrentState::error;
    error_ = why;
    emit(EventType::storage_error, why);
    for (auto& p : std::vector(peers_)) p->close("torrent stopped");  // the error itself is reported once, by the torrent
}

piecewise::TorrentStatus Torrent::status() const {
    piecewise::TorrentStatus s;
    s.name = meta_.name;
    s.info_hash = meta_.info_hash.hex();
    s.state = state_;
    s.error = error_;
    s.num_pieces = meta_.num_pieces();
    s.pieces_have = have_.count();
    s.total_size = meta_.total_size;
    s.bytes_have = meta_.total_size - left();
    s.downloaded = downloaded_;
    s.uploaded = uploaded_;
    // A paused, stopped or failed torrent moves nothing: its meters' last seconds are not
    // shown as a rate (Transmission's front-ends show 0 for it at once).
    if (!paused_ && state_ != TorrentState::stopped && state_ != TorrentState::error) {
        s.down_rate = down_rate_.rate();
        s.up_rate = up_rate_.rate();
    }
    for (auto& p : peers_) {
        ++s.peers;
        if (p->seed) ++s.seeds;
    }
    s.known_peers = static_cast<int>(known_.size());
    s.hash_failures = hash_failures_;
    s.refetched = refetched_bytes_;
    s.failures_narrowed = failures_narrowed_;
    s.banned_peers = banned_count_;
    s.download_limit = params_.download_limit;
    s.upload_limit = params_.upload_limit;
    s.honors_session_limits = params_.honors_session_limits;
    s.bandwidth_priority = params_.bandwidth_priority;
    s.max_peers = peer_limit();
    if (check_progress_ && meta_.num_pieces() > 0)
        s.check_progress = double(check_progress_->pieces_done.load()) / meta_.num_pieces();
    fill_wanted_status(s);
    s.corrupt = corrupt_bytes_;
    s.seed_ratio_reached =
        seed_limit_stopped_ ||
        (wanted_done() &&
         swarm::seed_ratio_reached(uploaded_, downloaded_, s.size_when_done, params_.seed_ratio));
    auto now = Clock::now();
    for (auto& t : trackers_) {
        s.trackers.push_back(t.status);
        s.trackers.back().tier = t.tier;
        s.trackers.back().next_announce_s =
            std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(t.next_announce - now).count());
    }
    return s;
}

wire::Handshake Torrent::our_handshake() const {
    wire::Handshake h;
    h.info_hash = meta_.info_hash;
    h.peer_id = ctx_.peer_id;
    h.set_extensions();
    h.set_fast();                                              // BEP 6
    if (ctx_.dht && !meta_.is_private) h.reserved[7] |= 0x01;  // BEP 5: we run a DHT node
    if (meta_.format != meta::Format::v1) h.set_v2();         // BEP 52
    return h;
}

void Torrent::add_peer(const tcp::endpoint& given) {
    // Every peer source (trackers, DHT, PEX, LSD, --peer, a magnet's x.pe) comes here.
    // An IPv4-mapped IPv6 address is the IPv4 peer (one entry, dialled over IPv4).
    const tcp::endpoint ep = unmapped(given);
    if (ep.port() == 0 || ctx_.blocked(ep.address())) return;
    if (ep.address().is_unspecified() || ep.address().is_multicast()) return;
    if (known_.size() >= max_known_peers && !known_.count(ep)) return;
    known_.try_emplace(ep);
}

void Torrent::tick() {
    if (stopping_ || state_ == TorrentState::error) return;
    ++ticks_;
    connect_more();
    check_timeouts();
    leaf_check_tick();
    for (auto& q : std::vector(peers_)) request_more(*q);
    web_seed_tick();
    if (ticks_ % 10 == 0) rechoke();
    if (pieces_since_resume_ > 0 && ticks_ % 30 == 0) save_resume();
    // DHT: look for peers (and announce ourselves) at start, then every 15 minutes, or
    // every 5 while downloading with few peers; unheard lookups are retried sooner.
    if (ctx_.dht && !meta_.is_private) {
        int every = (!is_seed() && peers_.size() < 10) ? 300 : 900;
        if (dht_schedule_.due(ticks_, every)) dht_lookup();
    }
    if (ticks_ % 60 == 5) send_pex();
    if (ticks_ % 5 == 2) watch_files();
    check_seed_limits();
}

void Torrent::connect_more() {
    if (!accepting()) return;
    // Seeds dial too: some clients (Transmission on loopback, peers behind NAT) only
    // accept connections, and a leecher that announced first is found only this way.
    int room = peer_limit() - static_cast<int>(peers_.size()) - connecting_;
    auto now = Clock::now();
    for (auto& [ep, kp] : known_) {
        if (room <= 0 || connecting_ >= max_connecting) break;
        if (kp.connected || kp.banned || kp.self || kp.next_attempt > now || ctx_.blocked(ep.address()))
            continue;
        if (kp.seed && (is_seed() || params_.upload_only)) continue;  // nothing to trade
        if (ctx_.is_self(ep)) continue;  // us
        auto why = ctx_.limits->check_outgoing(ep.address());
        if (why == ConnectionLimits::Refusal::per_ip) continue;
        if (why != ConnectionLimits::Refusal::none) break;  // session-wide caps: next tick
        kp.connected = true;
        ++connecting_;
        --room;
        asio::co_spawn(ctx_.io, connect_to(ep, ctx_.limits->outgoing(ep.address())), asio::detached);
    }
}

awaitable<void> Torrent::connect_to(tcp::endpoint ep, ConnectionLimits::Slot slot, bool utp_only) {
    auto self = shared_from_this();
    peer::UtpDial transports = ctx_.utp_dial(ep.address());
    if (utp_only) transports.tcp = false;
    auto dialed = co_await peer::dial_peer(ctx_.io, ep, ctx_.bind_for(ep.address()), std::chrono::seconds(10),
                                           meta_.info_hash, wire::encode_handshake(our_handshake()),
                                           ctx_.settings.encryption, ctx_.encryption_memory,
                                           ctx_.proxy, ctx_.settings.bind_interface, transports);
    auto& sock = dialed.dialled;
    --connecting_;
    if (!dialed.error.empty())
        emit(EventType::peer_disconnected, format_endpoint(ep) + ": " + dialed.error);
    auto it = known_.find(ep);
    if (!sock || stopping_ || !accepting()) {
        if (it != known_.end()) {
            it->second.connected = false;
            ++it->second.failures;
            it->second.next_attempt = Clock::now() + retry_delay(it->second.failures);
        }
        if (!stopping_ && accepting()) ask_relay(ep);
        co_return;
    }
    auto p = std::make_shared<PeerConnection>(std::move(sock->socket), weak_from_this(), true,
                                              meta_.num_pieces(), max_message_for(meta_));
    slot.connected();
    p->slot = std::move(slot).hold();
    p->peer_key = ep;
    peers_.push_back(p);
    attach_bandwidth(*p);
    p->set_transport(std::move(sock->transport));
    p->start(our_handshake(), std::nullopt, meta_.info_hash);
}

void Torrent::attach_incoming(peer::PeerStream s, const wire::Handshake& theirs, peer::Transport t,
                              std::shared_ptr<void> slot, bool talking) {
    // Incoming peers may take a few slots beyond the limit (incoming_slack()); past that, one
    // that holds its slot without being of use gives it up to the newcomer.
    if (!accepting() || stopping_ ||
        (live_peers() >= peer_limit() + incoming_slack() && !evict_idle_peer(talking))) {
        boost::system::error_code ec;
        s.close(ec);
        return;
    }
    auto p = std::make_shared<PeerConnection>(std::move(s), weak_from_this(), false, meta_.num_pieces(),
                                              max_message_for(meta_));
    p->slot = std::move(slot);
    peers_.push_back(p);
    attach_bandwidth(*p);
    p->set_transport(std::move(t));
    // A hybrid answers in the swarm the peer named (BEP 52: v1 or truncated v2 hash).
    wire::Handshake ours = our_handshake();
    if (has_info_hash(theirs.info_hash)) ours.info_hash = theirs.info_hash;
    p->start(ours, theirs, ours.info_hash);
}

bool Torrent::on_handshake(PeerConnection& p) {
    const auto& h = p.their_handshake();
    if (h.peer_id == ctx_.peer_id) {
        // Connected to ourselves: never try this address again.
        auto it = known_.find(p.peer_key);
        if (it != known_.end()) it->second.self = true;
        p.close("connected to ourselves");
        return false;
    }
    if (banned_ids_.count(h.peer_id)) {
        p.close("banned peer");
        return false;
    }
    for (auto& other : peers_) {
        if (other.get() == &p || other->closed() || other->their_handshake().peer_id != h.peer_id)
            continue;
        // Two connections to one peer (both sides dialled at once): keep the one dialled by
        // the side with the lower peer id, so both sides keep the same connection.
        bool we_dial_first = ctx_.peer_id < h.peer_id;
        if (p.outgoing() == we_dial_first && other->outgoing() != we_dial_first) {
            other->close("duplicate connection");
            break;
        }
        p.close("duplicate connection");
        return false;
    }
    if (p.outgoing()) {
        auto it = known_.find(p.peer_key);
        if (it != known_.end()) it->second.failures = 0;
    }
    p.choke_id = next_choke_id_++;
    p.fast = h.supports_fast();
    send_fast_intro(p);
    if (ctx_.dht && !meta_.is_private && h.supports_dht()) {
        std::string port_msg;
        wire::put_port(port_msg, ctx_.listen_port);
        p.send_raw(port_msg);
    }
    if (h.supports_extensions()) {
        wire::ExtHandshake eh;
        eh.v = "Piecewise " PW_VERSION;
        eh.p = ctx_.listen_port;
        eh.reqq = 1000;
        eh.m.emplace_back("ut_metadata", ext_metadata_id);
        if (!meta_.is_private && ctx_.settings.pex) eh.m.emplace_back("ut_pex", ext_pex_id);
        if (holepunch_enabled()) eh.m.emplace_back("ut_holepunch", ext_holepunch_id);
        eh.metadata_size = static_cast<std::int64_t>(meta_.info_bytes.size());
        eh.ipv6 = ctx_.compact_listen_address(true);
        if (ctx_.second_listener) eh.ipv4 = ctx_.compact_listen_address(false);
        std::string payload = wire::encode_ext_handshake(eh);
        p.send_extended(0, payload);
    }
    return true;
}

void Torrent::on_message(PeerConnection& p, const wire::Message& m) {
    if (p.closed()) return;
    ++p.messages_in;
    using wire::MsgId;
    switch (m.id) {
        case MsgId::choke:
            p.peer_choking = true;
            // BEP 6: a choke no longer drops our requests; the peer still serves its
            // allowed fast pieces and rejects the rest. Those are released now (a late
            // block or reject for them is accepted) so that other peers can take them.
            release_requests_if(p, false, [&](const peer::OutRequest& r) {
                return !p.fast || std::find(p.allowed_fast_in.begin(), p.allowed_fast_in.end(),
                                            r.piece) == p.allowed_fast_in.end();
            });
            break;
        case MsgId::unchoke:
            p.peer_choking = false;
            p.last_unchoked_us = Clock::now();
            p.last_block = Clock::now();
            request_more(p);
            break;
        case MsgId::interested:
            p.peer_interested = true;
            // Free regular slot: unchoke at once instead of waiting for the next rechoke.
            if (p.am_choking) {
                int unchoked = 0;
                for (auto& o : peers_)
                    if (!o->am_choking) ++unchoked;
                if (unchoked < ctx_.settings.unchoke_slots) set_choke(p, false);
            }
            break;
        case MsgId::not_interested:
            p.peer_interested = false;
            break;
        case MsgId::have:
            handle_have(p, m.index);
            break;
        case MsgId::bitfield:
            handle_bitfield(p, m.payload);
            break;
        case MsgId::request:
            handle_request(p, m);
            break;
        case MsgId::piece:
            handle_block(p, m);
            break;
        case MsgId::cancel:
            handle_cancel(p, m);
            break;
        case MsgId::have_all:
        case MsgId::have_none:
        case MsgId::suggest:
        case MsgId::reject:
        case MsgId::allowed_fast:
            handle_fast(p, m);
            break;
        case MsgId::port:
            // BEP 5: the peer runs a DHT node on this UDP port.
            if (ctx_.dht && !meta_.is_private && m.port != 0)
                ctx_.dht->add_node(boost::asio::ip::udp::endpoint(p.remote().address(), m.port));
            break;
        case MsgId::hash_request:
        case MsgId::hashes:
        case MsgId::hash_reject:
            handle_hash_message(p, m);
            break;
        case MsgId::extended:
            if (m.ext_id == ext_metadata_id) {
                serve_metadata(p, m.payload);
            } else if (m.ext_id == ext_pex_id) {
                handle_pex(p, m.payload);
            } else if (m.ext_id == ext_holepunch_id) {
                handle_holepunch(p, m.payload);
            } else if (m.ext_id == 0) {
                if (auto eh = wire::decode_ext_handshake(m.payload)) {
                    if (eh->reqq > 0) p.reqq = std::clamp<std::int64_t>(eh->reqq, 1, 5000);
                    p.ext_client = eh->v;
                    for (auto& [name, id] : eh->m) {
                        if (name == "ut_metadata") p.ext_ut_metadata = static_cast<std::uint8_t>(id);
                        if (name == "ut_pex") p.ext_ut_pex = static_cast<std::uint8_t>(id);
                        if (name == "ut_holepunch") p.ext_ut_holepunch = static_cast<std::uint8_t>(id);
                    }
                    learn_other_address(p, *eh);
                    if (eh->p != 0 && !p.outgoing()) {
                        p.listen_port = eh->p;
                        tcp::endpoint key(p.remote().address(), eh->p);
                        p.peer_key = key;
                        auto& kp = known_[key];
                        if (kp.banned) {
                            p.close("banned peer");
                            return;
                        }
                        kp.connected = true;
                    }
                }
            }
            break;
    }
}

void Torrent::on_closed(PeerConnection& p, const std::string& reason) {
    release_requests(p, false);
    if (p.seed)
        picker_.remove_seed();
    else if (p.got_bitfield || p.has.count() > 0)
        picker_.dec_all(p.has);
    super_seed_closed(p);
    auto it = known_.find(p.peer_key);
    if (it != known_.end()) {
        it->second.connected = false;
        if (p.seed) it->second.seed = true;
        if (p.outgoing()) {
            // A connection that ended before the handshake completed counts as a failure.
            if (p.choke_id == 0) ++it->second.failures;
            // A plaintext dial the peer hung up on (it may require encryption): under
            // `prefer`, try MSE first next time.
            if (p.choke_id == 0 && !p.encrypted() &&
                ctx_.settings.encryption == piecewise::Encryption::prefer)
                ctx_.encryption_memory.set(p.peer_key, true);
            it->second.next_attempt = Clock::now() + retry_delay(std::max(it->second.failures, 1));
        }
    }
    // An outgoing connection that never got through the handshake (a NAT or firewall that
    // lets the connection open and then drops it looks like this too): try a relay.
    if (p.outgoing() && p.choke_id == 0 && !stopping_ && accepting()) ask_relay(p.peer_key);
    std::erase_if(peers_, [&](const std::shared_ptr<PeerConnection>& q) { return q.get() == &p; });
    // An outgoing connection is named by the peer dialled: through a proxy the socket's
    // remote end is the proxy.
    const tcp::endpoint& who = p.outgoing() ? p.peer_key : p.remote();
    emit(EventType::peer_disconnected, fmt::format("{} ({}): {}", format_endpoint(who),
                                                   p.client_name(), reason));
    // The blocks it held are free again: hand them to others.
    for (auto& q : std::vector(peers_)) request_more(*q);
    // One leecher fewer that lacks a piece, or has it (a peer that never finished its
    // handshake changes nothing: a flood of those costs no refill each).
    if (p.choke_id != 0) super_seed_refill_all();
}

}  // namespace pw::session

namespace pw::session {

boost::asio::awaitable<void> Torrent::shutdown(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    if (stopping_) co_return;
    stopping_ = true;
    if (ctx_.lsd) ctx_.lsd->remove(meta_.info_hash);
    tick_timer_.cancel();
    tracker_wake_.cancel();
    if (check_progress_) check_progress_->cancel = true;
    for (auto& p : std::vector(peers_)) p->close("shutting down");
    close_web_seeds();
    // The `stopped` announces (bounded by `timeout`) go out while the last writes finish
    // and the resume data is saved; the shutdown waits for whichever ends last.
    struct StopAnnounce {
        bool done = false;
        asio::steady_timer timer;
        explicit StopAnnounce(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
    };
    auto announce = std::make_shared<StopAnnounce>(ctx_.io);
    asio::co_spawn(ctx_.io, announce_stopped(timeout), [announce](std::exception_ptr) {
        announce->done = true;
        announce->timer.cancel();
    });
    // Let hash checks, writes and reads in flight finish, then record what is on disk.
    asio::steady_timer t(ctx_.io);
    // Polled every millisecond (a resume write takes about that long; a coarser step
    // showed as tens of milliseconds of `get`'s exit), for 30 s at most.
    auto wait_disk = [&]() -> awaitable<void> {
        const auto until = Clock::now() + std::chrono::seconds(30);
        while (disk_jobs_ > 0 && Clock::now() < until) {
            t.expires_after(std::chrono::milliseconds(1));
            co_await t.async_wait(use_nothrow);
        }
    };
    co_await wait_disk();
    if (state_ == TorrentState::downloading || state_ == TorrentState::seeding ||
        (state_ == TorrentState::error && have_.count() > 0)) {
        save_resume();
        co_await wait_disk();
    }
    if (!announce->done) co_await announce->timer.async_wait(use_nothrow);
    if (state_ != TorrentState::error) state_ = TorrentState::stopped;
}

}  // namespace pw::session

namespace pw::session {

void Torrent::dht_lookup() {
    std::weak_ptr<Torrent> weak = shared_from_this();
    ctx_.dht->get_peers_with_stats(
        meta_.info_hash, ctx_.listen_port,
        [weak](std::vector<boost::asio::ip::udp::endpoint> peers) {
            auto self = weak.lock();
            if (!self || self->stopping_) return;
            for (auto& ep : peers) self->add_peer(tcp::endpoint(ep.address(), ep.port()));
            self->connect_more();
        },
        [weak](const dht::LookupStats& st) {
            if (auto self = weak.lock(); self && !self->stopping_)
                self->dht_schedule_.finished(self->ticks_, st.announced > 0);
        });
    dht_lookup_v2();
}

}  // namespace pw::session
