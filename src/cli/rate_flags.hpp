// --max-down / --max-up, shared by get, seed and daemon: rates such as 500k, 2M or plain
// bytes per second (swarm/rate_units.hpp), 0 for none.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>

#include "swarm/rate_units.hpp"

namespace pw::cli {

inline void add_rate_flags(CLI::App* app, std::optional<std::int64_t>& down,
                           std::optional<std::int64_t>& up) {
    auto valid = CLI::Validator(
        [](std::string& s) {
            return swarm::parse_rate(s)
                       ? std::string()
                       : "expected a rate such as 500k, 2M or 800000, got '" + s + "'";
        },
        "RATE");
    app->add_option_function<std::string>(
           "--max-down", [&down](const std::string& s) { down = *swarm::parse_rate(s); },
           "Download limit for all peers together, bytes/s: 500k = 500,000, 2M = 2,000,000, "
           "64Ki = 65,536 (k, M, G powers of 1000; Ki, Mi, Gi of 1024); 0: none (default)")
        ->check(valid);
    app->add_option_function<std::string>(
           "--max-up", [&up](const std::string& s) { up = *swarm::parse_rate(s); },
           "Upload limit for all peers together, bytes/s, written as for --max-down; 0: none "
           "(default)")
        ->check(valid);
}

}  // namespace pw::cli
