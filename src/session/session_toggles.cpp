// Session::set_dht, set_lsd and set_utp: the DHT (BEP 5, BEP 32), local service discovery
// (BEP 14) and uTP (BEP 29) turned on or off while the session runs, and the pieces of the
// constructor they share (starting the DHT node and LSD; the UDP sockets are opened by
// session_listen.cpp).
#include "session/session_impl.hpp"

namespace piecewise {

std::string Session::Impl::start_dht() {
    if (!dht) {
        pw::dht::DhtSettings ds;
        ds.bootstrap = ctx.settings.dht_bootstrap;
        ds.enforce_node_id = ctx.settings.dht_enforce_node_id;
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
        // One instance per family we listen on: IPv4 on the IPv4 listener's address (any
        // for a dual-stack [::]), IPv6 on the IPv6 listener's. The instances share a cookie,
        // so that each ignores the others' announces too.
        const auto& a = ctx.bind_address;
        std::optional<asio::ip::address> v4, v6;
        if (a.is_v4())
            v4 = a;
        else if (a.is_unspecified() && !ctx.second_listener)
            v4 = asio::ip::address_v4::any();
        if (a.is_v6()) v6 = a;
        if (ctx.second_listener) (ctx.bind_address2.is_v6() ? v6 : v4) = ctx.bind_address2;
        pw::lsd::LsdSettings ls;
        ls.device = ctx.settings.bind_interface;
        lsd = std::make_unique<pw::lsd::DiscoverySet>();
        for (const auto& iface : {v4, v6}) {
            if (!iface) continue;
            auto one = std::make_unique<pw::lsd::LocalDiscovery>(
                io, *iface, ctx.listen_port, ls,
                [this](const pw::Sha1Digest& ih, const tcp::endpoint& peer) { on_local_peer(ih, peer); });
            ls.cookie = one->cookie();
            lsd->add(std::move(one));
        }
    }
    // A family whose group cannot be joined (say, IPv6 without a multicast route) leaves
    // the other one running; none at all is an error.
    std::vector<std::string> failures;
    bool any = lsd->start(failures);
    std::string why;
    for (const auto& f : failures) why += (why.empty() ? "" : "; ") + f;
    if (!any) {
        lsd.reset();
        ctx.lsd = nullptr;
        return "local service discovery: " + why;
    }
    if (!why.empty()) emit({EventType::listen_failed, -1, "local service discovery: " + why});
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
        // Leaves the group; announces stop. Made anew when turned on again, so that the
        // torrents removed meanwhile are not announced.
        ctx.lsd = nullptr;
        lsd.reset();
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

bool Session::set_dht(bool on) {
    return on_network_or_throw(*impl_, impl_->stopped, [on](Impl& d) { return d.enable_dht(on); });
}

bool Session::set_lsd(bool on) {
    return on_network_or_throw(*impl_, impl_->stopped, [on](Impl& d) { return d.enable_lsd(on); });
}

bool Session::set_utp(bool on) {
    return on_network_or_throw(*impl_, impl_->stopped, [on](Impl& d) { return d.enable_utp(on); });
}

}  // namespace piecewise
