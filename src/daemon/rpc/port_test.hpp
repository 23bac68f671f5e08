// port-test (rpc-spec.md 4.4, legacy 4.0.6 the same in kebab-case), answered without
// reaching out: Transmission asks a service on the internet to connect back, which these
// machines must never do. Piecewise instead connects to its own peer listener on this
// host (the listen address, or loopback of its family when it listens on a wildcard) and
// answers whether that connection is accepted. So `port_is_open` says the listener is up
// and accepting, not that it can be reached through a router or firewall.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::daemon::rpc {

struct PortTestResult {
    bool port_is_open = false;
    std::string ip_protocol;  // "ipv4" or "ipv6": the family the test used
};

// `listen`: the session's listen address ("0.0.0.0:6881", "[::1]:7000"); `port`: the port
// actually bound. `ip_protocol`: "ipv4", "ipv6" or nullopt (the listener's own family);
// anything else throws ParamError. `listen2`: the second listener's address (the other
// family, same port; empty: none), tested when `ip_protocol` names its family. A family no
// listener uses is not open.
PortTestResult port_test(std::string_view listen, std::uint16_t port,
                         const std::optional<std::string>& ip_protocol,
                         std::chrono::milliseconds timeout = std::chrono::seconds(2),
                         std::string_view listen2 = {});

}  // namespace pw::daemon::rpc
