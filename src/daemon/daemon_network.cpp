// The Daemon's dht-enabled, lpd-enabled, utp-enabled, port-forwarding-enabled and peer-port
// (with peer-port-random-on-start): applied to the engine while it runs (Session::set_dht,
// set_lsd, set_utp, set_port_forwarding, set_listen_port) and kept in the store's settings.
//
// Which value a start uses: the command line's (--dht/--no-dht, --lsd, --utp/--no-utp,
// --natpmp, --upnp, or their defaults) gives the first one. A value set over the RPC is stored and wins on
// the following starts, as long as the command line says the same as it did at the start
// before; a command line that changed since (a flag added or removed) wins again and
// replaces the stored value. So `session-set` is not undone by a restart, and editing the
// service's command line still takes effect. Each setting's command-line value at the last
// start is kept beside it ("<key>_cli"); for peer-port that is --listen's text. A stored
// peer-port that another program holds at start gives way to --listen's port for that run.
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <tuple>

#include "daemon/daemon.hpp"

namespace pw::daemon {

namespace {

const char* flag(bool on) { return on ? "1" : "0"; }

// "IP:PORT" or "[IPv6]:PORT" with another port; empty stays empty.
std::string with_port(const std::string& listen, std::uint16_t port) {
    auto colon = listen.rfind(':');
    if (listen.empty() || colon == std::string::npos) return listen;
    return listen.substr(0, colon + 1) + std::to_string(port);
}

// The port of "IP:PORT" (0 when there is none or it is malformed).
std::uint16_t port_of(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return 0;
    try {
        auto v = std::stoul(listen.substr(colon + 1));
        return v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

std::optional<int> to_port(const std::string& s) {
    try {
        auto v = std::stoi(s);
        if (v >= 1 && v <= 65535) return v;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

}  // namespace

void Daemon::load_network_settings() {
    auto kv = store_->load_settings();
    auto pick = [&](const std::string& key, bool& value) {
        const std::string cli = flag(value);
        auto last_cli = kv.find(key + "_cli");
        auto stored = kv.find(key);
        if (last_cli != kv.end() && last_cli->second == cli && stored != kv.end()) {
            value = stored->second == "1";
            return;
        }
        store_->set_setting(key + "_cli", cli);
        store_->set_setting(key, cli);
    };
    pick("dht_enabled", cfg_.settings.dht);
    pick("lpd_enabled", cfg_.settings.lsd);
    pick("utp_enabled", cfg_.settings.utp);
    // port-forwarding-enabled is NAT-PMP/PCP or UPnP: each of the two is kept by the same
    // rule, its command-line value being whether --natpmp (--upnp) was given, so that a
    // restart runs what ran before it and a changed --natpmp/--upnp wins.
    // A store from before these two keys holds one port_forwarding_enabled (with its
    // command-line value, whether either flag was given): what it made a start run is
    // carried over once.
    if (!kv.count("natpmp_enabled_cli") && kv.count("port_forwarding_enabled") &&
        kv.count("port_forwarding_enabled_cli")) {
        const bool cli_forwarding = cfg_.settings.natpmp || cfg_.settings.upnp;
        if (kv["port_forwarding_enabled_cli"] == flag(cli_forwarding)) {
            const bool forwarding = kv["port_forwarding_enabled"] == "1";
            const bool natpmp = forwarding == cli_forwarding ? cfg_.settings.natpmp : forwarding;
            const bool upnp = forwarding == cli_forwarding ? cfg_.settings.upnp : forwarding;
            for (auto [key, cli, value] : {std::tuple{"natpmp_enabled", cfg_.settings.natpmp, natpmp},
                                           std::tuple{"upnp_enabled", cfg_.settings.upnp, upnp}}) {
                kv[std::string(key) + "_cli"] = flag(cli);
                kv[key] = flag(value);
                store_->set_setting(std::string(key) + "_cli", flag(cli));
                store_->set_setting(key, flag(value));
            }
        }
    }
    pick("natpmp_enabled", cfg_.settings.natpmp);
    pick("upnp_enabled", cfg_.settings.upnp);
    // With TCP off (--no-tcp) uTP is the only transport, whatever was stored.
    if (!cfg_.settings.tcp) cfg_.settings.utp = true;

    // peer-port: the same rule, --listen's text standing for the command line.
    cli_listen_ = cfg_.settings.listen;
    cli_listen2_ = cfg_.settings.listen2;
    const std::string cli = cfg_.settings.listen + " " + cfg_.settings.listen2;
    auto last_cli = kv.find("peer_port_cli");
    auto stored = kv.find("peer_port");
    if (last_cli != kv.end() && last_cli->second == cli && stored != kv.end()) {
        if (auto p = to_port(stored->second)) {
            cfg_.settings.listen = with_port(cfg_.settings.listen, static_cast<std::uint16_t>(*p));
            cfg_.settings.listen2 = with_port(cfg_.settings.listen2, static_cast<std::uint16_t>(*p));
        }
    } else {
        store_->set_setting("peer_port_cli", cli);
        store_->set_setting("peer_port", std::to_string(port_of(cfg_.settings.listen)));
    }
    if (auto it = kv.find("peer_port_random_on_start"); it != kv.end()) port_random_.on_start = it->second == "1";
    auto low = kv.find("peer_port_random_low");
    auto high = kv.find("peer_port_random_high");
    if (low != kv.end() && high != kv.end()) {
        auto l = to_port(low->second), h = to_port(high->second);
        if (l && h && *l <= *h) {
            port_random_.low = *l;
            port_random_.high = *h;
        }
    }
}

std::unique_ptr<piecewise::Session> Daemon::open_session() {
    try {
        return std::make_unique<piecewise::Session>(cfg_.settings);
    } catch (const piecewise::Error& e) {
        // A peer-port set over the RPC that another program has taken since: the daemon
        // still starts (as Transmission does), so that a front-end can reach it and choose
        // another port. The stored value stays; the next start tries it again.
        if (cfg_.settings.listen == cli_listen_ && cfg_.settings.listen2 == cli_listen2_) throw;
        std::cerr << "piecewise daemon: peer-port " << port_of(cfg_.settings.listen) << ": " << e.what()
                  << "; listening on " << cli_listen_ << " (--listen) instead\n";
        cfg_.settings.listen = cli_listen_;
        cfg_.settings.listen2 = cli_listen2_;
        return std::make_unique<piecewise::Session>(cfg_.settings);
    }
}

void Daemon::pick_random_port() {
    if (!port_random_.on_start) return;
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(port_random_.low, port_random_.high);
    std::string why;
    // A few tries: a port of the range may be taken.
    for (int i = 0; i < 8; ++i) {
        try {
            session_->set_listen_port(static_cast<std::uint16_t>(pick(rng)));
            return;
        } catch (const piecewise::Error& e) {
            why = e.what();
        }
    }
    std::cerr << "piecewise daemon: peer-port-random-on-start: no free port in " << port_random_.low << "-"
              << port_random_.high << " (" << why << ")\n";
}

void Daemon::set_peer_port(std::uint16_t port) {
    std::lock_guard lk(mu_);
    session_->set_listen_port(port);
    store_->set_setting("peer_port", std::to_string(port));
}

void Daemon::set_port_forwarding(bool on) {
    std::lock_guard lk(mu_);
    session_->set_port_forwarding(on);
    // As the session does: off turns both off; on turns both on unless one already runs.
    if (!on)
        cfg_.settings.natpmp = cfg_.settings.upnp = false;
    else if (!cfg_.settings.natpmp && !cfg_.settings.upnp)
        cfg_.settings.natpmp = cfg_.settings.upnp = true;
    store_->set_setting("natpmp_enabled", flag(cfg_.settings.natpmp));
    store_->set_setting("upnp_enabled", flag(cfg_.settings.upnp));
}

PeerPortRandom Daemon::peer_port_random() {
    std::lock_guard lk(mu_);
    return port_random_;
}

void Daemon::set_peer_port_random(const PeerPortRandom& r) {
    if (r.low < 1 || r.high > 65535 || r.low > r.high)
        throw piecewise::Error("peer-port-random-low and -high must make a range within 1-65535, got " +
                               std::to_string(r.low) + "-" + std::to_string(r.high));
    std::lock_guard lk(mu_);
    store_->set_setting("peer_port_random_on_start", flag(r.on_start));
    store_->set_setting("peer_port_random_low", std::to_string(r.low));
    store_->set_setting("peer_port_random_high", std::to_string(r.high));
    port_random_ = r;
}

void Daemon::set_dht(bool on) {
    std::lock_guard lk(mu_);
    session_->set_dht(on);
    store_->set_setting("dht_enabled", flag(on));
    cfg_.settings.dht = on;
}

void Daemon::set_lsd(bool on) {
    std::lock_guard lk(mu_);
    session_->set_lsd(on);
    store_->set_setting("lpd_enabled", flag(on));
    cfg_.settings.lsd = on;
}

void Daemon::set_utp(bool on) {
    std::lock_guard lk(mu_);
    session_->set_utp(on);
    store_->set_setting("utp_enabled", flag(on));
    cfg_.settings.utp = on;
}

}  // namespace pw::daemon
