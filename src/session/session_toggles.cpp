// Session::set_dht, set_lsd and set_utp: the DHT (BEP 5, BEP 32), local service discovery
// (BEP 14) and uTP (BEP 29) turned on or off while the session runs, and the pieces of the
// constructor they share (opening the UDP sockets, starting the DHT node and LSD).
#include "session/session_impl.hpp"

namespace piecewise {

std::string Session::Impl::open_udp(asio::ip::udp::socket& sock, const asio::ip::address& addr, bool v6only,
                                    std::unique_ptr<pw::peer::UtpManager>& mgr, const std::string& what) {
    if (sock.is_open()) return {};
    const std::string& device = ctx.settings.bind_interface;
    asio::ip::udp::endpoint uep(addr, ctx.listen_port);
    boost::system::error_code ec;
    sock.open(uep.protocol(), ec);
    if (!ec && (ec = pw::net::bind_to_device(sock, device))) {
        sock.close(ec);
        return "cannot bind the UDP socket for " + what + " to interface '" + device + "': " + ec.message();
    }
    if (!ec && v6only) sock.set_option(asio::ip::v6_only(true), ec);
    if (!ec) sock.bind(uep, ec);
    if (ec) {
        boost::system::error_code ignored;
        sock.close(ignored);
        return "cannot bind UDP " + pw::session::format_endpoint(tcp::endpoint(addr, ctx.listen_port)) + " for " +
               what + ": " + ec.message();
    }
    asio::co_spawn(io, udp_loop(sock, mgr), asio::detached);
    return {};
}

std::string Session::Impl::open_udp_sockets() {
    if (ctx.proxy.enabled()) return "UDP (the DHT and uTP) is off while a proxy is set";
    auto why = open_udp(udp, ctx.bind_address, false, utp, "the DHT");
    if (why.empty() && ctx.second_listener) why = open_udp(udp2, ctx.bind_address2, true, utp2, "uTP and the DHT");
    return why;
}

std::string Session::Impl::start_dht() {
    if (!dht) {
        pw::dht::DhtSettings ds;
        ds.bootstrap = ctx.settings.dht_bootstrap;
        ds.state_file = ctx.settings.dht_state_file.empty()
                            ? std::filesystem::path(ctx.resume_dir).parent_path().string() + "/dht.state"
                            : ctx.settings.dht_state_file;
        std::error_code fec;
        std::filesystem::create_directories(std::filesystem::path(ds.state_file).parent_path(), fec);
        // With two listeners, the IPv4 DHT runs on the main socket and the IPv6 one on the
        // second; one listener's socket serves its family (both for a dual-stack [::]).
        if (udp2.is_open())
            dht = std::make_unique<pw::dht::DhtNode>(io, &udp, &udp2, ds);
        else
            dht = std::make_unique<pw::dht::DhtNode>(io, udp, ds);
    }
    ctx.dht = dht.get();
    // Started from the io_context (the constructor calls this before it runs).
    asio::post(io, [this] {
        if (dht && ctx.dht) dht->start();
    });
    return {};
}

std::string Session::Impl::start_lsd() {
    if (!lsd) {
        const auto& a = ctx.bind_address;
        auto iface = a.is_v4() ? a.to_v4() : asio::ip::address_v4::any();
        pw::lsd::LsdSettings ls;
        ls.device = ctx.settings.bind_interface;
        lsd = std::make_unique<pw::lsd::LocalDiscovery>(
            io, iface, ctx.listen_port, ls,
            [this](const pw::Sha1Digest& ih, const tcp::endpoint& peer) { on_local_peer(ih, peer); });
    }
    std::string why;
    if (!lsd->start(why)) {
        lsd.reset();
        ctx.lsd = nullptr;
        return "local service discovery: " + why;
    }
    ctx.lsd = lsd.get();
    return {};
}

std::string Session::Impl::enable_dht(bool on) {
    ctx.settings.dht = on;
    if (!on) {
        if (!ctx.dht) return {};
        ctx.dht = nullptr;  // torrents no longer announce nor look up; queries go unanswered
        dht->stop();        // pending lookups end; the table is saved
        return {};
    }
    if (ctx.dht) return {};
    if (ctx.proxy.enabled()) {
        ctx.settings.dht = false;
        return "the DHT stays off while a proxy is set (it would give this address away)";
    }
    if (auto why = open_udp_sockets(); !why.empty()) {
        ctx.settings.dht = false;
        return why;
    }
    start_dht();
    // Bootstrapping has only begun: an unheard lookup is retried (swarm::LookupSchedule).
    asio::post(io, [this] {
        if (!ctx.dht) return;
        for (auto& [id, t] : torrents) t->discovery_started();
    });
    return {};
}

std::string Session::Impl::enable_lsd(bool on) {
    if (!on) {
        ctx.settings.lsd = false;
        if (lsd) lsd->stop();  // leaves the group; announces stop
        ctx.lsd = nullptr;
        return {};
    }
    if (ctx.lsd) return {};
    if (auto why = start_lsd(); !why.empty()) return why;
    ctx.settings.lsd = true;
    for (auto& [id, t] : torrents) t->discovery_started();
    for (auto& [id, f] : fetches) ctx.lsd->announce(f->info_hash());
    return {};
}

std::string Session::Impl::enable_utp(bool on) {
    if (!on) {
        if (!ctx.settings.tcp) return "uTP and TCP cannot both be off";
        ctx.settings.utp = false;
        // No new connection either way; open ones go on over the managers until they end.
        ctx.utp = ctx.utp2 = nullptr;
        if (utp) utp->set_accept({});
        if (utp2) utp2->set_accept({});
        return {};
    }
    if (ctx.utp) return {};
    if (ctx.proxy.enabled()) return "uTP stays off while a proxy is set (it does not go through one)";
    if (auto why = open_udp_sockets(); !why.empty()) return why;
    ctx.settings.utp = true;
    auto bring_up = [this](asio::ip::udp::socket& sock, std::unique_ptr<pw::peer::UtpManager>& mgr) {
        if (!sock.is_open()) return;
        if (mgr)
            mgr->set_accept(utp_acceptor());
        else
            mgr = start_utp(sock);
    };
    bring_up(udp, utp);
    bring_up(udp2, utp2);
    ctx.utp = utp.get();
    ctx.utp2 = utp2.get();
    return {};
}

namespace {

// Runs `enable(on)` on the network thread; throws Error with what it answered.
template <class Fn>
bool toggle(Session::Impl& d, bool stopped, Fn enable) {
    auto why = std::make_shared<std::string>();
    bool ok = on_network(d, stopped, [why, enable](Session::Impl& impl) {
        *why = enable(impl);
        return true;
    });
    if (!why->empty()) throw Error(*why);
    return ok;
}

}  // namespace

bool Session::set_dht(bool on) {
    return toggle(*impl_, impl_->stopped, [on](Impl& d) { return d.enable_dht(on); });
}

bool Session::set_lsd(bool on) {
    return toggle(*impl_, impl_->stopped, [on](Impl& d) { return d.enable_lsd(on); });
}

bool Session::set_utp(bool on) {
    return toggle(*impl_, impl_->stopped, [on](Impl& d) { return d.enable_utp(on); });
}

}  // namespace piecewise
