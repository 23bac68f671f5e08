// `piecewise tracker`: a BitTorrent tracker over HTTP (BEP 3, 23, 7, 24, 48) and UDP
// (BEP 15), with an optional allow-list of info-hashes. One network thread runs
// everything; SIGINT/SIGTERM stop it (exit 0), SIGHUP re-reads the allow-list.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "session/endpoint.hpp"
#include "tracker/server/tracker_server.hpp"

namespace pw::cli {

namespace {

struct TrackerCliOptions {
    std::vector<std::string> http;
    std::vector<std::string> udp;
    std::string allow_list;
    int interval = 1800;
};

std::string check_endpoint(const std::string& s) {
    return session::parse_endpoint(s) ? std::string() : "expected IP:PORT, got '" + s + "'";
}

int run_tracker(const TrackerCliOptions& o) {
    namespace asio = boost::asio;
    if (o.http.empty() && o.udp.empty()) return fail(2, "tracker: give --http, --udp or both");
    tracker::TrackerOptions opts;
    for (const auto& h : o.http) opts.http.push_back(*session::parse_endpoint(h));
    for (const auto& u : o.udp) {
        auto ep = *session::parse_endpoint(u);
        opts.udp.emplace_back(ep.address(), ep.port());
    }
    opts.allow_list_path = o.allow_list;
    opts.interval = std::chrono::seconds(o.interval);

    asio::io_context io(1);
    std::optional<tracker::TrackerServer> server;
    try {
        server.emplace(io, opts);
    } catch (const std::invalid_argument& e) {
        return fail(2, std::string("tracker: ") + e.what());
    } catch (const std::exception& e) {
        return fail(1, std::string("tracker: cannot listen: ") + e.what());
    }
    server->start();
    // A later address with port 0 shares the first one's port (TrackerOptions).
    for (const auto& at : opts.http)
        std::cout << "piecewise tracker: HTTP on "
                  << session::format_endpoint({at.address(), at.port() ? at.port() : server->http_port()})
                  << " (/announce, /scrape, /stats)\n";
    for (const auto& at : opts.udp)
        std::cout << "piecewise tracker: UDP on "
                  << session::format_endpoint({at.address(), at.port() ? at.port() : server->udp_port()})
                  << "\n";
    std::cout << "piecewise tracker: interval " << o.interval << " s, allow-list "
              << (o.allow_list.empty() ? std::string("off") : o.allow_list) << std::endl;

    asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                std::string err = server->reload_allow_list();
                if (err.empty())
                    std::cerr << "piecewise tracker: allow-list reloaded\n";
                else
                    std::cerr << "piecewise tracker: allow-list kept: " << err << "\n";
                signals.async_wait(on_signal);
                return;
            }
            server->stop();
            io.stop();
        };
    signals.async_wait(on_signal);
    try {
        io.run();
    } catch (const std::exception& e) {
        return fail(1, std::string("tracker: ") + e.what());
    }
    return 0;
}

}  // namespace

Command add_tracker(CLI::App& root) {
    auto o = std::make_shared<TrackerCliOptions>();
    auto* app = root.add_subcommand("tracker", "Run a BitTorrent tracker (HTTP and/or UDP)");
    app->add_option("--http", o->http,
                    "Serve HTTP announce/scrape/stats on IP:PORT (repeatable: e.g. an IPv4 and an "
                    "IPv6 address, one swarm store)")
        ->check(check_endpoint)
        ->allow_extra_args(false);
    app->add_option("--udp", o->udp,
                    "Serve the UDP tracker protocol (BEP 15) on IP:PORT (repeatable, as --http)")
        ->check(check_endpoint)
        ->allow_extra_args(false);
    app->add_option("--allow-list", o->allow_list,
                    "Track only the info-hashes in FILE (40 hex digits a line; SIGHUP reloads)")
        ->check(CLI::ExistingFile);
    app->add_option("--interval", o->interval, "Announce interval in seconds")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    return {app, [o] { return run_tracker(*o); }};
}

}  // namespace pw::cli
