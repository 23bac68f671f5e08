// The session: the network thread, the listener, the torrents and the event queue.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
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
#include "lsd/local_discovery.hpp"
#include "net/bind_device.hpp"
#include "session/metadata_fetch.hpp"
#include "session/fd_budget.hpp"
#include "session/rate_control.hpp"
#include "session/torrent.hpp"
#include "utp/packet.hpp"
#include "tracker/tls_client.hpp"

namespace piecewise {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using piecewise::EventType;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

// An incoming connection sends its BitTorrent handshake within this (after MSE, if any,
// which has its own limit); a peer sends it at once, so a few seconds are plenty.
constexpr auto handshake_timeout = std::chrono::seconds(5);
// At the connection cap, a newcomer takes the place of the oldest connection still
// pending (no handshake yet, or answered but silent) once that one waited this long: a
// peer's handshake comes within a round trip, and a flood of connections that say
// nothing must not keep honest ones out.
constexpr auto pending_grace = std::chrono::milliseconds(500);

std::string default_resume_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x)
        return std::string(x) + "/piecewise/resume";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/piecewise/resume";
    return "/tmp/piecewise-resume";
}

pw::wire::PeerId make_peer_id() {
    // Azureus-style client prefix, then random bytes from the URL-safe alphabet.
    pw::wire::PeerId id{};
    std::string prefix = "-PW0100-";
    std::copy(prefix.begin(), prefix.end(), id.begin());
    std::random_device rd;
    const char* alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (std::size_t i = prefix.size(); i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(alphabet[rd() % 62]);
    return id;
}

// Reads and parses Settings::blocklist_file (on the caller's thread, before the network
// thread starts). Throws SettingsError when it cannot be read or yields no range.
std::shared_ptr<const pw::filter::IpRanges> load_blocklist(const std::string& path, std::string& summary) {
    std::error_code fec;
    if (std::filesystem::is_directory(path, fec)) throw SettingsError("cannot read blocklist " + path + ": is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SettingsError("cannot read blocklist " + path + ": " + std::strerror(errno));
    std::string data;
    std::vector<char> buf(1 << 20);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
        data.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (in.bad()) throw SettingsError("cannot read blocklist " + path + ": " + std::strerror(errno));
    auto r = pw::filter::parse_blocklist(data);
    if (!r.error.empty()) throw SettingsError("blocklist " + path + ": " + r.error);
    if (r.ranges.empty())
        throw SettingsError(fmt::format("blocklist {}: no IP range in it ({} of {} lines skipped)", path,
                                        r.skipped, r.lines));
    summary = fmt::format("blocklist: {} ranges from {} ({} lines skipped)", r.ranges.size(), path, r.skipped);
    return std::make_shared<const pw::filter::IpRanges>(std::move(r.ranges));
}

}  // namespace

struct Session::Impl {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    pw::storage::DiskPool disk;
    pw::session::Context ctx;
    pw::session::ConnectionLimits limits;
    tcp::acceptor acceptor{io};
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

    std::unique_ptr<pw::lsd::LocalDiscovery> lsd;

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

    explicit Impl(Settings s)
        : disk(s.disk_threads),
          ctx{io, disk, s, {}, {}, 0, {}, {}, {}, nullptr, nullptr, {}, nullptr, {}, {}, {}},
          limits({s.max_connections, s.max_half_open, s.max_connections_per_ip}) {}

    // A neighbour announced an info-hash by local service discovery.
    void on_local_peer(const pw::Sha1Digest& ih, const tcp::endpoint& ep) {
        for (auto& [id, t] : torrents)
            if (t->info_hash() == ih) t->add_peer(ep);
        for (auto& [id, f] : fetches)
            if (f->info_hash() == ih) f->add_peer(ep);
    }

    // Datagrams on the shared UDP port: KRPC (first byte 'd') goes to the DHT.
    awaitable<void> udp_loop() {
        std::vector<char> buf(65536);
        while (udp.is_open()) {
            asio::ip::udp::endpoint from;
            auto [ec, n] = co_await udp.async_receive_from(asio::buffer(buf), from, use_nothrow);
            if (!udp.is_open()) break;
            if (ec) continue;
            std::string_view dgram(buf.data(), n);
            if (n > 0 && buf[0] == 'd') {
                if (dht) dht->on_packet(from, dgram);
            } else if (utp && pw::utp::looks_like_utp(dgram)) {
                utp->on_datagram(from, dgram);
            }
            // The end of a batch: uTP sends its delayed ACKs.
            boost::system::error_code aec;
            if (utp && udp.is_open() && udp.available(aec) == 0) utp->flush();
        }
    }

    bool known(const pw::Sha1Digest& ih) const;
    // uTP on the shared UDP socket: incoming connections go through the same handshake
    // (and MSE) as TCP ones.
    void start_utp() {
        boost::system::error_code ec;
        udp.non_blocking(true, ec);
        udp.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
        udp.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
        pw::peer::UtpOptions o;
        utp = std::make_unique<pw::peer::UtpManager>(io, udp, o);
        utp->set_accept([this](pw::peer::UtpStream s) {
            const auto addr = s.remote_endpoint().address();
            if (ctx.blocked(addr)) return;  // closed as it goes
            // The same connection caps as the TCP listener's.
            using Refusal = pw::session::ConnectionLimits::Refusal;
            auto why = limits.check_incoming(addr);
            if (why == Refusal::total && limits.evict_pending(std::chrono::steady_clock::now(), pending_grace))
                why = limits.check_incoming(addr);
            if (why != Refusal::none) return;
            auto slot = limits.incoming(addr, std::chrono::steady_clock::now(), {});
            asio::co_spawn(io, handshake(pw::peer::PeerStream(std::move(s)), std::move(slot)), asio::detached);
        });
        ctx.utp = utp.get();
    }
    void save_torrent_file(const pw::meta::Metainfo& m, const std::string& path, TorrentId id);

    void emit(Event e) {
        {
            std::lock_guard lk(ev_mu);
            if (events.size() >= 10000) events.pop_front();  // bounded if nobody reads
            events.push_back(std::move(e));
        }
        ev_cv.notify_all();
    }

    awaitable<void> accept_loop() {
        int failures = 0;
        while (acceptor.is_open()) {
            auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
            if (!acceptor.is_open()) break;
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
            auto remote = sock.remote_endpoint(ec);
            if (ec || ctx.blocked(remote.address())) {
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
        for (auto& [id, t] : torrents)
            if (matches(t->info_hash())) return t->info_hash();
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
        asio::steady_timer timer(io);
        timer.expires_after(handshake_timeout);
        timer.async_wait([&sock](boost::system::error_code e) {
            if (!e) sock.close();
        });
        static constexpr std::string_view protocol = "\023BitTorrent protocol";
        std::string first(protocol.size(), '\0');
        auto [ec, n] = co_await asio::async_read(sock, asio::buffer(first), use_nothrow);
        if (ec || !sock.is_open()) co_return;
        pw::peer::Transport transport;
        std::string hs;
        std::optional<pw::Sha1Digest> skey;
        if (first == protocol) {
            if (policy == Encryption::require) co_return;  // plaintext refused
            hs = first;
        } else {
            if (policy == Encryption::disable) co_return;  // encrypted handshake refused
            timer.cancel();
            auto r = co_await pw::peer::mse_respond(
                sock, std::move(first), [this](const pw::Sha1Digest& h) { return find_skey(h); },
                pw::peer::mse_methods(policy), pw::peer::mse_timeout);
            if (!r) co_return;
            transport = std::move(r->transport);
            skey = r->skey;
            // The BitTorrent handshake came as IA, or follows.
            hs = std::move(transport.pending);
            transport.pending.clear();
            timer.expires_after(handshake_timeout);
            timer.async_wait([&sock](boost::system::error_code e) {
                if (!e) sock.close();
            });
        }
        while (hs.size() < pw::wire::handshake_size) {
            char more[pw::wire::handshake_size];
            auto [rec, rn] = co_await sock.async_read_some(
                asio::buffer(more, pw::wire::handshake_size - hs.size()), use_nothrow);
            if (rec || !sock.is_open()) co_return;
            if (transport.dec) transport.dec->process(more, rn);
            hs.append(more, rn);
        }
        timer.cancel();
        if (!sock.is_open()) co_return;
        auto h =
            pw::wire::decode_handshake(std::string_view(hs).substr(0, pw::wire::handshake_size));
        if (!h || (skey && h->info_hash != *skey)) co_return;
        transport.pending = hs.substr(pw::wire::handshake_size);
        std::shared_ptr<pw::session::Torrent> torrent;
        for (auto& [id, t] : torrents)
            if (t->info_hash() == h->info_hash) torrent = t;
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
        for (int i = 0; i < 300 && torrent->checking() && sock.is_open(); ++i) {
            timer.expires_after(std::chrono::milliseconds(100));
            co_await timer.async_wait(use_nothrow);
        }
        // Full, and nobody to evict: answer its handshake and give it a few seconds to
        // talk. One that does may take the slot of a peer silent for 1 s; a flood's
        // connections that handshake and stall never do (and stay evictable by the
        // listener meanwhile, as pending).
        bool talking = false;
        if (sock.is_open() && torrent->accepting() && !torrent->has_room()) {
            std::string ours = pw::wire::encode_handshake(torrent->handshake());
            if (transport.enc) transport.enc->process(ours.data(), ours.size());
            auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(ours), use_nothrow);
            if (wec || !sock.is_open()) co_return;
            transport.handshake_sent = true;
            if (transport.pending.empty()) {
                timer.expires_after(std::chrono::seconds(2));
                timer.async_wait([&sock](boost::system::error_code e) {
                    if (!e) sock.close();
                });
                char more[4096];
                auto [rec, rn] = co_await sock.async_read_some(asio::buffer(more), use_nothrow);
                timer.cancel();
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

Session::Session(Settings settings) : impl_(std::make_unique<Impl>(settings)) {
    auto& d = *impl_;
    d.ctx.peer_id = make_peer_id();
    std::random_device rd;
    d.ctx.tracker_key = fmt::format("{:08x}", rd());
    d.ctx.resume_dir = settings.resume_dir.empty() ? default_resume_dir() : settings.resume_dir;
    d.ctx.emit = [impl = impl_.get()](Event e) { impl->emit(std::move(e)); };
    // Descriptors: raise the soft limit, then fit the connection cap in it.
    d.limits.set_max_connections(
        pw::session::connection_budget(settings.max_connections, pw::session::raise_fd_limit()));
    d.ctx.limits = &d.limits;

    auto ep = pw::session::parse_endpoint(settings.listen);
    if (!ep) throw Error("bad listen address '" + settings.listen + "' (expected HOST:PORT)");
    const std::string& device = settings.bind_interface;
    if (auto why = pw::net::check_interface(device); !why.empty()) throw Error("bind interface: " + why);
    if (!settings.blocklist_file.empty()) {
        std::string summary;
        d.ctx.blocklist = load_blocklist(settings.blocklist_file, summary);
        d.emit({EventType::blocklist_loaded, -1, summary});
    }
    boost::system::error_code ec;
    d.acceptor.open(ep->protocol(), ec);
    if (!ec && (ec = pw::net::bind_to_device(d.acceptor, device)))
        throw Error("cannot bind the peer listener to interface '" + device + "': " + ec.message());
    if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) d.acceptor.bind(*ep, ec);
    if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw Error("cannot listen on " + settings.listen + ": " + ec.message());
    d.ctx.listen_port = d.acceptor.local_endpoint().port();
    d.ctx.bind_address = ep->address();
    if (!settings.proxy.empty()) {
        auto parsed = pw::proxy::parse_proxy_url(settings.proxy);
        if (auto* why = std::get_if<std::string>(&parsed)) throw Error("bad proxy: " + *why);
        d.ctx.proxy = std::get<pw::proxy::ProxyConfig>(parsed);
    }
    // The DHT cannot go through the proxy without giving this address away (it answers
    // queries and announces its port), so it stays off while a proxy is set.
    if (!settings.utp && !settings.tcp) throw Error("uTP and TCP cannot both be off");
    if (!settings.tcp && d.ctx.proxy.enabled()) throw Error("uTP-only cannot go through a proxy");
    if ((settings.dht || settings.utp) && !d.ctx.proxy.enabled()) {
        asio::ip::udp::endpoint uep(ep->address(), d.ctx.listen_port);
        d.udp.open(uep.protocol(), ec);
        if (!ec && (ec = pw::net::bind_to_device(d.udp, device)))
            throw Error("cannot bind the DHT's UDP socket to interface '" + device + "': " + ec.message());
        if (!ec) d.udp.bind(uep, ec);
        if (ec) throw Error("cannot bind UDP " + settings.listen + " for the DHT: " + ec.message());
        if (settings.utp) d.start_utp();
        asio::co_spawn(d.io, d.udp_loop(), asio::detached);
    }
    if (settings.dht && !d.ctx.proxy.enabled()) {
        pw::dht::DhtSettings ds;
        ds.bootstrap = settings.dht_bootstrap;
        ds.state_file = settings.dht_state_file.empty()
                            ? std::filesystem::path(d.ctx.resume_dir).parent_path().string() + "/dht.state"
                            : settings.dht_state_file;
        std::error_code fec;
        std::filesystem::create_directories(std::filesystem::path(ds.state_file).parent_path(), fec);
        d.dht = std::make_unique<pw::dht::DhtNode>(d.io, d.udp, ds);
        d.ctx.dht = d.dht.get();
        asio::post(d.io, [impl = impl_.get()] { impl->dht->start(); });
    }
    if (settings.lsd) {
        auto iface = ep->address().is_v4() ? ep->address().to_v4() : asio::ip::address_v4::any();
        pw::lsd::LsdSettings ls;
        ls.device = device;
        d.lsd = std::make_unique<pw::lsd::LocalDiscovery>(
            d.io, iface, d.ctx.listen_port, ls,
            [impl = impl_.get()](const pw::Sha1Digest& ih, const tcp::endpoint& peer) { impl->on_local_peer(ih, peer); });
        std::string why;
        if (!d.lsd->start(why)) throw Error("local service discovery: " + why);
        d.ctx.lsd = d.lsd.get();
    }
    if (auto why = pw::session::RateControl::check(settings.rate_limits); !why.empty()) throw SettingsError(why);
    ::tzset();  // the alt-speed clock reads local time on the network thread: no file I/O there
    d.ctx.bandwidth = std::make_shared<pw::peer::BandwidthLimiter>(d.io.get_executor());
    d.rates = std::make_unique<pw::session::RateControl>(d.io, d.ctx.bandwidth, settings.rate_limits);
    d.rates->start();
    if (settings.tcp)
        asio::co_spawn(d.io, d.accept_loop(), asio::detached);
    else
        d.acceptor.close(ec);  // uTP only: TCP connections are refused (the port stays ours on UDP)
    d.thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

Session::~Session() { stop(); }

std::uint16_t Session::listen_port() const { return impl_->ctx.listen_port; }

bool Session::Impl::known(const pw::Sha1Digest& ih) const {
    for (auto& [id, t] : torrents)
        if (t->info_hash() == ih) return true;
    for (auto& [id, f] : fetches)
        if (f->info_hash() == ih) return true;
    for (auto& [id, pm] : paused_magnets)
        if (pm.magnet.info_hash == ih) return true;
    return false;
}

// Writes a fetched info dictionary as a .torrent (announce-list from the magnet).
void Session::Impl::save_torrent_file(const pw::meta::Metainfo& m, const std::string& path, TorrentId id) {
    std::string out = "d";
    if (!m.trackers.empty() && !m.trackers.front().empty()) {
        pw::bencode::put_string(out, "announce");
        pw::bencode::put_string(out, m.trackers.front().front());
        pw::bencode::List tiers;
        for (auto& tier : m.trackers) {
            pw::bencode::List l;
            for (auto& u : tier) l.emplace_back(u);
            tiers.emplace_back(std::move(l));
        }
        pw::bencode::put_string(out, "announce-list");
        pw::bencode::encode_to(out, tiers);
    }
    pw::bencode::put_string(out, "info");
    out += m.info_bytes;
    out += 'e';
    disk.post([this, out = std::move(out), path, id] {
        std::string tmp = path + ".part";
        FILE* f = std::fopen(tmp.c_str(), "wb");
        bool ok = f && std::fwrite(out.data(), 1, out.size(), f) == out.size();
        if (f) ok = std::fclose(f) == 0 && ok;
        ok = ok && std::rename(tmp.c_str(), path.c_str()) == 0;
        if (!ok) emit({EventType::storage_error, id, "cannot write " + path + ": " + std::strerror(errno)});
    });
}

TorrentId Session::add_torrent(const AddTorrentParams& params) {
    auto& d = *impl_;
    std::optional<pw::meta::Metainfo> m;
    std::optional<pw::meta::Magnet> magnet;
    try {
        if (!params.magnet.empty()) magnet = pw::meta::parse_magnet(params.magnet);
        else if (!params.torrent_data.empty()) m = pw::meta::parse(params.torrent_data);
        else m = pw::meta::load(params.torrent_file);
    } catch (const pw::meta::MetainfoError& e) {
        throw Error(e.what());
    }
    std::promise<TorrentId> done;
    auto fut = done.get_future();
    asio::post(d.io, [&] {
        if (d.known(m ? m->info_hash : magnet->info_hash)) {
            done.set_value(-1);
            return;
        }
        int id = d.next_id++;
        d.added_time[id] = std::time(nullptr);
        if (m) {
            auto t = std::make_shared<pw::session::Torrent>(d.ctx, id, std::move(*m), params);
            d.torrents[id] = t;
            if (params.paused) t->start_paused(false);
            else t->start();
        } else if (params.paused) {
            d.paused_magnets[id] = {*magnet, params};
        } else {
            d.start_fetch(id, *magnet, params);
        }
        done.set_value(id);
    });
    TorrentId id = fut.get();
    if (id < 0) throw Error("torrent already added");
    return id;
}

std::optional<TorrentStatus> Session::status(TorrentId id) const {
    auto& d = *impl_;
    if (d.stopped) return std::nullopt;
    auto done = std::make_shared<std::promise<std::optional<TorrentStatus>>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, id, done] {
        std::optional<TorrentStatus> st;
        if (auto it = d.torrents.find(id); it != d.torrents.end()) {
            st = it->second->status();
            it->second->detailed_status(*st);
        } else if (auto f = d.fetches.find(id); f != d.fetches.end()) {
            st = f->second->status();
        } else if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end()) {
            st = d.paused_magnet_status(pm->second);
        }
        if (st) {
            auto a = d.added_time.find(id);
            if (a != d.added_time.end()) st->added_time = a->second;
            // A magnet still without its metadata: the limits it will start with.
            const AddTorrentParams* p = nullptr;
            if (auto fp = d.fetch_params.find(id); fp != d.fetch_params.end()) p = &fp->second;
            if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end()) p = &pm->second.params;
            if (p) {
                st->download_limit = p->download_limit;
                st->upload_limit = p->upload_limit;
                st->honors_session_limits = p->honors_session_limits;
            }
        }
        done->set_value(std::move(st));
    });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return std::nullopt;
    return fut.get();
}

std::vector<Event> Session::pop_events() {
    std::lock_guard lk(impl_->ev_mu);
    std::vector<Event> out(impl_->events.begin(), impl_->events.end());
    impl_->events.clear();
    return out;
}

bool Session::wait_for_events(std::chrono::milliseconds timeout) {
    std::unique_lock lk(impl_->ev_mu);
    return impl_->ev_cv.wait_for(lk, timeout, [this] { return !impl_->events.empty(); });
}

void Session::stop(std::chrono::milliseconds announce_timeout) {
    auto& d = *impl_;
    if (d.stopped) return;
    d.stopped = true;
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    asio::co_spawn(
        d.io,
        [&d, announce_timeout]() -> awaitable<void> {
            boost::system::error_code ec;
            d.acceptor.close(ec);
            for (auto& [id, f] : d.fetches) f->stop();
            d.fetches.clear();
            for (auto& [id, t] : d.torrents) co_await t->shutdown(announce_timeout);
            if (d.dht) d.dht->stop();
            if (d.lsd) d.lsd->stop();
            if (d.rates) d.rates->stop();
            if (d.utp) d.utp->stop();
            d.udp.close(ec);
        },
        [done](std::exception_ptr) { done->set_value(); });
    fut.wait_for(announce_timeout * 2 + std::chrono::seconds(35));
    d.work.reset();
    d.io.stop();
    if (d.thread.joinable()) d.thread.join();
    // A TLS context build for an https tracker may still be under way on its helper
    // thread: its result must reach `io` before `io` is destroyed.
    pw::tracker::tls_loader_drain();
}

// ---- Session control: list, remove, pause, resume, recheck, reannounce ----

void Session::Impl::start_fetch(TorrentId id, const pw::meta::Magnet& magnet, const AddTorrentParams& params) {
    auto* impl = this;
    auto f = std::make_shared<pw::session::MetadataFetch>(
        ctx, id, magnet, [impl, id, params](pw::meta::Metainfo meta, std::vector<tcp::endpoint> peers) {
            // Runs on the network thread: the fetch turns into a torrent.
            impl->emit({EventType::metadata_received, id,
                        "metadata received: " + meta.name + " (" + std::to_string(meta.num_pieces()) + " pieces)"});
            if (!params.save_torrent.empty()) impl->save_torrent_file(meta, params.save_torrent, id);
            // Priorities set while fetching are in fetch_params; a magnet's so= (BEP 53)
            // selects files when none were given.
            auto fp = impl->fetch_params.find(id);
            auto p = fp != impl->fetch_params.end() ? fp->second : params;
            if (p.file_priorities.empty()) {
                try {
                    auto mg = pw::meta::parse_magnet(p.magnet);
                    if (!mg.select_only.empty())
                        p.file_priorities = pw::meta::selection_priorities(
                            mg.select_only, static_cast<int>(meta.files.size()), false);
                } catch (const pw::meta::MetainfoError&) {
                }
            }
            for (auto& ep : peers) p.peers.push_back(pw::session::format_endpoint(ep));
            auto t = std::make_shared<pw::session::Torrent>(impl->ctx, id, std::move(meta), p);
            impl->fetches.erase(id);
            impl->fetch_params.erase(id);
            impl->torrents[id] = t;
            t->start();
        });
    fetches[id] = f;
    fetch_params[id] = params;
    f->start();
}

TorrentStatus Session::Impl::paused_magnet_status(const PausedMagnet& pm) const {
    TorrentStatus s;
    s.name = pm.magnet.name.empty() ? pm.magnet.info_hash.hex() : pm.magnet.name;
    s.info_hash = pm.magnet.info_hash.hex();
    s.state = TorrentState::stopped;
    s.paused = true;
    s.save_path = std::filesystem::absolute(pm.params.save_path).string();
    for (auto& url : pm.magnet.trackers) s.trackers.push_back(TrackerStatus{url, {}, {}, 0, -1, -1, 0});
    return s;
}

// Waits (bounded) until a pausing torrent's shutdown and disk jobs are over.
awaitable<bool> Session::Impl::wait_settled(const std::shared_ptr<pw::session::Torrent>& t) {
    asio::steady_timer timer(io);
    for (int i = 0; i < 600 && !t->settled(); ++i) {
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(use_nothrow);
    }
    co_return t->settled();
}

awaitable<void> Session::Impl::remove(TorrentId id, bool delete_data) {
    added_time.erase(id);
    if (auto pm = paused_magnets.find(id); pm != paused_magnets.end()) {
        paused_magnets.erase(pm);
        co_return;
    }
    if (auto f = fetches.find(id); f != fetches.end()) {
        f->second->stop();
        fetches.erase(f);
        fetch_params.erase(id);
        co_return;
    }
    auto it = torrents.find(id);
    if (it == torrents.end()) co_return;
    auto t = it->second;
    torrents.erase(it);
    // A pausing torrent saves its resume data at the end of its shutdown: wait for that,
    // so the removal below is not undone.
    if (t->paused()) co_await wait_settled(t);
    else co_await t->shutdown(std::chrono::seconds(3));
    // Files are removed on the disk pool, and only the torrent's own: each file's path is
    // sanitised and relative to the save path; folders go only when left empty.
    auto root = std::filesystem::absolute(t->params().save_path).lexically_normal();
    auto resume = t->resume_file();
    std::vector<std::string> paths;
    if (delete_data) {
        for (auto& f : t->metainfo().files)
            if (!f.pad) paths.push_back(f.path);
        paths.push_back("." + t->info_hash().hex() + ".parts");  // skipped files' boundary bytes
    }
    disk.post([root, resume, paths] {
        std::error_code ec;
        std::filesystem::remove(resume, ec);
        std::vector<std::filesystem::path> dirs;
        for (auto& rel : paths) {
            auto p = (root / rel).lexically_normal();
            auto r = p.lexically_relative(root);
            if (r.empty() || *r.begin() == "..") continue;  // never outside the save path
            std::filesystem::remove(p, ec);
            for (auto d = p.parent_path(); d != root && d.string().size() > root.string().size(); d = d.parent_path())
                dirs.push_back(d);
        }
        std::sort(dirs.begin(), dirs.end(), [](auto& a, auto& b) { return a.string().size() > b.string().size(); });
        for (auto& d : dirs)
            if (std::filesystem::is_empty(d, ec)) std::filesystem::remove(d, ec);
    });
}

awaitable<void> Session::Impl::resume(TorrentId id) {
    if (auto pm = paused_magnets.find(id); pm != paused_magnets.end()) {
        auto m = pm->second;
        paused_magnets.erase(pm);
        m.params.paused = false;
        start_fetch(id, m.magnet, m.params);
        co_return;
    }
    auto it = torrents.find(id);
    if (it == torrents.end() || !it->second->paused()) co_return;
    auto old = it->second;
    if (!co_await wait_settled(old)) co_return;
    if (auto now = torrents.find(id); now == torrents.end() || now->second != old) co_return;  // removed or resumed meanwhile
    auto p = old->params();
    p.paused = false;
    auto t = std::make_shared<pw::session::Torrent>(ctx, id, old->metainfo(), p);
    torrents[id] = t;
    t->start();  // trusts the resume data written at pause: no re-hash
}

awaitable<void> Session::Impl::recheck(TorrentId id) {
    auto it = torrents.find(id);
    if (it == torrents.end()) co_return;
    auto old = it->second;
    bool was_paused = old->paused();
    if (was_paused) {
        if (!co_await wait_settled(old)) co_return;
    } else {
        co_await old->pause(std::chrono::seconds(3));
    }
    if (auto now = torrents.find(id); now == torrents.end() || now->second != old) co_return;
    auto p = old->params();
    p.paused = was_paused;
    auto t = std::make_shared<pw::session::Torrent>(ctx, id, old->metainfo(), p);
    torrents[id] = t;
    if (was_paused) {
        t->start_paused(true);
        co_return;
    }
    // Drop the resume data first (on the disk pool), then start: start() hashes everything.
    disk.post([this, t, file = t->resume_file()] {
        std::error_code ec;
        std::filesystem::remove(file, ec);
        asio::post(io, [t] { t->start(); });
    });
}

std::vector<TorrentId> Session::list() const {
    auto& d = *impl_;
    if (d.stopped) return {};
    auto done = std::make_shared<std::promise<std::vector<TorrentId>>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done] {
        std::vector<TorrentId> ids;
        for (auto& [id, t] : d.torrents) ids.push_back(id);
        for (auto& [id, f] : d.fetches) ids.push_back(id);
        for (auto& [id, m] : d.paused_magnets) ids.push_back(id);
        std::sort(ids.begin(), ids.end());
        done->set_value(std::move(ids));
    });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return {};
    return fut.get();
}

namespace {
// Runs `fn(impl)` on the network thread; returns what it returned (false if stopped).
template <class Fn>
bool on_network(Session::Impl& d, bool stopped, Fn fn) {
    if (stopped) return false;
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done, fn] { done->set_value(fn(d)); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return false;
    return fut.get();
}
bool has(const Session::Impl& d, TorrentId id) {
    return d.torrents.count(id) || d.fetches.count(id) || d.paused_magnets.count(id);
}
}  // namespace

bool Session::remove_torrent(TorrentId id, bool delete_data) {
    return on_network(*impl_, impl_->stopped, [id, delete_data](Impl& d) {
        if (!has(d, id)) return false;
        asio::co_spawn(d.io, d.remove(id, delete_data), asio::detached);
        return true;
    });
}

bool Session::pause(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        if (auto f = d.fetches.find(id); f != d.fetches.end()) {
            d.paused_magnets[id] = {f->second->magnet(), d.fetch_params[id]};
            f->second->stop();
            d.fetches.erase(f);
            d.fetch_params.erase(id);
        } else if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            asio::co_spawn(d.io, t->second->pause(std::chrono::seconds(3)), asio::detached);
        }
        return true;
    });
}

bool Session::resume(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        asio::co_spawn(d.io, d.resume(id), asio::detached);
        return true;
    });
}

bool Session::recheck(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        asio::co_spawn(d.io, d.recheck(id), asio::detached);
        return true;
    });
}

bool Session::set_encryption(Encryption policy) {
    return on_network(*impl_, impl_->stopped, [policy](Impl& d) {
        d.ctx.settings.encryption = policy;
        return true;
    });
}

bool Session::reannounce(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        if (auto t = d.torrents.find(id); t != d.torrents.end()) t->second->reannounce();
        return true;
    });
}

bool Session::set_file_priorities(TorrentId id, std::vector<int> priorities) {
    return on_network(*impl_, impl_->stopped, [id, priorities](Impl& d) {
        if (!has(d, id)) return false;
        if (auto t = d.torrents.find(id); t != d.torrents.end())
            t->second->set_file_priorities(priorities);
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end())
            f->second.file_priorities = priorities;
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end())
            pm->second.params.file_priorities = priorities;
        return true;
    });
}

bool Session::set_sequential(TorrentId id, bool on) {
    return on_network(*impl_, impl_->stopped, [id, on](Impl& d) {
        if (!has(d, id)) return false;
        if (auto t = d.torrents.find(id); t != d.torrents.end()) t->second->set_sequential(on);
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) f->second.sequential = on;
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end())
            pm->second.params.sequential = on;
        return true;
    });
}

// ---- Rate limits ----

bool Session::set_rate_limits(const RateLimits& limits) {
    if (auto why = pw::session::RateControl::check(limits); !why.empty()) throw Error(why);
    return on_network(*impl_, impl_->stopped, [limits](Impl& d) {
        d.rates->set(limits);
        return true;
    });
}

RateLimits Session::rate_limits() const {
    auto& d = *impl_;
    if (d.stopped) return d.ctx.settings.rate_limits;
    auto done = std::make_shared<std::promise<RateLimits>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done] { done->set_value(d.rates->get()); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return d.ctx.settings.rate_limits;
    return fut.get();
}

bool Session::set_torrent_limits(TorrentId id, std::int64_t download, std::int64_t upload, bool honors_session_limits) {
    download = std::max<std::int64_t>(download, 0);
    upload = std::max<std::int64_t>(upload, 0);
    return on_network(*impl_, impl_->stopped, [=](Impl& d) {
        auto set = [&](AddTorrentParams& p) {
            p.download_limit = download;
            p.upload_limit = upload;
            p.honors_session_limits = honors_session_limits;
        };
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_limits(download, upload, honors_session_limits);
            return true;
        }
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) {
            set(f->second);  // a magnet fetching its metadata: the torrent starts with them
            return true;
        }
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end()) {
            set(pm->second.params);
            return true;
        }
        return false;
    });
}

}  // namespace piecewise

// ---- Monitoring: session_stats, status_all ----

namespace piecewise {

namespace {
// Runs `fn(impl)` on the network thread and returns its result (`T{}` if stopped or slow).
template <class T, class Fn>
T read_on_network(Session::Impl& d, bool stopped, Fn fn) {
    if (stopped) return T{};
    auto done = std::make_shared<std::promise<T>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done, fn] { done->set_value(fn(d)); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return T{};
    return fut.get();
}
}  // namespace

SessionStats Session::session_stats() const {
    return read_on_network<SessionStats>(*impl_, impl_->stopped, [](Impl& d) {
        SessionStats s;
        const auto& c = d.ctx.counters;
        s.payload_downloaded = c.payload_down;
        s.payload_uploaded = c.payload_up;
        s.hash_failures = c.hash_failures;
        s.peers_banned = c.peers_banned;
        s.announces_ok = c.announces_ok;
        s.announces_failed = c.announces_failed;
        s.pieces_picked = c.pieces_picked;
        s.pieces_passed = c.pieces_passed;
        for (auto& [id, t] : d.torrents) {
            ++s.torrents_by_state[static_cast<int>(t->status().state)];
            t->add_gauges(s);
        }
        for (auto& [id, f] : d.fetches) {
            auto st = f->status();
            ++s.torrents_by_state[static_cast<int>(st.state)];
            s.peers_connected += st.peers;
        }
        s.torrents_by_state[static_cast<int>(TorrentState::stopped)] +=
            static_cast<int>(d.paused_magnets.size());
        s.disk_queue = d.disk.queued();
        if (d.dht) {
            s.dht = true;
            s.dht_nodes = d.dht->routing_table_size();
            auto ds = d.dht->stats();
            s.dht_queries_sent = ds.queries_sent;
            s.dht_queries_served = ds.queries_served;
            s.dht_responses = ds.responses;
            s.dht_timeouts = ds.timeouts;
        }
        return s;
    });
}

std::vector<std::pair<TorrentId, TorrentStatus>> Session::status_all() const {
    using Out = std::vector<std::pair<TorrentId, TorrentStatus>>;
    return read_on_network<Out>(*impl_, impl_->stopped, [](Impl& d) {
        Out out;
        out.reserve(d.torrents.size() + d.fetches.size() + d.paused_magnets.size());
        for (auto& [id, t] : d.torrents) {
            out.emplace_back(id, t->status());
            t->summary_status(out.back().second);
        }
        for (auto& [id, f] : d.fetches) out.emplace_back(id, f->status());
        for (auto& [id, pm] : d.paused_magnets) out.emplace_back(id, d.paused_magnet_status(pm));
        for (auto& [id, st] : out)
            if (auto a = d.added_time.find(id); a != d.added_time.end()) st.added_time = a->second;
        std::sort(out.begin(), out.end(),
                  [](auto& a, auto& b) { return a.first < b.first; });
        return out;
    });
}

// ---- Seed limits and tracker lists (torrent_seed_limits.cpp on the torrent's side) ----

namespace {
// Runs `fn` on the params of a magnet still without metadata; false if `id` is none.
template <class Fn>
bool on_magnet_params(Session::Impl& d, TorrentId id, Fn fn) {
    if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) {
        fn(f->second);
        return true;
    }
    if (auto m = d.paused_magnets.find(id); m != d.paused_magnets.end()) {
        fn(m->second.params);
        return true;
    }
    return false;
}
}  // namespace

bool Session::set_seed_limits(TorrentId id, double ratio, int idle_minutes) {
    return on_network(*impl_, impl_->stopped, [id, ratio, idle_minutes](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_seed_limits(ratio, idle_minutes);
            return true;
        }
        return on_magnet_params(d, id, [&](AddTorrentParams& p) {
            p.stop_at_seed_limit = ratio >= 0 || idle_minutes > 0;
            p.seed_ratio = ratio;
            p.seed_idle_minutes = idle_minutes;
        });
    });
}

std::vector<TorrentId> Session::take_seed_limit_stops() {
    auto out = std::make_shared<std::vector<TorrentId>>();
    on_network(*impl_, impl_->stopped, [out](Impl& d) {
        for (auto& [id, t] : d.torrents)
            if (t->take_seed_limit_stop()) out->push_back(id);
        return true;
    });
    return *out;
}

bool Session::set_trackers(TorrentId id, std::vector<std::vector<std::string>> tiers) {
    for (auto& tier : tiers)
        for (auto& url : tier)
            if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 &&
                url.rfind("udp://", 0) != 0)
                throw Error("not a tracker URL (http://, https:// or udp://): " + url.substr(0, 200));
    return on_network(*impl_, impl_->stopped, [id, tiers](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_trackers(tiers);
            return true;
        }
        return on_magnet_params(d, id, [&](AddTorrentParams& p) { p.trackers = tiers; });
    });
}

}  // namespace piecewise
