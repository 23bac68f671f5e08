// `piecewise dht-node`: a standalone mainline DHT node (BEP 5), e.g. a bootstrap node
// for a private network. It has no default bootstrap: it is one. Every --log-interval
// seconds (and on SIGUSR1) it prints its routing table size and the queries it served;
// SIGINT/SIGTERM save the state file (if --state) and exit 0.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "dht/udp_dht_node.hpp"
#include "session/endpoint.hpp"

namespace pw::cli {

namespace {

struct DhtNodeOptions {
    std::string listen;
    std::vector<std::string> bootstrap;
    std::string state;
    int log_interval = 30;
    int rate_limit = 50;
};

std::string check_listen(const std::string& s) {
    return session::parse_endpoint(s) ? std::string() : "expected IP:PORT, got '" + s + "'";
}

// HOST:PORT where HOST may be a name (resolved by the node) and PORT is 1..65535.
std::string check_host_port(const std::string& s) {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0) return "expected HOST:PORT, got '" + s + "'";
    unsigned port = 0;
    const char* b = s.data() + colon + 1;
    const char* e = s.data() + s.size();
    auto [p, ec] = std::from_chars(b, e, port);
    if (ec != std::errc() || p != e || port == 0 || port > 65535) return "bad port in '" + s + "'";
    return {};
}

void report(const dht::DhtNode& node) {
    dht::DhtStats st = node.stats();
    std::cout << "piecewise dht-node: routing table " << node.routing_table_size() << " nodes";
    if (node.serves(false) && node.serves(true))
        std::cout << " (IPv4 " << node.routing_table_size(false) << ", IPv6 "
                  << node.routing_table_size(true) << ")";
    std::cout << ", queries served " << st.queries_served << " (rate-limited " << st.rate_limited
              << ", malformed " << st.malformed << "), peers stored " << st.peers_stored << " for "
              << st.hashes_stored << " info-hashes" << std::endl;
}

int run_dht_node(const DhtNodeOptions& o) {
    namespace asio = boost::asio;
    // An IPv4 address serves the IPv4 DHT, an IPv6 one the IPv6 DHT (BEP 32), and [::]
    // both (a dual-stack socket).
    auto listen = session::unmapped(*session::parse_endpoint(o.listen));
    dht::DhtSettings s;
    s.bootstrap = o.bootstrap;
    s.state_file = o.state;
    s.max_queries_per_second_per_ip = o.rate_limit;
    s.log = [](std::string_view line) { std::cout << "piecewise dht-node: " << line << std::endl; };

    asio::io_context io(1);
    std::optional<dht::UdpDhtNode> node;
    try {
        node.emplace(io, asio::ip::udp::endpoint(listen.address(), listen.port()), s);
    } catch (const std::exception& e) {
        return fail(1, "dht-node: cannot listen on " + o.listen + ": " + e.what());
    }
    node->start();
    auto local = node->local_endpoint();
    std::cout << "piecewise dht-node: listening on " << local.address().to_string() << ":"
              << local.port() << " (UDP), id " << node->node().id().hex() << ", "
              << o.bootstrap.size() << " bootstrap address(es)" << std::endl;

    asio::steady_timer ticker(io);
    std::function<void(const boost::system::error_code&)> on_tick =
        [&](const boost::system::error_code& ec) {
            if (ec) return;
            report(node->node());
            ticker.expires_after(std::chrono::seconds(o.log_interval));
            ticker.async_wait(on_tick);
        };
    ticker.expires_after(std::chrono::seconds(o.log_interval));
    ticker.async_wait(on_tick);

    asio::signal_set signals(io, SIGINT, SIGTERM, SIGUSR1);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGUSR1) {
                report(node->node());
                signals.async_wait(on_signal);
                return;
            }
            report(node->node());
            node->stop();  // saves the state file
            if (!o.state.empty())
                std::cout << "piecewise dht-node: state saved to " << o.state << std::endl;
            ticker.cancel();
            io.stop();
        };
    signals.async_wait(on_signal);
    try {
        io.run();
    } catch (const std::exception& e) {
        return fail(1, std::string("dht-node: ") + e.what());
    }
    return 0;
}

}  // namespace

Command add_dht_node(CLI::App& root) {
    auto o = std::make_shared<DhtNodeOptions>();
    auto* app =
        root.add_subcommand("dht-node", "Run a standalone mainline DHT node (BEP 5, IPv6: BEP 32)");
    app->add_option("--listen", o->listen, "UDP address to serve on, IP:PORT")
        ->required()
        ->check(check_listen);
    app->add_option("--bootstrap", o->bootstrap,
                    "Node to join through, HOST:PORT (repeatable; none by default)")
        ->check(check_host_port);
    app->add_option("--state", o->state,
                    "Save the routing table here on exit and every 10 minutes; reload it at start");
    app->add_option("--log-interval", o->log_interval, "Seconds between status lines")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    app->add_option("--rate-limit", o->rate_limit, "Queries per second accepted from one IP")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    return {app, [o] { return run_dht_node(*o); }};
}

}  // namespace pw::cli
