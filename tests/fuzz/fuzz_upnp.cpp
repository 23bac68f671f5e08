// libFuzzer target for the UPnP IGD parsers (UPnP Device Architecture 1.1): the bounded XML
// scanner, SSDP search responses, device descriptions, SOAP responses, URLs and IPv4
// addresses. Besides "no crash", it checks their promises: a reason on every refusal;
// elements in document order with parents before children and depth within the limit; an
// accepted SSDP LOCATION and a resolved controlURL that print as URLs that parse again to
// the same place; a chosen service type that is safe to put in a header.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nat/parse/upnp_message.hpp"
#include "nat/parse/upnp_xml.hpp"

using namespace pw::nat;

namespace {

void check_url(const HttpUrl& u) {
    std::string why;
    auto again = parse_http_url(u.to_string(), why);
    if (!again || again->host != u.host || again->port != u.port || again->path != u.path) __builtin_trap();
    if (u.path.empty() || u.path[0] != '/') __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    XmlScan x = scan_xml(in);
    if (!x.ok && (x.error.empty() || !x.elements.empty())) __builtin_trap();
    for (std::size_t i = 0; x.ok && i < x.elements.size(); ++i) {
        const XmlElement& e = x.elements[i];
        if (e.depth >= max_xml_depth || e.name.empty()) __builtin_trap();
        if ((i == 0) != (e.parent == -1)) __builtin_trap();
        if (i > 0 && (e.parent < 0 || static_cast<std::size_t>(e.parent) >= i ||
                      x.elements[e.parent].depth + 1 != e.depth))
            __builtin_trap();
    }

    SsdpResponse s = parse_ssdp_response(in);
    if (!s.ok && s.error.empty()) __builtin_trap();
    if (s.ok) check_url(s.location_url);

    std::string why;
    HttpUrl base;
    base.host = "127.0.0.1";
    base.path = "/dir/desc.xml";
    IgdDescription d = parse_description(in, base);
    if (!d.ok && d.error.empty()) __builtin_trap();
    if (d.ok) {
        check_url(d.control_url);
        for (char c : d.service_type)
            if (c == '\r' || c == '\n' || c == '"' || c == ' ') __builtin_trap();
    }

    SoapResponse r = parse_soap_response(size % 2 ? 200 : 500, in, "AddPortMapping");
    if (!r.ok && r.error.empty()) __builtin_trap();
    if (r.upnp_error < 0 || r.upnp_error > 9999 || (r.ok && r.upnp_error)) __builtin_trap();

    auto u = parse_http_url(in, why);
    if (u) check_url(*u);
    else if (why.empty()) __builtin_trap();
    why.clear();
    auto ref = resolve_url(base, in, why);
    if (ref) check_url(*ref);
    else if (why.empty()) __builtin_trap();

    if (auto a = parse_ipv4(in)) {
        std::string back = std::to_string((*a)[0]) + "." + std::to_string((*a)[1]) + "." +
                           std::to_string((*a)[2]) + "." + std::to_string((*a)[3]);
        if (back != in) __builtin_trap();
    }
    return 0;
}
