// The session's listen sockets: opening the TCP listeners and the UDP sockets (shared by
// the DHT and uTP), the NAT-PMP / UPnP port mappings of the peer port, and
// Session::set_listen_port, which moves all of them to another port while the session runs.
#include "session/session_impl.hpp"

namespace piecewise {

std::string Session::Impl::open_listener(tcp::acceptor& acc, const tcp::endpoint& at, bool v6only) {
    const std::string& device = ctx.settings.bind_interface;
    boost::system::error_code ec;
    acc.open(at.protocol(), ec);
    if (!ec && (ec = pw::net::bind_to_device(acc, device))) {
        boost::system::error_code ignored;
        acc.close(ignored);
        return "cannot bind the peer listener to interface '" + device + "': " + ec.message();
    }
    if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && v6only) acc.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc.bind(at, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        acc.close(ignored);
        return "cannot listen on " + pw::session::format_endpoint(at) + ": " + ec.message();
    }
    return {};
}

std::string Session::Impl::bind_udp(asio::ip::udp::socket& sock, const asio::ip::address& addr, std::uint16_t port,
                                     bool v6only, const std::string& what) {
    const std::string& device = ctx.settings.bind_interface;
    asio::ip::udp::endpoint uep(addr, port);
    boost::system::error_code ec;
    sock.open(uep.protocol(), ec);
    if (!ec && (ec = pw::net::bind_to_device(sock, device))) {
        boost::system::error_code ignored;
        sock.close(ignored);
        return "cannot bind the UDP socket for " + what + " to interface '" + device + "': " + ec.message();
    }
    if (!ec && v6only) sock.set_option(asio::ip::v6_only(true), ec);
    if (!ec) sock.bind(uep, ec);
    if (ec) {
        boost::system::error_code ignored;
        sock.close(ignored);
        return "cannot bind UDP " + pw::session::format_endpoint(tcp::endpoint(addr, port)) + " for " + what + ": " +
               ec.message();
    }
    return {};
}

std::string Session::Impl::open_udp(asio::ip::udp::socket& sock, const asio::ip::address& addr, bool v6only,
                                    std::unique_ptr<pw::peer::UtpManager>& mgr, const std::string& what) {
    if (sock.is_open()) return {};
    if (auto why = bind_udp(sock, addr, ctx.listen_port, v6only, what); !why.empty()) return why;
    asio::co_spawn(io, udp_loop(sock, mgr), asio::detached);
    return {};
}

std::string Session::Impl::open_udp_sockets() {
    if (ctx.proxy.enabled()) return "UDP (the DHT and uTP) is off while a proxy is set";
    const bool was_open = udp.is_open();
    auto why = open_udp(udp, ctx.bind_address, false, utp, "the DHT");
    if (why.empty() && ctx.second_listener) why = open_udp(udp2, ctx.bind_address2, true, utp2, "uTP and the DHT");
    // Port mappings made while there was no UDP socket (the DHT and uTP both off) mapped
    // TCP only: they are made again, with the UDP port.
    if (why.empty() && !was_open && udp.is_open() && (port_mapping || upnp_mapping))
        asio::co_spawn(io, remap_ports(std::move(port_mapping), std::move(upnp_mapping)), asio::detached);
    return why;
}

void Session::Impl::start_natpmp() {
    port_mapping = std::make_unique<pw::session::PortMapping>(
        io, *natpmp_gateway, ctx.bind_address, ctx.settings.bind_interface, ctx.listen_port, ctx.settings.tcp,
        udp.is_open(), ctx.emit, [this](const asio::ip::address& a) {
            if (dht) dht->set_external_address(a);
        });
    std::string why;
    if (!port_mapping->start(why)) {
        port_mapping.reset();
        emit({EventType::port_mapping_error, -1, why});
    }
}

void Session::Impl::start_upnp() {
    upnp_mapping = std::make_unique<pw::session::UpnpMapping>(
        io, ctx.settings, ctx.bind_address, ctx.settings.bind_interface, ctx.listen_port, udp.is_open(), ctx.emit,
        [this](const asio::ip::address& a) {
            if (dht) dht->set_external_address(a);
        });
    std::string why;
    if (!upnp_mapping->start(why)) {
        upnp_mapping.reset();
        emit({EventType::port_mapping_error, -1, "port mapping (UPnP): " + why});
    }
}

awaitable<void> Session::Impl::remap_ports(std::unique_ptr<pw::session::PortMapping> old_natpmp,
                                           std::unique_ptr<pw::session::UpnpMapping> old_upnp) {
    // The old port's mappings are deleted first (bounded), then the new port is mapped.
    if (old_natpmp) co_await old_natpmp->shutdown(pw::session::port_unmap_budget);
    if (old_upnp) co_await old_upnp->shutdown(pw::session::port_unmap_budget);
    if (stopped) co_return;
    // Unless port forwarding was turned off (or on again, with its own mappings) meanwhile.
    if (old_natpmp && ctx.settings.natpmp && !port_mapping && natpmp_gateway) start_natpmp();
    if (old_upnp && ctx.settings.upnp && !upnp_mapping) start_upnp();
}

std::string Session::Impl::enable_port_forwarding(bool on, std::optional<asio::ip::udp::endpoint> gateway,
                                                  const std::string& gateway_why) {
    if (!on) {
        ctx.settings.natpmp = ctx.settings.upnp = false;
        if (port_mapping || upnp_mapping)
            asio::co_spawn(io, remap_ports(std::move(port_mapping), std::move(upnp_mapping)), asio::detached);
        return {};
    }
    if (port_mapping || upnp_mapping) return {};
    ctx.settings.natpmp = ctx.settings.upnp = true;
    natpmp_gateway = gateway;
    if (natpmp_gateway)
        start_natpmp();
    else
        emit({EventType::port_mapping_error, -1, gateway_why});
    try {
        start_upnp();
    } catch (const std::exception& e) {
        ctx.settings.upnp = false;
        return std::string("port mapping (UPnP): ") + e.what();
    }
    return {};
}

bool Session::set_port_forwarding(bool on) {
    auto& d = *impl_;
    std::optional<asio::ip::udp::endpoint> gateway;
    std::string why;
    if (on) {
        // Read here, not on the network thread (/proc/net/route without natpmp_gateway).
        try {
            gateway = pw::session::gateway_endpoint(d.ctx.settings, why);
        } catch (const std::exception& e) {
            throw Error(e.what());
        }
    }
    return on_network_or_throw(d, d.stopped, [on, gateway, why](Impl& impl) {
        return impl.enable_port_forwarding(on, gateway, why);
    });
}

std::string Session::Impl::change_port(std::uint16_t port) {
    if (port == 0) return "the peer port must be 1 to 65535";
    if (port == ctx.listen_port) return {};
    // Everything is bound on the new port before anything of the old one is let go.
    tcp::acceptor a1(io), a2(io);
    asio::ip::udp::socket u1(io), u2(io);
    std::string why;
    if (acceptor.is_open()) why = open_listener(a1, tcp::endpoint(ctx.bind_address, port), false);
    if (why.empty() && acceptor2.is_open())
        why = open_listener(a2, tcp::endpoint(ctx.bind_address2, port), true);
    if (why.empty() && udp.is_open()) why = bind_udp(u1, ctx.bind_address, port, false, "the DHT and uTP");
    if (why.empty() && udp2.is_open()) why = bind_udp(u2, ctx.bind_address2, port, true, "uTP and the DHT");
    if (!why.empty()) return why + " (the peer port stays " + std::to_string(ctx.listen_port) + ")";

    ++listen_generation;  // the loops on the old sockets end
    boost::system::error_code ec;
    auto swap_in = [&](auto& old_sock, auto& fresh) {
        if (!fresh.is_open()) return false;
        old_sock.close(ec);
        old_sock = std::move(fresh);
        return true;
    };
    if (swap_in(acceptor, a1)) asio::co_spawn(io, accept_loop(acceptor), asio::detached);
    if (swap_in(acceptor2, a2)) asio::co_spawn(io, accept_loop(acceptor2), asio::detached);
    // The DHT node and the uTP managers keep their reference to `udp` / `udp2`.
    if (swap_in(udp, u1)) {
        tune_utp_socket(udp);
        asio::co_spawn(io, udp_loop(udp, utp), asio::detached);
    }
    if (swap_in(udp2, u2)) {
        tune_utp_socket(udp2);
        asio::co_spawn(io, udp_loop(udp2, utp2), asio::detached);
    }
    ctx.listen_port = port;

    // LSD announces the port it was made with: made anew (if on), announcing every torrent.
    if (lsd) {
        bool was_on = ctx.lsd != nullptr;
        lsd->stop();
        lsd.reset();
        ctx.lsd = nullptr;
        if (was_on)
            if (auto lsd_why = start_lsd(); !lsd_why.empty()) emit({EventType::listen_failed, -1, lsd_why});
    }
    // Trackers and the DHT learn the new port now.
    for (auto& [id, t] : torrents) {
        t->reannounce();
        if (ctx.lsd) t->discovery_started();
    }
    for (auto& [id, f] : fetches)
        if (ctx.lsd) ctx.lsd->announce(f->info_hash());
    if (port_mapping || upnp_mapping)
        asio::co_spawn(io, remap_ports(std::move(port_mapping), std::move(upnp_mapping)), asio::detached);
    return {};
}

bool Session::set_listen_port(std::uint16_t port) {
    return on_network_or_throw(*impl_, impl_->stopped, [port](Impl& d) { return d.change_port(port); });
}

}  // namespace piecewise
