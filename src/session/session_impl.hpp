// Session::Impl: the session's state on the network thread (the listener, the UDP
// socket shared by the DHT and uTP, the torrents, magnet fetches and the event queue),
// shared by session.cpp (construction, accept, handshake, add/stop) and
// session_control.cpp (the control, limit and monitoring calls of Session).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <deque>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <ctime>
#include <thread>
#include <unordered_map>

#include "piecewise/session.hpp"
#include "session/context.hpp"
#include "bencode/bencode.hpp"
#include "meta/magnet.hpp"
#include "crypto/mse_handshake.hpp"
#include "session/endpoint.hpp"
#include "dht/dht_node.hpp"
#include "filter/parse/blocklist.hpp"
#include "lsd/discovery_set.hpp"
#include "net/bind_device.hpp"
#include "net/deadline.hpp"
#include "session/metadata_fetch.hpp"
#include "session/port_mapping.hpp"
#include "session/upnp_mapping.hpp"
#include "session/fd_budget.hpp"
#include "session/rate_control.hpp"
#include "session/bandwidth_groups.hpp"
#include "session/torrent.hpp"
#include "session/streams.hpp"
#include "utp/packet.hpp"
#include "tracker/tls_client.hpp"

namespace piecewise {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using piecewise::EventType;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// An incoming connection sends its BitTorrent handshake within this (after MSE, if any,
// which has its own limit); a peer sends it at once, so a few seconds are plenty.
inline constexpr auto handshake_timeout = std::chrono::seconds(5);
// At the connection cap, a newcomer takes the place of the oldest connection still
// pending (no handshake yet, or answered but silent) once that one waited this long: a
// peer's handshake comes within a round trip, and a flood of connections that say
// nothing must not keep honest ones out.
inline constexpr auto pending_grace = std::chrono::milliseconds(500);

struct Session::Impl {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    pw::storage::DiskPool disk;
    pw::session::Context ctx;
    pw::session::ConnectionLimits limits;
    tcp::acceptor acceptor{io};
    tcp::acceptor acceptor2{io};  // Settings::listen2 (the IPv6 one of two); closed: none
    std::map<TorrentId, std::shared_ptr<pw::session::Torrent>> torrents;
    std::map<TorrentId, std::shared_ptr<pw::session::MetadataFetch>> fetches;
    int next_id = 1;
    std::mutex ev_mu;
    std::condition_variable ev_cv;
    std::deque<Event> events;
    std::thread thread;
    bool stopped = false;

    asio::ip::udp::socket udp{io};
    std::unique_ptr<pw::dht::DhtNode> dht;
    std::unique_ptr<pw::peer::UtpManager> utp;
    // The second listener's UDP socket, for uTP only (the DHT is IPv4, on `udp`).
    asio::ip::udp::socket udp2{io};
    std::unique_ptr<pw::peer::UtpManager> utp2;

    std::unique_ptr<pw::lsd::DiscoverySet> lsd;
    std::unique_ptr<pw::session::PortMapping> port_mapping;  // Settings::natpmp
    std::unique_ptr<pw::session::UpnpMapping> upnp_mapping;  // Settings::upnp

    // Session control (session_control.cpp).
    struct PausedMagnet {
        pw::meta::Magnet magnet;
        AddTorrentParams params;
    };
    std::map<TorrentId, PausedMagnet> paused_magnets;  // magnets added or paused before their metadata
    std::map<TorrentId, std::int64_t> added_time;       // unix seconds
    std::map<TorrentId, AddTorrentParams> fetch_params;  // of the magnets in `fetches`
    TorrentStatus paused_magnet_status(const PausedMagnet& pm) const;
    void start_fetch(TorrentId id, const pw::meta::Magnet& magnet, const AddTorrentParams& params);
    awaitable<void> remove(TorrentId id, bool delete_data);
    awaitable<void> resume(TorrentId id);
    awaitable<void> recheck(TorrentId id);
    awaitable<bool> wait_settled(const std::shared_ptr<pw::session::Torrent>& t);

    // Rate limits (rate_control.cpp, torrent_limits.cpp).
    std::unique_ptr<pw::session::RateControl> rates;
    std::unique_ptr<pw::session::BandwidthGroups> groups;  // session_groups.cpp

    // Moves and renames (torrent_move.cpp, torrent_rename.cpp). While a torrent moves, the
    // paused Torrent stays in `torrents`; pause/resume/recheck meanwhile change what it
    // comes back as.
    struct MoveState {
        bool moving = false;
        bool paused = false;   // comes back paused
        bool recheck = false;  // comes back with every piece hashed
        bool renaming = false;
        std::string error;  // the last move's or rename's failure
    };
    std::map<TorrentId, MoveState> moves;
    std::shared_ptr<std::atomic<bool>> moves_cancel = std::make_shared<std::atomic<bool>>(false);
    awaitable<void> move(TorrentId id, std::string new_dir, bool move_data);
    void finish_move(TorrentId id, std::shared_ptr<pw::session::Torrent> old, std::string new_dir,
                     std::string error, bool check);
    void fill_move_status(TorrentId id, TorrentStatus& s) const;
    bool is_moving(TorrentId id) const {
        auto it = moves.find(id);
        return it != moves.end() && it->second.moving;
    }
    awaitable<void> wait_moved(TorrentId id);  // until a move of `id` is over (bounded)

    // Streaming readers (session_stream.cpp), made by the first stream_open.
    std::shared_ptr<pw::session::StreamRegistry> streams;

    explicit Impl(Settings s)
        : disk(s.disk_threads),
          ctx{io, disk, s, {}, {}, 0, {}, {}, false, {}, {}, nullptr, nullptr, {}, nullptr, {}, {}, {}},
          limits({s.max_connections, s.max_half_open, s.max_connections_per_ip}) {}

    // A neighbour announced an info-hash by local service discovery.
    void on_local_peer(const pw::Sha1Digest& ih, const tcp::endpoint& ep) {
        for (auto& [id, t] : torrents)
            if (t->has_info_hash(ih)) t->add_peer(ep);
        for (auto& [id, f] : fetches)
            if (f->info_hash() == ih) f->add_peer(ep);
    }

    // Datagrams on a UDP port: KRPC (first byte 'd') goes to the DHT (IPv4 on `udp`, IPv6
    // on `udp2` with two listeners: the DHT routes by the sender's family), uTP to that
    // socket's manager `mgr`.
    // (Until the socket closes or is replaced by one on another port.)
    awaitable<void> udp_loop(asio::ip::udp::socket& sock, std::unique_ptr<pw::peer::UtpManager>& mgr) {
        const auto generation = listen_generation;
        std::vector<char> buf(65536);
        while (sock.is_open() && generation == listen_generation) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await sock.async_receive_from(asio::buffer(buf), from, use_nothrow);
            if (!sock.is_open() || generation != listen_generation) break;
            if (ec) continue;
            std::string_view dgram(buf.data(), n);
            if (n > 0 && buf[0] == 'd') {
                if (ctx.dht) ctx.dht->on_packet(from, dgram);  // null while the DHT is off
            } else if (mgr && pw::utp::looks_like_utp(dgram)) {
                mgr->on_datagram(from, dgram);
            }
            // The end of a batch: uTP sends its delayed ACKs.
            boost::system::error_code aec;
            if (mgr && sock.is_open() && sock.available(aec) == 0) mgr->flush();
        }
    }

    bool known(const pw::Sha1Digest& ih) const;
    // Bumped when set_listen_port replaces the sockets: the loops of the old ones end.
    std::uint64_t listen_generation = 0;
    // uTP on the shared UDP socket: incoming connections go through the same handshake
    // (and MSE) as TCP ones.
    std::unique_ptr<pw::peer::UtpManager> start_utp(asio::ip::udp::socket& sock) {
        tune_utp_socket(sock);
        pw::peer::UtpOptions o;
        o.simulate_nat = ctx.settings.simulate_nat;
        auto m = std::make_unique<pw::peer::UtpManager>(io, sock, o);
        m->set_accept(utp_acceptor());
        return m;
    }
    // What a uTP manager does with an incoming connection while uTP is on.
    std::function<void(pw::peer::UtpStream)> utp_acceptor() {
        return [this](pw::peer::UtpStream s) {
            const auto addr = pw::session::unmapped(s.remote_endpoint().address());
            if (ctx.blocked(addr)) return;  // closed as it goes
            // The same connection caps as the TCP listener's.
            using Refusal = pw::session::ConnectionLimits::Refusal;
            auto why = limits.check_incoming(addr);
            if (why == Refusal::total && limits.evict_pending(std::chrono::steady_clock::now(), pending_grace))
                why = limits.check_incoming(addr);
            if (why != Refusal::none) return;
            auto slot = limits.incoming(addr, std::chrono::steady_clock::now(), {});
            asio::co_spawn(io, handshake(pw::peer::PeerStream(std::move(s)), std::move(slot)), asio::detached);
        };
    }

    static void tune_utp_socket(asio::ip::udp::socket& sock) {
        boost::system::error_code ec;
        sock.non_blocking(true, ec);
        sock.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
        sock.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
    }

    // The listen sockets and port mappings (session_listen.cpp) and the live toggles of the
    // DHT, LSD and uTP (session_toggles.cpp): on the network thread, or from the
    // constructor before it runs. Those returning a string return "" or why they could not.
    // Opens and binds `acc` at `at` as a peer listener (IPv6-only with `v6only`).
    std::string open_listener(tcp::acceptor& acc, const tcp::endpoint& at, bool v6only);
    // Opens and binds `sock` at addr:port (IPv6-only with `v6only`); `what` names its users.
    std::string bind_udp(asio::ip::udp::socket& sock, const asio::ip::address& addr, std::uint16_t port,
                         bool v6only, const std::string& what);
    std::string change_port(std::uint16_t port);  // set_listen_port, on the network thread
    // NAT-PMP's gateway (Settings::natpmp), found at construction; none: no NAT-PMP.
    std::optional<asio::ip::udp::endpoint> natpmp_gateway;
    // Session::set_port_forwarding; `gateway` / `gateway_why` found on the caller's thread.
    std::string enable_port_forwarding(bool on, std::optional<asio::ip::udp::endpoint> gateway,
                                       const std::string& gateway_why);
    void start_natpmp();
    void start_upnp();
    awaitable<void> remap_ports(std::unique_ptr<pw::session::PortMapping> old_natpmp,
                                std::unique_ptr<pw::session::UpnpMapping> old_upnp);
    // Opens `sock` on `addr` at the listen port (on Settings::bind_interface; IPv6-only
    // with `v6only`) and starts its receive loop feeding `mgr`; `what` names its users in
    // the error. Nothing to do when it is open already.
    std::string open_udp(asio::ip::udp::socket& sock, const asio::ip::address& addr, bool v6only,
                         std::unique_ptr<pw::peer::UtpManager>& mgr, const std::string& what);
    std::string open_udp_sockets();  // the main one, and the second listener's
    std::string start_dht();         // creates the node (on the open sockets) and starts it
    std::string start_lsd();
    std::string enable_dht(bool on);
    std::string enable_lsd(bool on);
    std::string enable_utp(bool on);
    void save_torrent_file(const pw::meta::Metainfo& m, const std::string& path, TorrentId id);

    void emit(Event e) {
        {
            std::lock_guard lk(ev_mu);
            if (events.size() >= 10000) events.pop_front();  // bounded if nobody reads
            events.push_back(std::move(e));
        }
        ev_cv.notify_all();
    }

    // Connections on `acceptor` or `acceptor2`, until it closes or is replaced by one on
    // another port (set_listen_port).
    awaitable<void> accept_loop(tcp::acceptor& acceptor) {
        const auto generation = listen_generation;
        int failures = 0;
        while (acceptor.is_open() && generation == listen_generation) {
            auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
            if (!acceptor.is_open() || generation != listen_generation) break;
            if (ec) {
                // Out of descriptors (EMFILE, ENFILE) or memory: the pending connection stays
                // queued and would fail again at once, so wait, longer each time (to 1 s).
                asio::steady_timer t(io);
                t.expires_after(std::chrono::milliseconds(std::min(1000, 50 << std::min(failures++, 5))));
                co_await t.async_wait(use_nothrow);
                continue;
            }
            failures = 0;
            // A blocked address is closed before a byte of its handshake is read.
            // An IPv4 peer on a dual-stack socket counts as its IPv4 address (caps, filters).
            auto remote = pw::session::unmapped(sock.remote_endpoint(ec));
            // Settings::simulate_nat: a NAT lets no unsolicited TCP connection in.
            if (ec || ctx.blocked(remote.address()) || ctx.settings.simulate_nat) {
                sock.close(ec);
                continue;
            }
            // Over the connection caps the socket is closed before anything is allocated
            // for it, unless a connection that has not sent its handshake yet (for 0.5 s)
            // can give up its place.
            auto why = limits.check_incoming(remote.address());
            if (why == pw::session::ConnectionLimits::Refusal::total &&
                limits.evict_pending(std::chrono::steady_clock::now(), pending_grace))
                why = limits.check_incoming(remote.address());
            if (why != pw::session::ConnectionLimits::Refusal::none) {
                sock.close(ec);
                continue;
            }
            auto slot = limits.incoming(remote.address(), std::chrono::steady_clock::now(), {});
            asio::co_spawn(io, handshake(std::move(sock), std::move(slot)), asio::detached);
        }
    }

    // The SKEY lookup of an MSE responder: every torrent and magnet fetch of the session.
    // HASH("req2", info-hash) is computed once per info-hash (with a thousand torrents, a
    // thousand SHA-1s per incoming encrypted connection otherwise); the memo is rebuilt
    // when it holds far more hashes than the session has torrents.
    std::optional<pw::Sha1Digest> find_skey(const pw::Sha1Digest& req2) {
        if (req2_memo.size() > 2 * (torrents.size() + fetches.size()) + 64) req2_memo.clear();
        auto matches = [&](const pw::Sha1Digest& ih) {
            auto [it, fresh] = req2_memo.try_emplace(ih);
            if (fresh) it->second = pw::crypto::mse_req2_hash(ih);
            return it->second == req2;
        };
        for (auto& [id, t] : torrents) {
            if (matches(t->info_hash())) return t->info_hash();
            if (auto sw = t->v2_swarm(); sw && matches(*sw)) return *sw;  // hybrid (BEP 52)
        }
        for (auto& [id, f] : fetches)
            if (matches(f->info_hash())) return f->info_hash();
        return std::nullopt;
    }
    std::unordered_map<pw::Sha1Digest, pw::Sha1Digest> req2_memo;  // info-hash -> HASH("req2", it)

    // Reads the peer's handshake (plaintext, or inside MSE: the first bytes tell which)
    // and hands the connection to the torrent it names.
    awaitable<void> handshake(pw::peer::PeerStream sock, pw::session::ConnectionLimits::Slot slot) {
        using piecewise::Encryption;
        const Encryption policy = ctx.settings.encryption;
        // Evicted while still pending (the listener needs the place): closing the socket
        // ends the reads below.
        slot.on_evict([&sock] {
            boost::system::error_code e;
            sock.close(e);
        });
        auto close_sock = [&sock] {
            boost::system::error_code e;
            sock.close(e);
        };
        pw::net::Deadline deadline(io.get_executor());
        deadline.arm(handshake_timeout, close_sock);
        static constexpr std::string_view protocol = "\023BitTorrent protocol";
        std::string first(protocol.size(), '\0');
        auto [ec, n] = co_await asio::async_read(sock, asio::buffer(first), use_nothrow);
        if (ec || !sock.is_open()) co_return;
        slot.spoke();  // evicted after the silent ones, if the listener needs places
        pw::peer::Transport transport;
        std::string hs;
        std::optional<pw::Sha1Digest> skey;
        if (first == protocol) {
            if (policy == Encryption::require) co_return;  // plaintext refused
            hs = first;
        } else {
            if (policy == Encryption::disable) co_return;  // encrypted handshake refused
            deadline.cancel();
            auto r = co_await pw::peer::mse_respond(
                sock, std::move(first), [this](const pw::Sha1Digest& h) { return find_skey(h); },
                pw::peer::mse_methods(policy), pw::peer::mse_timeout);
            if (!r) co_return;
            transport = std::move(r->transport);
            skey = r->skey;
            // The BitTorrent handshake came as IA, or follows.
            hs = std::move(transport.pending);
            transport.pending.clear();
            deadline.arm(handshake_timeout, close_sock);
        }
        while (hs.size() < pw::wire::handshake_size) {
            char more[pw::wire::handshake_size];
            auto [rec, rn] = co_await sock.async_read_some(
                asio::buffer(more, pw::wire::handshake_size - hs.size()), use_nothrow);
            if (rec || !sock.is_open()) co_return;
            if (transport.dec) transport.dec->process(more, rn);
            hs.append(more, rn);
        }
        deadline.cancel();
        if (!sock.is_open()) co_return;
        auto h =
            pw::wire::decode_handshake(std::string_view(hs).substr(0, pw::wire::handshake_size));
        if (!h || (skey && h->info_hash != *skey)) co_return;
        transport.pending = hs.substr(pw::wire::handshake_size);
        std::shared_ptr<pw::session::Torrent> torrent;
        for (auto& [id, t] : torrents)
            if (t->has_info_hash(h->info_hash)) torrent = t;
        if (!torrent) {
            for (auto& [id, f] : fetches)
                if (f->info_hash() == h->info_hash) {
                    slot.handshaken();
                    f->attach_incoming(std::move(sock), *h, std::move(transport), std::move(slot).hold());
                    co_return;
                }
            co_return;
        }
        // A torrent still checking its data takes the peer once it knows what it has.
        if (torrent->checking()) slot.handshaken();
        asio::steady_timer timer(io);
        for (int i = 0; i < 300 && torrent->checking() && sock.is_open(); ++i) {
            timer.expires_after(std::chrono::milliseconds(100));
            co_await timer.async_wait(use_nothrow);
        }
        // Full, and nobody to evict: answer its handshake and give it a few seconds to
        // talk. One that does may take the slot of a peer silent for 1 s; a flood's
        // connections that handshake and stall never do (and stay evictable by the
        // listener meanwhile, as answered: after the silent ones, before those still
        // sending their handshake).
        bool talking = false;
        if (sock.is_open() && torrent->accepting() && !torrent->has_room()) {
            std::string ours = pw::wire::encode_handshake(torrent->handshake());
            if (transport.enc) transport.enc->process(ours.data(), ours.size());
            auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(ours), use_nothrow);
            if (wec || !sock.is_open()) co_return;
            transport.handshake_sent = true;
            slot.answered(std::chrono::steady_clock::now());
            if (transport.pending.empty()) {
                deadline.arm(std::chrono::seconds(2), close_sock);
                char more[4096];
                auto [rec, rn] = co_await sock.async_read_some(asio::buffer(more), use_nothrow);
                deadline.cancel();
                if (rec || !sock.is_open()) co_return;
                if (transport.dec) transport.dec->process(more, rn);
                transport.pending.append(more, rn);
            }
            talking = true;
        }
        slot.handshaken();
        torrent->attach_incoming(std::move(sock), *h, std::move(transport), std::move(slot).hold(),
                                 talking);
    }
};

// Runs `fn(impl)` on the network thread; returns what it returned (false if stopped).
template <class Fn>
inline bool on_network(Session::Impl& d, bool stopped, Fn fn) {
    if (stopped) return false;
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done, fn] { done->set_value(fn(d)); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return false;
    return fut.get();
}
// Runs `fn(impl)`, which answers "" or why it failed, on the network thread; throws Error
// with the reason. false once stopped.
template <class Fn>
inline bool on_network_or_throw(Session::Impl& d, bool stopped, Fn fn) {
    auto why = std::make_shared<std::string>();
    bool ok = on_network(d, stopped, [why, fn](Session::Impl& impl) {
        *why = fn(impl);
        return true;
    });
    if (!why->empty()) throw Error(*why);
    return ok;
}
inline bool has(const Session::Impl& d, TorrentId id) {
    return d.torrents.count(id) || d.fetches.count(id) || d.paused_magnets.count(id);
}

}  // namespace piecewise
