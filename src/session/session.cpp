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
#include <thread>

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
#include "session/torrent.hpp"
#include "tracker/tls_client.hpp"

namespace piecewise {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;
using piecewise::EventType;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

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

    std::unique_ptr<pw::lsd::LocalDiscovery> lsd;

    explicit Impl(Settings s)
        : disk(s.disk_threads), ctx{io, disk, s, {}, {}, 0, {}, {}, {}, nullptr, nullptr, {}, nullptr, {}} {}

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
            if (n > 0 && buf[0] == 'd' && dht) dht->on_packet(from, std::string_view(buf.data(), n));
        }
    }

    bool known(const pw::Sha1Digest& ih) const;
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
        while (acceptor.is_open()) {
            auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
            if (!acceptor.is_open()) break;
            if (ec) {
                asio::steady_timer t(io);
                t.expires_after(std::chrono::milliseconds(100));  // e.g. out of descriptors
                co_await t.async_wait(use_nothrow);
                continue;
            }
            // A blocked address is closed before a byte of its handshake is read.
            auto remote = sock.remote_endpoint(ec);
            if (ec || ctx.blocked(remote.address())) {
                sock.close(ec);
                continue;
            }
            asio::co_spawn(io, handshake(std::move(sock)), asio::detached);
        }
    }

    // The SKEY lookup of an MSE responder: every torrent and magnet fetch of the session.
    std::optional<pw::Sha1Digest> find_skey(const pw::Sha1Digest& req2) const {
        for (auto& [id, t] : torrents)
            if (pw::crypto::mse_req2_hash(t->info_hash()) == req2) return t->info_hash();
        for (auto& [id, f] : fetches)
            if (pw::crypto::mse_req2_hash(f->info_hash()) == req2) return f->info_hash();
        return std::nullopt;
    }

    // Reads the peer's handshake (plaintext, or inside MSE: the first bytes tell which)
    // and hands the connection to the torrent it names.
    awaitable<void> handshake(tcp::socket sock) {
        using piecewise::Encryption;
        const Encryption policy = ctx.settings.encryption;
        asio::steady_timer timer(io);
        timer.expires_after(std::chrono::seconds(10));
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
            timer.expires_after(std::chrono::seconds(10));
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
                    f->attach_incoming(std::move(sock), *h, std::move(transport));
                    co_return;
                }
            co_return;
        }
        // A torrent still checking its data takes the peer once it knows what it has.
        for (int i = 0; i < 300 && torrent->checking() && sock.is_open(); ++i) {
            timer.expires_after(std::chrono::milliseconds(100));
            co_await timer.async_wait(use_nothrow);
        }
        torrent->attach_incoming(std::move(sock), *h, std::move(transport));
    }
};

Session::Session(Settings settings) : impl_(std::make_unique<Impl>(settings)) {
    auto& d = *impl_;
    d.ctx.peer_id = make_peer_id();
    std::random_device rd;
    d.ctx.tracker_key = fmt::format("{:08x}", rd());
    d.ctx.resume_dir = settings.resume_dir.empty() ? default_resume_dir() : settings.resume_dir;
    d.ctx.emit = [impl = impl_.get()](Event e) { impl->emit(std::move(e)); };

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
    if (settings.dht && !d.ctx.proxy.enabled()) {
        asio::ip::udp::endpoint uep(ep->address(), d.ctx.listen_port);
        d.udp.open(uep.protocol(), ec);
        if (!ec && (ec = pw::net::bind_to_device(d.udp, device)))
            throw Error("cannot bind the DHT's UDP socket to interface '" + device + "': " + ec.message());
        if (!ec) d.udp.bind(uep, ec);
        if (ec) throw Error("cannot bind UDP " + settings.listen + " for the DHT: " + ec.message());
        pw::dht::DhtSettings ds;
        ds.bootstrap = settings.dht_bootstrap;
        ds.state_file = settings.dht_state_file.empty()
                            ? std::filesystem::path(d.ctx.resume_dir).parent_path().string() + "/dht.state"
                            : settings.dht_state_file;
        std::error_code fec;
        std::filesystem::create_directories(std::filesystem::path(ds.state_file).parent_path(), fec);
        d.dht = std::make_unique<pw::dht::DhtNode>(d.io, d.udp, ds);
        d.ctx.dht = d.dht.get();
        asio::co_spawn(d.io, d.udp_loop(), asio::detached);
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
    asio::co_spawn(d.io, d.accept_loop(), asio::detached);
    d.thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

Session::~Session() { stop(); }

std::uint16_t Session::listen_port() const { return impl_->ctx.listen_port; }

bool Session::Impl::known(const pw::Sha1Digest& ih) const {
    for (auto& [id, t] : torrents)
        if (t->info_hash() == ih) return true;
    for (auto& [id, f] : fetches)
        if (f->info_hash() == ih) return true;
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
        if (m) {
            auto t = std::make_shared<pw::session::Torrent>(d.ctx, id, std::move(*m), params);
            d.torrents[id] = t;
            t->start();
        } else {
            auto* impl = &d;
            auto f = std::make_shared<pw::session::MetadataFetch>(
                d.ctx, id, *magnet,
                [impl, id, params](pw::meta::Metainfo meta, std::vector<tcp::endpoint> peers) {
                    // Runs on the network thread: the fetch turns into a torrent.
                    impl->emit({EventType::metadata_received, id,
                                "metadata received: " + meta.name + " (" + std::to_string(meta.num_pieces()) + " pieces)"});
                    if (!params.save_torrent.empty()) impl->save_torrent_file(meta, params.save_torrent, id);
                    auto p = params;
                    for (auto& ep : peers) p.peers.push_back(pw::session::format_endpoint(ep));
                    auto t = std::make_shared<pw::session::Torrent>(impl->ctx, id, std::move(meta), p);
                    impl->fetches.erase(id);
                    impl->torrents[id] = t;
                    t->start();
                });
            d.fetches[id] = f;
            f->start();
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
        auto it = d.torrents.find(id);
        if (it != d.torrents.end()) return done->set_value(it->second->status());
        auto f = d.fetches.find(id);
        done->set_value(f == d.fetches.end() ? std::nullopt : std::optional(f->second->status()));
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

}  // namespace piecewise
