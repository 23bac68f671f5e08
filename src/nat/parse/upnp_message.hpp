// UPnP Internet Gateway Device messages (UPnP Device Architecture 1.1; IGD:1/IGD:2,
// WANIPConnection:1/2 and WANPPPConnection:1 service templates): the SSDP M-SEARCH and
// its response (UDA section 1.3), the device description (section 2.3: which WAN
// connection service to control and its controlURL), and the SOAP control requests and
// responses (section 3.2: AddPortMapping, DeletePortMapping, GetExternalIPAddress, and the
// UPnPError fault). Pure: text in, values out. No sockets.
//
// Contract:
// - URLs: only absolute http:// URLs with a host (IPv4 literal or name, or a bracketed IPv6
//   literal) and an optional port are accepted; the path keeps its query. resolve_url()
//   resolves a reference (absolute http URL, absolute path, or relative path) against a base.
// - parse_ssdp_response() takes one datagram (at most max_ssdp_size bytes): an "HTTP/1.x 200"
//   status line and header lines; header names are case-insensitive; LOCATION is required
//   and must be a usable URL.
// - parse_description() scans the XML with scan_xml() (bounded, no entities) and picks a
//   WANIPConnection:2, else WANIPConnection:1, else WANPPPConnection:1 service that has a
//   controlURL, resolved against URLBase when the document has one, else against the URL
//   the description came from.
// - parse_soap_response() reads a response to `action`: on HTTP 200 the children of
//   <actionResponse>; on any status a <UPnPError> with errorCode (0..9999) and
//   errorDescription; anything else is an error with a reason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nat/parse/natpmp_message.hpp"  // MapProtocol

namespace pw::nat {

inline constexpr std::size_t max_ssdp_size = 4096;
inline constexpr std::uint16_t ssdp_port = 1900;
inline constexpr const char* ssdp_multicast_address = "239.255.255.250";

// The search targets tried, in order (UDA section 1.3.2).
inline constexpr std::array<const char*, 4> igd_search_targets = {
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
};

// UPnP errors of AddPortMapping (WANIPConnection:2 section 2.4.16).
inline constexpr int upnp_conflict_in_entry = 718;
inline constexpr int upnp_only_permanent_leases = 725;

struct HttpUrl {
    std::string host;  // without brackets
    std::uint16_t port = 80;
    std::string path;  // starts with '/'; query kept
    bool ipv6 = false;

    std::string host_header() const;  // "host[:port]", bracketed for IPv6
    std::string to_string() const;    // "http://host[:port]/path"
};

// nullopt + `error` when `url` is not an absolute http:// URL this client can use.
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string& error);
// `ref` resolved against `base` (RFC 3986 section 5.2 for the forms UPnP devices use).
std::optional<HttpUrl> resolve_url(const HttpUrl& base, std::string_view ref, std::string& error);

// The M-SEARCH request for `search_target` (MX seconds of response spread).
std::string encode_msearch(std::string_view search_target, int mx);

struct SsdpResponse {
    bool ok = false;
    std::string error;
    std::string location;  // as sent
    HttpUrl location_url;
    std::string st;
    std::string usn;
};
SsdpResponse parse_ssdp_response(std::string_view datagram);

struct IgdDescription {
    bool ok = false;
    std::string error;
    std::string service_type;  // e.g. "urn:schemas-upnp-org:service:WANIPConnection:1"
    HttpUrl control_url;
    std::string friendly_name;  // of the root device, may be empty
};
IgdDescription parse_description(std::string_view xml, const HttpUrl& location);

// A SOAP request: the body and the SOAPAction header value for `action` of `service_type`,
// with `args` in order (values are escaped).
struct SoapRequest {
    std::string soap_action;  // "\"<service_type>#<action>\""
    std::string body;
};
SoapRequest encode_soap_request(std::string_view service_type, std::string_view action,
                                const std::vector<std::pair<std::string, std::string>>& args);

SoapRequest encode_add_port_mapping(std::string_view service_type, MapProtocol p, std::uint16_t external_port,
                                    std::uint16_t internal_port, std::string_view internal_client,
                                    std::uint32_t lease, std::string_view description);
SoapRequest encode_delete_port_mapping(std::string_view service_type, MapProtocol p, std::uint16_t external_port);
SoapRequest encode_get_external_ip(std::string_view service_type);

struct SoapResponse {
    bool ok = false;        // a well-formed <actionResponse> with HTTP 200
    int upnp_error = 0;     // a UPnPError's errorCode when the device sent one
    std::string error;      // when !ok: the UPnP error's description or what was wrong
    std::vector<std::pair<std::string, std::string>> values;  // the response's arguments

    const std::string* value(std::string_view name) const;
};
SoapResponse parse_soap_response(unsigned http_status, std::string_view body, std::string_view action);

// A dotted-quad IPv4 address, strictly (four decimal parts 0..255, no leading zeros).
std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view s);

}  // namespace pw::nat
