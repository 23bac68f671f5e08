// UPnP IGD messages: SSDP, the device description and SOAP; see upnp_message.hpp.
#include "nat/parse/upnp_message.hpp"

#include <algorithm>
#include <charconv>

#include "nat/parse/upnp_xml.hpp"

namespace pw::nat {

namespace {

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower(x) == lower(y);
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool printable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// The version of a service type "urn:schemas-upnp-org:service:NAME:V" when NAME matches.
std::optional<int> service_version(std::string_view type, std::string_view name) {
    const std::string prefix = "urn:schemas-upnp-org:service:" + std::string(name) + ":";
    if (!type.starts_with(prefix)) return std::nullopt;
    std::string_view v = type.substr(prefix.size());
    int n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return n;
}

}  // namespace

std::string HttpUrl::host_header() const {
    std::string h = ipv6 ? "[" + host + "]" : host;
    if (port != 80) h += ":" + std::to_string(port);
    return h;
}

std::string HttpUrl::to_string() const {
    return "http://" + host_header() + path;
}

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string& error) {
    if (url.size() > 2048) {
        error = "URL too long";
        return std::nullopt;
    }
    if (url.size() < 7 || !iequals(url.substr(0, 7), "http://")) {
        error = "not an http:// URL: '" + std::string(url.substr(0, 100)) + "'";
        return std::nullopt;
    }
    if (!printable(url)) {
        error = "URL with spaces or control characters";
        return std::nullopt;
    }
    std::string_view rest = url.substr(7);
    std::size_t slash = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (std::size_t hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
    if (authority.find('@') != std::string_view::npos) {
        error = "URL with user information";
        return std::nullopt;
    }
    HttpUrl u;
    std::string_view port_s;
    if (authority.starts_with("[")) {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "URL with an unterminated IPv6 literal";
            return std::nullopt;
        }
        u.host = std::string(authority.substr(1, close - 1));
        u.ipv6 = true;
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                error = "URL with a malformed host";
                return std::nullopt;
            }
            port_s = after.substr(1);
        }
        if (u.host.empty() || !std::all_of(u.host.begin(), u.host.end(), [](char c) {
                return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.';
            })) {
            error = "URL with a malformed IPv6 literal";
            return std::nullopt;
        }
    } else {
        std::size_t colon = authority.find(':');
        u.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_s = authority.substr(colon + 1);
        if (u.host.empty() || !std::all_of(u.host.begin(), u.host.end(), [](char c) {
                return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z') || c == '.' || c == '-' ||
                       c == '_';
            })) {
            error = "URL with a malformed or missing host";
            return std::nullopt;
        }
    }
    if (!port_s.empty()) {
        unsigned port = 0;
        auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
        if (ec != std::errc() || p != port_s.data() + port_s.size() || port == 0 || port > 65535) {
            error = "URL with an invalid port";
            return std::nullopt;
        }
        u.port = static_cast<std::uint16_t>(port);
    }
    u.path = std::string(path);
    if (u.path.empty() || u.path[0] != '/') u.path.insert(0, "/");
    return u;
}

std::optional<HttpUrl> resolve_url(const HttpUrl& base, std::string_view ref, std::string& error) {
    ref = trim(ref);
    if (ref.size() >= 7 && iequals(ref.substr(0, 7), "http://")) return parse_http_url(ref, error);
    if (ref.find("://") != std::string_view::npos && ref.find("://") < ref.find_first_of("/?")) {
        error = "unsupported URL scheme in '" + std::string(ref.substr(0, 100)) + "'";
        return std::nullopt;
    }
    if (ref.size() > 2048 || !printable(ref)) {
        error = "malformed URL reference";
        return std::nullopt;
    }
    HttpUrl u = base;
    if (ref.starts_with("//")) {
        return parse_http_url("http:" + std::string(ref), error);
    } else if (ref.starts_with("/")) {
        u.path = std::string(ref);
    } else {
        std::string dir = base.path.substr(0, base.path.find('?'));
        dir = dir.substr(0, dir.rfind('/') + 1);
        u.path = dir + std::string(ref);
    }
    if (std::size_t hash = u.path.find('#'); hash != std::string::npos) u.path.resize(hash);
    return u;
}

std::string encode_msearch(std::string_view search_target, int mx) {
    return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: " +
           std::to_string(mx) + "\r\nST: " + std::string(search_target) + "\r\n\r\n";
}

SsdpResponse parse_ssdp_response(std::string_view d) {
    SsdpResponse r;
    if (d.size() > max_ssdp_size) {
        r.error = "SSDP response over " + std::to_string(max_ssdp_size) + " bytes";
        return r;
    }
    std::size_t eol = d.find('\n');
    std::string_view status = trim(d.substr(0, eol));
    if (!(status.starts_with("HTTP/1.1 ") || status.starts_with("HTTP/1.0 ")) ||
        trim(status.substr(9)).substr(0, 3) != "200" ||
        (trim(status.substr(9)).size() > 3 && trim(status.substr(9))[3] != ' ')) {
        r.error = "not an SSDP search response (status line '" + std::string(status.substr(0, 60)) + "')";
        return r;
    }
    bool have_location = false;
    while (eol != std::string_view::npos) {
        std::size_t start = eol + 1;
        eol = d.find('\n', start);
        std::string_view line = trim(d.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start));
        if (line.empty()) break;  // end of the headers
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            r.error = "malformed SSDP header line";
            return r;
        }
        std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (iequals(name, "location")) {
            if (have_location) {
                r.error = "two LOCATION headers";
                return r;
            }
            have_location = true;
            r.location = std::string(value);
        } else if (iequals(name, "st")) {
            r.st = std::string(value);
        } else if (iequals(name, "usn")) {
            r.usn = std::string(value);
        }
    }
    if (!have_location) {
        r.error = "SSDP response without LOCATION";
        return r;
    }
    std::string why;
    auto url = parse_http_url(r.location, why);
    if (!url) {
        r.error = "SSDP LOCATION: " + why;
        return r;
    }
    r.location_url = *url;
    r.ok = true;
    return r;
}

IgdDescription parse_description(std::string_view xml, const HttpUrl& location) {
    IgdDescription d;
    XmlScan scan = scan_xml(xml);
    if (!scan.ok) {
        d.error = "device description: " + scan.error;
        return d;
    }
    const auto& el = scan.elements;
    HttpUrl base = location;
    for (const XmlElement& e : el) {
        if (e.depth == 1 && e.name == "URLBase" && !e.text.empty()) {
            std::string why;
            auto b = parse_http_url(e.text, why);
            if (!b) {
                d.error = "device description URLBase: " + why;
                return d;
            }
            base = *b;
        }
    }
    // The root device's friendly name: root/device/friendlyName.
    for (const XmlElement& e : el) {
        if (e.depth == 2 && e.name == "friendlyName" && e.parent >= 0 && el[e.parent].name == "device") {
            d.friendly_name = e.text.substr(0, 200);
            break;
        }
    }
    int best_rank = 0;
    std::string best_type, best_control;
    for (std::size_t i = 0; i < el.size(); ++i) {
        if (el[i].name != "service") continue;
        std::string type, control;
        for (std::size_t j = i + 1; j < el.size() && el[j].depth > el[i].depth; ++j) {
            if (el[j].parent != static_cast<int>(i)) continue;
            if (el[j].name == "serviceType") type = el[j].text;
            if (el[j].name == "controlURL") control = el[j].text;
        }
        int rank = 0;
        if (auto v = service_version(type, "WANIPConnection")) rank = *v >= 2 ? 3 : *v == 1 ? 2 : 0;
        else if (auto p = service_version(type, "WANPPPConnection"); p && *p == 1) rank = 1;
        if (rank > best_rank && !control.empty()) {
            best_rank = rank;
            best_type = type;
            best_control = control;
        }
    }
    if (!best_rank) {
        d.error = "device description has no WANIPConnection or WANPPPConnection service with a controlURL";
        return d;
    }
    std::string why;
    auto control = resolve_url(base, best_control, why);
    if (!control) {
        d.error = "device description controlURL: " + why;
        return d;
    }
    // The service type goes into the SOAPAction header: service_version() let through only
    // "urn:schemas-upnp-org:service:NAME:DIGITS".
    d.service_type = best_type;
    d.control_url = *control;
    d.ok = true;
    return d;
}

SoapRequest encode_soap_request(std::string_view service_type, std::string_view action,
                                const std::vector<std::pair<std::string, std::string>>& args) {
    SoapRequest r;
    r.soap_action = "\"" + std::string(service_type) + "#" + std::string(action) + "\"";
    r.body =
        "<?xml version=\"1.0\"?>\r\n"
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:" +
        std::string(action) + " xmlns:u=\"" + xml_escape(service_type) + "\">";
    for (const auto& [name, value] : args) r.body += "<" + name + ">" + xml_escape(value) + "</" + name + ">";
    r.body += "</u:" + std::string(action) + "></s:Body></s:Envelope>\r\n";
    return r;
}

SoapRequest encode_add_port_mapping(std::string_view service_type, MapProtocol p, std::uint16_t external_port,
                                    std::uint16_t internal_port, std::string_view internal_client,
                                    std::uint32_t lease, std::string_view description) {
    return encode_soap_request(service_type, "AddPortMapping",
                               {{"NewRemoteHost", ""},
                                {"NewExternalPort", std::to_string(external_port)},
                                {"NewProtocol", std::string(protocol_name(p))},
                                {"NewInternalPort", std::to_string(internal_port)},
                                {"NewInternalClient", std::string(internal_client)},
                                {"NewEnabled", "1"},
                                {"NewPortMappingDescription", std::string(description)},
                                {"NewLeaseDuration", std::to_string(lease)}});
}

SoapRequest encode_delete_port_mapping(std::string_view service_type, MapProtocol p, std::uint16_t external_port) {
    return encode_soap_request(service_type, "DeletePortMapping",
                               {{"NewRemoteHost", ""},
                                {"NewExternalPort", std::to_string(external_port)},
                                {"NewProtocol", std::string(protocol_name(p))}});
}

SoapRequest encode_get_external_ip(std::string_view service_type) {
    return encode_soap_request(service_type, "GetExternalIPAddress", {});
}

const std::string* SoapResponse::value(std::string_view name) const {
    for (const auto& [n, v] : values)
        if (n == name) return &v;
    return nullptr;
}

SoapResponse parse_soap_response(unsigned http_status, std::string_view body, std::string_view action) {
    SoapResponse r;
    XmlScan scan = scan_xml(body);
    if (!scan.ok) {
        r.error = "HTTP " + std::to_string(http_status) + ", SOAP body: " + scan.error;
        return r;
    }
    const auto& el = scan.elements;
    // A UPnPError anywhere (inside s:Fault/detail).
    for (std::size_t i = 0; i < el.size(); ++i) {
        if (el[i].name != "UPnPError") continue;
        std::string code, description;
        for (std::size_t j = i + 1; j < el.size() && el[j].depth > el[i].depth; ++j) {
            if (el[j].parent != static_cast<int>(i)) continue;
            if (el[j].name == "errorCode") code = el[j].text;
            if (el[j].name == "errorDescription") description = el[j].text.substr(0, 200);
        }
        int n = 0;
        auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), n);
        if (code.empty() || ec != std::errc() || p != code.data() + code.size() || n < 0 || n > 9999) {
            r.error = "HTTP " + std::to_string(http_status) + ", UPnPError with a malformed errorCode";
            return r;
        }
        r.upnp_error = n;
        r.error = "UPnP error " + std::to_string(n) + (description.empty() ? "" : " (" + description + ")");
        return r;
    }
    if (http_status != 200) {
        r.error = "HTTP " + std::to_string(http_status) + " without a UPnPError";
        return r;
    }
    const std::string wanted = std::string(action) + "Response";
    for (std::size_t i = 0; i < el.size(); ++i) {
        if (el[i].name != wanted || el[i].parent < 0 || el[el[i].parent].name != "Body") continue;
        for (std::size_t j = i + 1; j < el.size() && el[j].depth > el[i].depth; ++j)
            if (el[j].parent == static_cast<int>(i)) r.values.emplace_back(el[j].name, el[j].text);
        r.ok = true;
        return r;
    }
    r.error = "SOAP response without <" + wanted + ">";
    return r;
}

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view s) {
    std::array<std::uint8_t, 4> out{};
    for (int i = 0; i < 4; ++i) {
        std::size_t dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return std::nullopt;
        std::string_view part = s.substr(0, dot);
        if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return std::nullopt;
        unsigned v = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec != std::errc() || p != part.data() + part.size() || v > 255) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(v);
        s = i < 3 ? s.substr(dot + 1) : std::string_view();
    }
    return out;
}

}  // namespace pw::nat
