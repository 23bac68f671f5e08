// The session: the network thread, the listener, the torrents and the event queue.
#include "session/session_impl.hpp"

#include <csignal>

namespace piecewise {

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

// Uploads by splice(2) to a peer that has gone raise SIGPIPE (a splice into a socket,
// unlike asio's sends, cannot pass MSG_NOSIGNAL): a process that left SIGPIPE at its
// default, which ends it, gets it ignored instead, and the write fails with EPIPE. A
// handler or disposition the program set is left alone.
void ignore_sigpipe_if_default() {
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) return;
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, nullptr);
}

}  // namespace

Session::Session(Settings settings) : impl_(std::make_unique<Impl>(settings)) {
    ignore_sigpipe_if_default();
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
    // A second listener: the other family, the same port. The IPv4 one becomes the main
    // listener (the DHT and LSD use it); see Settings::listen2.
    std::optional<tcp::endpoint> ep2;
    if (!settings.listen2.empty()) {
        ep2 = pw::session::parse_endpoint(settings.listen2);
        if (!ep2) throw Error("bad listen address '" + settings.listen2 + "' (expected HOST:PORT)");
        *ep = pw::session::unmapped(*ep);
        *ep2 = pw::session::unmapped(*ep2);
        if (ep->address().is_v6() == ep2->address().is_v6())
            throw Error("two listen addresses must be one IPv4 and one IPv6 address, got " +
                        settings.listen + " and " + settings.listen2);
        if (ep2->port() != 0 && ep2->port() != ep->port())
            throw Error("two listen addresses must have the same port (trackers, PEX and the extension "
                        "handshake tell peers one port), got " + settings.listen + " and " + settings.listen2);
        ep2->port(ep->port());
        if (ep->address().is_v6()) std::swap(*ep, *ep2);
    }
    const std::string& device = settings.bind_interface;
    if (auto why = pw::net::check_interface(device); !why.empty()) throw Error("bind interface: " + why);
    if (!settings.blocklist_file.empty()) {
        std::string summary;
        d.ctx.blocklist = load_blocklist(settings.blocklist_file, summary);
        d.emit({EventType::blocklist_loaded, -1, summary});
    }
    boost::system::error_code ec;
    if (!settings.proxy.empty()) {
        auto parsed = pw::proxy::parse_proxy_url(settings.proxy);
        if (auto* why = std::get_if<std::string>(&parsed)) throw Error("bad proxy: " + *why);
        d.ctx.proxy = std::get<pw::proxy::ProxyConfig>(parsed);
    }
    // The DHT cannot go through the proxy without giving this address away (it answers
    // queries and announces its port), so it stays off while a proxy is set.
    if (!settings.utp && !settings.tcp) throw Error("uTP and TCP cannot both be off");
    if (!settings.tcp && d.ctx.proxy.enabled()) throw Error("uTP-only cannot go through a proxy");
    // The UDP sockets (the second listener's too) carry uTP and the DHT (IPv6: BEP 32).
    const bool udp_wanted = (settings.dht || settings.utp) && !d.ctx.proxy.enabled();
    // The port: every socket on the same one (TCP and UDP, both listeners). With two
    // listeners the IPv6 sockets are IPv6-only, so that [::] and 0.0.0.0 can share it.
    // Port 0 lets the system pick it for the first TCP listener; the others may find it
    // taken (another socket on the other address or protocol), and then another port is
    // tried, a bounded number of times. The first listener stays open on each port found
    // taken until the end, so that the system does not offer that port again.
    const bool any_port = ep->port() == 0;
    std::vector<tcp::acceptor> taken;
    for (int attempt = 1;; ++attempt) {
        std::string why = d.open_listener(d.acceptor, *ep, ep2 && ep->address().is_v6());
        std::uint16_t port = 0;
        if (why.empty()) port = d.acceptor.local_endpoint().port();
        if (why.empty() && ep2) {
            ep2->port(port);
            why = d.open_listener(d.acceptor2, *ep2, ep2->address().is_v6());
        }
        if (why.empty() && udp_wanted) why = d.bind_udp(d.udp, ep->address(), port, false, "the DHT");
        if (why.empty() && udp_wanted && ep2)
            why = d.bind_udp(d.udp2, ep2->address(), port, true, "uTP and the DHT");
        if (why.empty()) {
            d.ctx.listen_port = port;
            break;
        }
        d.acceptor2.close(ec);
        d.udp.close(ec);
        d.udp2.close(ec);
        if (!any_port || attempt == 16) throw Error(why);
        if (d.acceptor.is_open()) taken.push_back(std::move(d.acceptor));  // leaves it closed
    }
    for (auto& a : taken) a.close(ec);
    d.ctx.bind_address = ep->address();
    if (ep2) {
        d.ctx.bind_address2 = ep2->address();
        d.ctx.second_listener = true;
    }
    if (udp_wanted) {
        asio::co_spawn(d.io, d.udp_loop(d.udp, d.utp), asio::detached);
        if (d.udp2.is_open()) asio::co_spawn(d.io, d.udp_loop(d.udp2, d.utp2), asio::detached);
        if (settings.utp) {
            d.utp = d.start_utp(d.udp);
            d.ctx.utp = d.utp.get();
            if (d.udp2.is_open()) {
                d.utp2 = d.start_utp(d.udp2);
                d.ctx.utp2 = d.utp2.get();
            }
        }
        if (settings.dht) d.start_dht();
    }
    if (settings.lsd)
        if (auto why = d.start_lsd(); !why.empty()) throw Error(why);
    if (settings.natpmp) {
        std::string why;
        d.natpmp_gateway = pw::session::gateway_endpoint(settings, why);
        if (d.natpmp_gateway)
            d.start_natpmp();
        else
            d.emit({EventType::port_mapping_error, -1, why});
    }
    if (settings.upnp) d.start_upnp();
    if (auto why = pw::session::RateControl::check(settings.rate_limits); !why.empty()) throw SettingsError(why);
    ::tzset();  // the alt-speed clock reads local time on the network thread: no file I/O there
    d.ctx.bandwidth = std::make_shared<pw::peer::BandwidthLimiter>(d.io.get_executor());
    d.rates = std::make_unique<pw::session::RateControl>(d.io, d.ctx.bandwidth, settings.rate_limits);
    d.rates->start();
    d.groups = std::make_unique<pw::session::BandwidthGroups>(d.ctx.bandwidth);
    d.ctx.groups = d.groups.get();
    if (settings.tcp) {
        asio::co_spawn(d.io, d.accept_loop(d.acceptor), asio::detached);
        if (d.acceptor2.is_open()) asio::co_spawn(d.io, d.accept_loop(d.acceptor2), asio::detached);
    } else {
        // uTP only: TCP connections are refused (the port stays ours on UDP)
        d.acceptor.close(ec);
        d.acceptor2.close(ec);
    }
    d.thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

Session::~Session() { stop(); }

std::uint16_t Session::listen_port() const { return impl_->ctx.listen_port; }

bool Session::Impl::known(const pw::Sha1Digest& ih) const {
    for (auto& [id, t] : torrents)
        if (t->has_info_hash(ih)) return true;
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
    // BEP 52: a v2 torrent is complete only with its piece layers (fetched by hash
    // requests for a btmh magnet).
    if (std::string layers = pw::meta::encode_piece_layers(m); !layers.empty()) {
        pw::bencode::put_string(out, "piece layers");
        out += layers;
    }
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
    if (m && !params.renames.empty())
        if (auto why = pw::session::Torrent::apply_renames(*m, params.renames); !why.empty())
            throw Error(why);
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
            d.fill_move_status(id, *st);
            auto a = d.added_time.find(id);
            if (a != d.added_time.end()) st->added_time = a->second;
            // A magnet still without its metadata: the limits it will start with.
            const AddTorrentParams* p = nullptr;
            if (auto fp = d.fetch_params.find(id); fp != d.fetch_params.end()) p = &fp->second;
            if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end()) p = &pm->second.params;
            if (p) {
                if (st->save_path.empty()) st->save_path = std::filesystem::absolute(p->save_path).string();
                st->download_limit = p->download_limit;
                st->upload_limit = p->upload_limit;
                st->honors_session_limits = p->honors_session_limits;
                st->bandwidth_priority = p->bandwidth_priority;
                st->max_peers = p->max_peers > 0 ? p->max_peers : d.ctx.settings.max_peers_per_torrent;
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
    d.moves_cancel->store(true);  // a move under way is undone: its data stays where it was
    auto done = std::make_shared<std::promise<void>>();
    auto fut = done->get_future();
    asio::co_spawn(
        d.io,
        [&d, announce_timeout]() -> awaitable<void> {
            boost::system::error_code ec;
            d.acceptor.close(ec);
            d.acceptor2.close(ec);
            if (d.streams) d.streams->close_all();  // waiting readers end now
            for (auto& [id, f] : d.fetches) f->stop();
            d.fetches.clear();
            for (auto& [id, t] : d.torrents) co_await t->shutdown(announce_timeout);
            if (d.port_mapping) co_await d.port_mapping->shutdown(pw::session::port_unmap_budget);
            if (d.upnp_mapping) co_await d.upnp_mapping->shutdown(pw::session::port_unmap_budget);
            if (d.dht) d.dht->stop();
            if (d.lsd) d.lsd->stop();
            if (d.rates) d.rates->stop();
            if (d.utp) d.utp->stop();
            if (d.utp2) d.utp2->stop();
            d.udp.close(ec);
            d.udp2.close(ec);
        },
        [done](std::exception_ptr) { done->set_value(); });
    fut.wait_for(announce_timeout * 2 + std::chrono::seconds(35));
    d.work.reset();
    d.io.stop();
    if (d.thread.joinable()) d.thread.join();
    // The DHT's routing table, saved by its stop(), is on disk when stop() returns, so that
    // a program may move or delete the state directory next.
    if (d.dht) d.dht->finish_writes();
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
    // Peers given with the magnet (get --peer, AddTorrentParams::peers) serve the
    // metadata too, as the magnet's own x.pe do.
    for (const auto& s : params.peers)
        if (auto ep = pw::session::parse_endpoint(s)) f->add_peer(*ep);
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
    co_await wait_moved(id);  // the files are where the move left them
    moves.erase(id);
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
            if (!f.pad) {
                paths.push_back(f.path);
                paths.push_back(f.path + ".part");  // not complete yet (partial names)
            }
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
    if (is_moving(id)) {
        moves[id].paused = false;  // starts when the move is over
        co_return;
    }
    co_await wait_moved(id);
    if (auto pm = paused_magnets.find(id); pm != paused_magnets.end()) {
        auto m = pm->second;
        paused_magnets.erase(pm);
        m.params.paused = false;
        start_fetch(id, m.magnet, m.params);
        co_return;
    }
    auto it = torrents.find(id);
    if (it == torrents.end()) co_return;
    auto old = it->second;
    // A torrent stopped by an error (a full disk, a file changed on disk) starts afresh
    // too, from the resume data its shutdown records (which vouches only for what it can).
    if (!old->paused() && !old->errored()) co_return;
    if (!old->paused()) co_await old->pause(std::chrono::seconds(3));
    if (!co_await wait_settled(old)) co_return;
    if (auto now = torrents.find(id); now == torrents.end() || now->second != old) co_return;  // removed or resumed meanwhile
    auto p = old->params();
    p.paused = false;
    p.hold_if_incomplete = p.hold_if_complete = false;
    old->carry_totals(p);  // downloadedEver and co. go on, not from zero
    auto t = std::make_shared<pw::session::Torrent>(ctx, id, old->metainfo(), p);
    torrents[id] = t;
    t->start();  // trusts the resume data written at pause: no re-hash
}

awaitable<void> Session::Impl::recheck(TorrentId id) {
    if (is_moving(id)) {
        moves[id].recheck = true;  // checks at its new place
        co_return;
    }
    co_await wait_moved(id);
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
    old->carry_totals(p);
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

}  // namespace piecewise
