// Shared by `get` and `seed`: runs one torrent in a session, shows progress, and
// decides when to stop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "piecewise/session.hpp"

namespace pw::cli {

struct RunOptions {
    std::string torrent;
    std::string dir = ".";
    // --listen, given at most twice: one IPv4 and one IPv6 address (Settings::listen2).
    std::vector<std::string> listen{"0.0.0.0:6881"};
    std::vector<std::string> peers;
    bool upload_only = false;  // seed: serve what is on disk
    bool no_seed = false;      // get: exit once complete
    double seed_ratio = -1;
    bool quiet = false;
    bool verbose = false;
    std::string resume_dir;
    std::string save_torrent;  // get with a magnet: write the fetched .torrent here
    bool dht = true;
    std::vector<std::string> dht_bootstrap;  // empty: the session's default routers
    bool dht_enforce_node_id = true;         // Settings::dht_enforce_node_id
    bool lsd = false;
    bool natpmp = false;         // Settings::natpmp
    std::string natpmp_gateway;  // Settings::natpmp_gateway (hidden option, for tests)
    bool upnp = false;           // Settings::upnp
    std::string upnp_igd;        // Settings::upnp_igd
    bool pex = true;
    std::string encryption = "prefer";  // prefer | require | disable
    bool all_tiers = false;
    std::string tracker_ca;  // Settings::tracker_ca_file
    std::int64_t cache_mib = 0;  // Settings::cache_bytes in MiB; 0: the default
    std::string blocklist;       // Settings::blocklist_file
    std::string bind_interface;  // Settings::bind_interface
    std::string proxy;           // Settings::proxy
    std::string files;           // get --files: "0,2-3" (empty: every file)
    bool sequential = false;     // get --sequential
    bool part_files = false;     // get --part-files
    bool super_seed = false;     // get/seed --super-seed (BEP 16)
    std::optional<std::int64_t> max_down, max_up;  // Settings::rate_limits, bytes/s
    int max_connections = 500;   // Settings::max_connections
    bool utp = true;             // Settings::utp
    bool tcp = true;             // Settings::tcp
    // get --timing: one line on stderr per phase, "timing: PHASE SECONDS", seconds since
    // the program started: session (engine up, listening), checked (the start-up check
    // decided what is on disk), announced (first tracker reply), first-block (first payload
    // seen), complete (every wanted piece verified and written), stopped (the session
    // stopped: stopped announce, resume data), exit (just before the process returns).
    bool timing = false;
    bool simulate_nat = false;   // Settings::simulate_nat (tests)
};

// Exit status per the command-line conventions (0, 1, 2).
int run_torrent(const RunOptions& o);

// Installs SIGINT/SIGTERM handlers that set a flag polled by run_torrent.
void install_stop_signals();

}  // namespace pw::cli
