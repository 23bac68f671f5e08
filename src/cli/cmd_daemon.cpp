// `piecewise daemon`: a long-running multi-torrent process driven by Transmission's RPC
// (see src/daemon/). Foreground until SIGINT/SIGTERM or the RPC's session-close, then a
// clean stop: `stopped` announces, resume data saved, the state database closed.
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <variant>

#include "cli/commands.hpp"
#include "cli/rate_flags.hpp"
#include "daemon/daemon.hpp"
#include "daemon/http/access.hpp"
#include "daemon/http/server.hpp"
#include "daemon/rpc/methods.hpp"
#include "daemon/watch/watch_dir.hpp"
#include "proxy/parse/proxy_url.hpp"
#include "session/endpoint.hpp"

namespace pw::cli {

namespace fs = std::filesystem;

namespace {

struct DaemonOptions {
    std::string rpc = "127.0.0.1:9091";
    std::string state_dir;
    std::string download_dir;
    std::string rpc_auth;
    std::string rpc_allow = "127.0.0.1,::1";
    std::vector<std::string> listen{"0.0.0.0:51413"};  // at most two: IPv4 and IPv6
    bool dht = true;
    std::vector<std::string> dht_bootstrap;
    bool dht_enforce_node_id = true;
    bool lsd = false;
    bool natpmp = false;
    std::string natpmp_gateway;
    bool upnp = false;
    std::string upnp_igd;
    bool pex = true;
    std::string encryption;  // prefer | require | disable; empty: the stored one or prefer
    std::string blocklist;
    std::string bind_interface;
    std::string proxy;
    std::optional<std::int64_t> max_down, max_up;  // bytes/s
    bool metrics_per_torrent = false;
    std::string watch_dir;
    int max_connections = 500;
    bool max_connections_given = false;  // else a stored session-set peer-limit-global wins
    bool utp = true;
    bool tcp = true;
    std::string download_root;
};

std::string default_state_dir() {
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x)
        return std::string(x) + "/piecewise";
    if (const char* h = std::getenv("HOME"); h && *h)
        return std::string(h) + "/.local/state/piecewise";
    return "/var/lib/piecewise";
}

std::string default_download_dir() {
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/Downloads";
    return "/tmp";
}

std::string check_endpoint(const std::string& s) {
    return session::parse_endpoint(s) ? std::string() : "expected IP:PORT, got '" + s + "'";
}

int run_daemon(DaemonOptions o) {
#ifdef __GLIBC__
    // A long-running process with a few threads: one malloc arena (the threads' tcaches
    // take most small allocations) instead of one per thread; with 1,000 torrents each
    // extra arena kept its own high-water mark of free pages resident (about 2 MiB for
    // the second one; bench/RESULTS.md).
    mallopt(M_ARENA_MAX, 1);
#endif
    auto rpc_ep = session::parse_endpoint(o.rpc);
    auto allow = daemon::http::parse_allow_list(o.rpc_allow);
    if (!allow) return fail(2, "daemon: --rpc-allow: expected IP addresses separated by commas");
    if (!o.rpc_auth.empty() && o.rpc_auth.find(':') == std::string::npos)
        return fail(2, "daemon: --rpc-auth: expected USER:PASS");

    daemon::DaemonConfig cfg;
    cfg.state_dir = o.state_dir.empty() ? default_state_dir() : o.state_dir;
    cfg.download_dir =
        fs::absolute(o.download_dir.empty() ? default_download_dir() : o.download_dir).string();
    cfg.download_dir_given = !o.download_dir.empty();
    cfg.encryption_given = !o.encryption.empty();
    if (o.listen.empty() || o.listen.size() > 2)
        return fail(2, "daemon: --listen: give one address, or two (an IPv4 and an IPv6 one)");
    cfg.settings.listen = o.listen[0];
    if (o.listen.size() == 2) cfg.settings.listen2 = o.listen[1];
    cfg.settings.dht = o.dht;
    if (!o.dht_bootstrap.empty()) cfg.settings.dht_bootstrap = o.dht_bootstrap;
    cfg.settings.dht_enforce_node_id = o.dht_enforce_node_id;
    cfg.settings.lsd = o.lsd;
    cfg.settings.natpmp = o.natpmp;
    cfg.settings.natpmp_gateway = o.natpmp_gateway;
    cfg.settings.upnp = o.upnp;
    cfg.settings.upnp_igd = o.upnp_igd;
    cfg.settings.pex = o.pex;
    cfg.settings.encryption = o.encryption == "require"   ? piecewise::Encryption::require
                              : o.encryption == "disable" ? piecewise::Encryption::disable
                                                          : piecewise::Encryption::prefer;
    cfg.settings.blocklist_file = o.blocklist;
    cfg.settings.bind_interface = o.bind_interface;
    if (!o.proxy.empty()) {
        auto parsed = proxy::parse_proxy_url(o.proxy);
        if (auto* why = std::get_if<std::string>(&parsed)) return fail(2, "--proxy: " + *why);
        if (o.dht)
            std::cerr << "warning: the DHT is off while --proxy is set (it cannot use the proxy "
                         "without revealing this address); peers come from trackers and PEX\n";
    }
    cfg.settings.proxy = o.proxy;
    cfg.max_down = o.max_down;
    cfg.max_up = o.max_up;
    cfg.settings.max_connections = o.max_connections;
    cfg.max_connections_given = o.max_connections_given;
    cfg.settings.utp = o.utp;
    cfg.settings.tcp = o.tcp;
    if (!o.download_root.empty())
        cfg.download_root = fs::absolute(o.download_root).lexically_normal().string();

    // Every thread started below inherits this mask: only sigwait() sees the signals.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    std::unique_ptr<daemon::Daemon> d;
    try {
        d = std::make_unique<daemon::Daemon>(cfg);
    } catch (const std::exception& e) {
        return fail(1, std::string("daemon: ") + e.what());
    }
    daemon::rpc::Methods methods(*d);
    daemon::http::ServerConfig sc;
    sc.listen = *rpc_ep;
    sc.allow = *allow;
    if (!o.rpc_auth.empty()) sc.auth = o.rpc_auth;
    sc.metrics_per_torrent = o.metrics_per_torrent;
    std::unique_ptr<daemon::http::Server> server;
    try {
        server = std::make_unique<daemon::http::Server>(sc, methods,
                                                        [] { ::kill(::getpid(), SIGTERM); });
    } catch (const std::exception& e) {
        return fail(1, std::string("daemon: ") + e.what());
    }
    std::unique_ptr<daemon::WatchDir> watch;
    if (!o.watch_dir.empty()) {
        try {
            auto* dp = d.get();
            watch = std::make_unique<daemon::WatchDir>(
                fs::absolute(o.watch_dir),
                [dp](const std::string& bytes) {
                    daemon::AddRequest a;
                    a.metainfo = bytes;
                    a.paused = !dp->start_added_torrents();
                    dp->add(a);
                },
                [](const std::string& line) {
                    std::cerr << "piecewise daemon: " << line << std::endl;
                },
                std::chrono::seconds(2), [dp] { return dp->trash_original_torrent_files(); });
        } catch (const std::exception& e) {
            return fail(1, std::string("daemon: ") + e.what());
        }
    }
    std::cout << "piecewise daemon: web UI on http://" << o.rpc << "/, RPC on http://" << o.rpc
              << "/transmission/rpc, peers on port " << d->peer_port() << ", state in "
              << cfg.state_dir << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    std::cout << "piecewise daemon: stopping" << std::endl;
    if (watch) watch->stop();
    server->stop();
    server.reset();
    d.reset();  // stops the session: `stopped` announces, resume data
    std::cout << "piecewise daemon: stopped" << std::endl;
    return 0;
}

}  // namespace

Command add_daemon(CLI::App& root) {
    auto o = std::make_shared<DaemonOptions>();
    auto* app = root.add_subcommand(
        "daemon", "Run many torrents in the background, driven by Transmission's RPC");
    app->add_option("--rpc", o->rpc, "RPC address (IP:PORT)")
        ->capture_default_str()
        ->check(check_endpoint);
    app->add_option("--state-dir", o->state_dir,
                    "State directory (default $XDG_STATE_HOME/piecewise)");
    app->add_option("--download-dir", o->download_dir,
                    "Default download directory (default ~/Downloads; a session-set download-dir is "
                    "remembered unless this is given)");
    app->add_option("--rpc-auth", o->rpc_auth, "Require HTTP Basic authentication with USER:PASS");
    app->add_option("--rpc-allow", o->rpc_allow,
                    "Client addresses allowed to use the RPC, comma-separated")
        ->capture_default_str();
    app->add_option("--listen", o->listen,
                    "Listen address for peers (IP:PORT or [IPv6]:PORT); twice: an IPv4 and an IPv6 "
                    "address on the same port")
        ->capture_default_str()
        ->allow_extra_args(false)
        ->check(check_endpoint);
    app->add_flag("--dht,!--no-dht", o->dht,
                  "Use the mainline DHT (on by default; never for private torrents)");
    app->add_option(
        "--dht-bootstrap", o->dht_bootstrap,
        "DHT node to bootstrap from (HOST:PORT), repeatable; replaces the public routers");
    add_dht_enforce_flag(app, o->dht_enforce_node_id);
    app->add_flag("--lsd", o->lsd,
                  "Local service discovery (BEP 14 multicast on the local network)");
    add_natpmp_flags(app, o->natpmp, o->natpmp_gateway);
    add_upnp_flags(app, o->upnp, o->upnp_igd);
    app->add_flag("!--no-pex", o->pex, "Do not exchange peer lists with peers (BEP 11)");
    app->add_option("--encryption", o->encryption,
                    "Protocol encryption (MSE/RC4): prefer (default; falls back to plaintext), "
                    "require (never plaintext), disable (plaintext only); the RPC's "
                    "session-set `encryption` changes it and is remembered unless this is given")
        ->check(CLI::IsMember({"prefer", "require", "disable"}));
    app->add_option("--blocklist", o->blocklist,
                    "IP blocklist (P2P or eMule DAT, may be gzipped): never connect to or accept "
                    "peers in its ranges");
    app->add_option("--bind-interface", o->bind_interface,
                    "Keep all traffic (peers, DHT, trackers) on this network interface, e.g. wg0");
    app->add_option("--proxy", o->proxy,
                    "SOCKS5 proxy for peer connections and trackers: socks5://[USER:PASS@]HOST:PORT "
                    "(turns the DHT off)");
    add_rate_flags(app, o->max_down, o->max_up);
    app->add_flag("--metrics-per-torrent", o->metrics_per_torrent,
                  "GET /metrics also gives per-torrent series (one label set per torrent)");
    app->add_option("--watch-dir", o->watch_dir,
                    "Add .torrent files dropped into this directory (renamed *.added, or "
                    "*.invalid with the reason logged)");
    app->add_option("--max-connections", o->max_connections,
                    "Peer connections open at once (lowered to fit the descriptor limit; "
                    "replaces a peer-limit-global set through the RPC)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000))
        ->each([o](const std::string&) { o->max_connections_given = true; });
    add_transport_flags(app, o->utp, o->tcp);
    app->add_option("--download-root", o->download_root,
                    "Confine download-dir and torrent-set-location to this directory tree");
    return {app, [o] { return run_daemon(*o); }};
}

}  // namespace pw::cli
