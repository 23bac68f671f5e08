// The --proxy setting: "socks5://[USER:PASS@]HOST:PORT" (also "socks5h://", the same
// here: names are always resolved by the proxy). USER and PASS may be percent-encoded
// (RFC 3986 userinfo); HOST is a name, an IPv4 address or a bracketed IPv6 address.
// Pure; the client that uses it is src/proxy/socks5_client.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace pw::proxy {

struct ProxyConfig {
    std::string host;  // empty: no proxy
    std::uint16_t port = 0;
    std::string user;  // empty: no authentication offered
    std::string pass;
    // The network interface that connections to the proxy are kept on
    // (Settings::bind_interface); empty: any. Not part of the URL.
    std::string device;
    bool enabled() const { return !host.empty(); }
    // "HOST:PORT" for messages (never the credentials).
    std::string where() const;
};

// A ProxyConfig, or a one-line reason why the URL cannot be used.
std::variant<ProxyConfig, std::string> parse_proxy_url(std::string_view url);

}  // namespace pw::proxy
