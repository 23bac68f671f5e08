// Parsing of the --proxy URL (see proxy_url.hpp).
#include "proxy/parse/proxy_url.hpp"

#include <charconv>

#include "text/percent.hpp"

namespace pw::proxy {

namespace {

// Percent-decodes `in`; false on a broken escape.
bool unescape(std::string_view in, std::string& out) {
    auto d = text::percent_decode(in, false);
    if (!d) return false;
    out = std::move(*d);
    return true;
}

bool lower_equals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != b[i]) return false;
    }
    return true;
}

}  // namespace

std::string ProxyConfig::where() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::variant<ProxyConfig, std::string> parse_proxy_url(std::string_view url) {
    const std::size_t sep = url.find("://");
    if (sep == std::string_view::npos)
        return "proxy URL must look like socks5://[USER:PASS@]HOST:PORT";
    const std::string_view scheme = url.substr(0, sep);
    if (!lower_equals(scheme, "socks5") && !lower_equals(scheme, "socks5h"))
        return "unsupported proxy scheme '" + std::string(scheme) +
               "' (only socks5:// is supported)";
    std::string_view rest = url.substr(sep + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find_first_of("/?#") != std::string_view::npos)
        return "proxy URL must not have a path, query or fragment";
    ProxyConfig c;
    const std::size_t at = rest.rfind('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const std::size_t colon = userinfo.find(':');
        if (colon == std::string_view::npos)
            return "proxy URL has a user name but no password (USER:PASS@)";
        if (!unescape(userinfo.substr(0, colon), c.user) ||
            !unescape(userinfo.substr(colon + 1), c.pass))
            return "proxy URL has a bad percent-escape in USER:PASS";
        if (c.user.empty() || c.user.size() > 255) return "proxy user name must be 1..255 bytes";
        if (c.pass.empty() || c.pass.size() > 255) return "proxy password must be 1..255 bytes";
    }
    std::string_view host, port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return "proxy URL has an unclosed '[' in the host";
        host = rest.substr(1, close - 1);
        const std::string_view after = rest.substr(close + 1);
        if (after.empty() || after.front() != ':') return "proxy URL has no port (HOST:PORT)";
        port = after.substr(1);
        if (host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos ||
            host.empty())
            return "proxy URL has a bad IPv6 address";
    } else {
        const std::size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) return "proxy URL has no port (HOST:PORT)";
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return "proxy URL: put an IPv6 host in brackets";
        for (char ch : host) {
            const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
            if (!ok) return "proxy URL has a bad character in the host";
        }
    }
    if (host.empty()) return "proxy URL has no host";
    if (host.size() > 255) return "proxy host name is too long";
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535)
        return "proxy URL has an invalid port '" + std::string(port) + "'";
    c.host = std::string(host);
    c.port = static_cast<std::uint16_t>(value);
    return c;
}

}  // namespace pw::proxy
