// Where one HTTP request goes, taken from an absolute http:// or https:// URL: the
// tracker's HTTP announces and the web seeds' ranged GETs (BEP 19) both use it. Pure.
#pragma once

#include <boost/url/url_view.hpp>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::net {

struct HttpTarget {
    bool tls = false;  // https
    std::string host;  // for the resolver and the certificate check: no brackets
    std::uint16_t port = 0;
    std::string host_header;
    std::string path;  // origin-form request target
};

// Fills `t` from `url`, or returns why it cannot be used; `what` names the URL in that
// reason ("tracker URL", "URL").
inline std::optional<std::string> parse_http_target(const boost::urls::url_view& url,
                                                    HttpTarget& t, std::string_view what) {
    const std::string w(what);
    t.tls = url.scheme_id() == boost::urls::scheme::https;
    if (!t.tls && url.scheme_id() != boost::urls::scheme::http)
        return "unsupported " + w + " scheme '" + std::string(url.scheme()) + "'";
    if (!url.has_authority() || url.encoded_host().empty()) return w + " has no host";
    const std::uint16_t default_port = t.tls ? 443 : 80;
    std::uint16_t port = default_port;
    if (url.has_port() && !url.port().empty()) {
        // port_number() wraps values above 65535, so read the digits here.
        const std::string_view digits = url.port();
        unsigned value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 ||
            value > 65535)
            return w + " has an invalid port";
        port = static_cast<std::uint16_t>(value);
    }
    t.host = url.host_address();
    t.port = port;
    t.host_header = std::string(url.encoded_host());
    if (port != default_port) t.host_header += ":" + std::to_string(port);
    t.path = std::string(url.encoded_target());
    if (t.path.empty() || t.path[0] != '/') t.path.insert(0, "/");
    return std::nullopt;
}

}  // namespace pw::net
