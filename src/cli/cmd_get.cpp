#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/rate_flags.hpp"
#include "cli/run_torrent.hpp"
#include "session/endpoint.hpp"
#include "nat/parse/upnp_message.hpp"
#include "session/port_mapping.hpp"

namespace pw::cli {

namespace {
// Validates HOST:PORT with a numeric address.
std::string check_endpoint(const std::string& s) {
    return session::parse_endpoint(s) ? std::string() : "expected IP:PORT, got '" + s + "'";
}
}  // namespace

// Peer discovery flags shared by get and seed.
void add_discovery_flags(CLI::App* app, RunOptions& o) {
    app->add_flag("--dht,!--no-dht", o.dht, "Use the mainline DHT (on by default; never for private torrents)");
    app->add_option("--dht-bootstrap", o.dht_bootstrap,
                    "DHT node to bootstrap from (HOST:PORT), repeatable; replaces the public routers");
    add_dht_enforce_flag(app, o.dht_enforce_node_id);
    app->add_flag("--lsd", o.lsd, "Local service discovery (BEP 14 multicast on the local network)");
    add_natpmp_flags(app, o.natpmp, o.natpmp_gateway);
    add_upnp_flags(app, o.upnp, o.upnp_igd);
    app->add_flag("!--no-pex", o.pex, "Do not exchange peer lists with peers (BEP 11)");
    app->add_option("--encryption", o.encryption,
                    "Protocol encryption (MSE/RC4): prefer (default; falls back to plaintext), "
                    "require (never plaintext), disable (plaintext only)")
        ->capture_default_str()
        ->check(CLI::IsMember({"prefer", "require", "disable"}));
    app->add_flag("--announce-to-all-tiers", o.all_tiers,
                  "Announce to one tracker in every tier instead of the first tier that answers (BEP 12)");
    app->add_option("--proxy", o.proxy,
                    "SOCKS5 proxy for peer connections and trackers: socks5://[USER:PASS@]HOST:PORT "
                    "(turns the DHT off)");
    add_transport_flags(app, o.utp, o.tcp);
    app->add_flag("--simulate-nat", o.simulate_nat,
                  "Act as if behind a NAT: refuse incoming TCP, let a uTP SYN in only from an "
                  "endpoint we sent one to (for tests of BEP 55 holepunching)");
}

void add_dht_enforce_flag(CLI::App* app, bool& enforce) {
    app->add_flag("!--no-dht-enforce-node-id", enforce,
                  "Let DHT nodes whose id does not fit their address (BEP 42) into the routing table");
}

void add_natpmp_flags(CLI::App* app, bool& natpmp, std::string& gateway) {
    app->add_flag("--natpmp", natpmp,
                  "Ask the default gateway by PCP (RFC 6887) or NAT-PMP (RFC 6886) to forward the peer port (TCP and "
                  "UDP) here; renewed while running, removed on exit");
    // For tests: the gateway to ask instead of the default route's.
    app->add_option("--natpmp-gateway", gateway, "NAT-PMP gateway IP[:PORT] (default: the default route's)")
        ->check([](const std::string& s) {
            return session::parse_gateway(s) ? std::string()
                                             : "expected an IPv4 address, optionally :PORT, got '" + s + "'";
        })
        ->group("");
}

void add_upnp_flags(CLI::App* app, bool& upnp, std::string& igd) {
    auto* flag = app->add_flag("--upnp", upnp,
                               "Ask the gateway by UPnP IGD (found by SSDP) to forward the peer port (TCP and "
                               "UDP) here; renewed while running, removed on exit");
    app->add_option("--upnp-igd", igd,
                    "With --upnp: the gateway's description URL (http://IP:PORT/...) instead of an SSDP search")
        ->check([](const std::string& s) {
            std::string why;
            return nat::parse_http_url(s, why) ? std::string() : why;
        })
        ->needs(flag);
}

void add_transport_flags(CLI::App* app, bool& utp, bool& tcp) {
    auto* no_utp = app->add_flag("!--no-utp", utp, "Do not use uTP (BEP 29) for peers: TCP only");
    app->add_flag("!--no-tcp", tcp, "Use only uTP for peers (no TCP in or out; for tests)")
        ->excludes(no_utp);
}

static void add_super_seed_flag(CLI::App* app, bool& on) {
    app->add_flag("--super-seed", on,
                  "Super-seeding (BEP 16) once every piece is here: offer each peer one or two "
                  "of the rarest pieces at a time, so the swarm trades the rest (for a first "
                  "seed with little upload)");
}

// Which peers and which network interface: shared by get and seed.
void add_filter_flags(CLI::App* app, RunOptions& o) {
    app->add_option("--blocklist", o.blocklist,
                    "IP blocklist (P2P or eMule DAT, may be gzipped): never connect to or accept "
                    "peers in its ranges");
    app->add_option("--bind-interface", o.bind_interface,
                    "Keep all traffic (peers, DHT, trackers) on this network interface, e.g. wg0");
    app->add_option("--max-connections", o.max_connections,
                    "Peer connections open at once (lowered to fit the descriptor limit)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
}

Command add_get(CLI::App& root) {
    auto o = std::make_shared<RunOptions>();
    auto* app = root.add_subcommand("get", "Download a torrent, then seed it");
    app->add_option("-o,--output", o->dir, "Directory that receives the torrent's files")->capture_default_str();
    app->add_option("--peer", o->peers, "Connect to this peer (IP:PORT); repeatable")->check(check_endpoint);
    app->add_option("--listen", o->listen,
                    "Listen address for peers (IP:PORT or [IPv6]:PORT); twice: an IPv4 and an IPv6 "
                    "address on the same port")
        ->capture_default_str()
        ->allow_extra_args(false)
        ->check(check_endpoint);
    auto* no_seed = app->add_flag("--no-seed", o->no_seed, "Exit as soon as the download is complete");
    app->add_option("--seed-ratio", o->seed_ratio, "Seed until uploaded/size reaches R, then exit")
        ->check(CLI::NonNegativeNumber)
        ->excludes(no_seed);
    app->add_flag("-q,--quiet", o->quiet, "No progress output");
    app->add_flag("-v,--verbose", o->verbose, "Show peer and tracker events");
    app->add_option("--resume-dir", o->resume_dir, "Where fast-resume data is kept");
    app->add_option("--tracker-ca", o->tracker_ca,
                    "PEM file of CA certificates trusted for https trackers, besides the system store")
        ->check(CLI::ExistingFile);
    app->add_option("--cache", o->cache_mib,
                    "MiB of memory for pieces being downloaded, hashed and written (default 32)")
        ->check(CLI::Range(1, 1 << 16));
    add_discovery_flags(app, *o);
    add_filter_flags(app, *o);
    app->add_option(
        "--files", o->files,
        "Download only these files: indices from `info` (0-based) and ranges, e.g. 0,2-3; "
        "other files are not created (with a magnet: becomes its so=, BEP 53)");
    app->add_flag("--sequential", o->sequential,
                  "Fetch pieces in order (for playing while downloading)");
    app->add_flag("--part-files", o->part_files,
                  "Name each file NAME.part until all of it is verified (as Transmission's "
                  "rename-partial-files)");
    app->add_flag("--timing", o->timing,
                  "Print on stderr when each phase ends (session, checked, announced, first-block, "
                  "complete, stopped, exit), in seconds since the program started");
    add_super_seed_flag(app, o->super_seed);
    add_rate_flags(app, o->max_down, o->max_up);
    app->add_option("--save-torrent", o->save_torrent, "With a magnet link: save the fetched metadata as this .torrent");
    app->add_option("torrent", o->torrent, "The .torrent file, or a magnet link (magnet:?xt=urn:btih:...)")->required();
    return {app, [o] { return run_torrent(*o); }};
}

Command add_seed(CLI::App& root) {
    auto o = std::make_shared<RunOptions>();
    o->upload_only = true;
    auto* app = root.add_subcommand("seed", "Check data on disk against a torrent and serve it");
    app->add_option("-d,--dir", o->dir, "Directory that holds the torrent's files")->capture_default_str();
    app->add_option("--peer", o->peers, "Connect to this peer (IP:PORT); repeatable")->check(check_endpoint);
    app->add_option("--listen", o->listen,
                    "Listen address for peers (IP:PORT or [IPv6]:PORT); twice: an IPv4 and an IPv6 "
                    "address on the same port")
        ->capture_default_str()
        ->allow_extra_args(false)
        ->check(check_endpoint);
    app->add_flag("-q,--quiet", o->quiet, "No progress output");
    app->add_flag("-v,--verbose", o->verbose, "Show peer and tracker events");
    app->add_option("--resume-dir", o->resume_dir, "Where fast-resume data is kept");
    app->add_option("--tracker-ca", o->tracker_ca,
                    "PEM file of CA certificates trusted for https trackers, besides the system store")
        ->check(CLI::ExistingFile);
    add_discovery_flags(app, *o);
    add_filter_flags(app, *o);
    add_super_seed_flag(app, o->super_seed);
    add_rate_flags(app, o->max_down, o->max_up);
    app->add_option("torrent", o->torrent, "The .torrent file")->required();
    return {app, [o] { return run_torrent(*o); }};
}

}  // namespace pw::cli
