// The `piecewise` command: each subcommand registers itself on the CLI11 app and
// returns the function that runs it once parsing succeeded.
//
// Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input; a one-line
// reason on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace pw::cli {

struct Command {
    CLI::App* app;
    std::function<int()> run;
};

Command add_create(CLI::App& root);
Command add_info(CLI::App& root);
Command add_get(CLI::App& root);
Command add_seed(CLI::App& root);
Command add_tracker(CLI::App& root);   // cmd_tracker.cpp
Command add_dht_node(CLI::App& root);  // cmd_dht_node.cpp
Command add_verify(CLI::App& root);    // cmd_verify.cpp
Command add_daemon(CLI::App& root);    // cmd_daemon.cpp

// Prints "piecewise: <msg>" on stderr and returns `status`.
int fail(int status, const std::string& msg);

// --no-utp / --no-tcp (cmd_get.cpp), for get, seed and daemon.
void add_transport_flags(CLI::App* app, bool& utp, bool& tcp);
// --natpmp and the hidden --natpmp-gateway IP[:PORT] (cmd_get.cpp), for get, seed and daemon.
void add_natpmp_flags(CLI::App* app, bool& natpmp, std::string& gateway);
// --no-dht-enforce-node-id (Settings::dht_enforce_node_id), for get, seed and daemon.
void add_dht_enforce_flag(CLI::App* app, bool& enforce);
// --upnp and --upnp-igd URL (cmd_get.cpp), for get, seed and daemon.
void add_upnp_flags(CLI::App* app, bool& upnp, std::string& igd);

}  // namespace pw::cli
