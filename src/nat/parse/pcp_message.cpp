// Port Control Protocol (RFC 6887) MAP message codec; see pcp_message.hpp for the formats
// and rules.
#include "nat/parse/pcp_message.hpp"

#include <algorithm>

#include "net/byte_order.hpp"

namespace pw::nat::pcp {

namespace {

constexpr std::uint8_t response_bit = 0x80;

template <std::size_t N>
void put_bytes(std::string& out, const std::array<std::uint8_t, N>& a) {
    for (std::uint8_t b : a) out.push_back(static_cast<char>(b));
}

std::uint8_t get8(std::string_view d, std::size_t at) {
    return static_cast<std::uint8_t>(d[at]);
}

template <std::size_t N>
std::array<std::uint8_t, N> get_bytes(std::string_view d, std::size_t at) {
    std::array<std::uint8_t, N> a{};
    for (std::size_t i = 0; i < N; ++i) a[i] = get8(d, at + i);
    return a;
}

// The MAP payload at `at` (map_payload_size bytes).
void put_map(std::string& out, const Nonce& nonce, std::uint8_t protocol, std::uint16_t internal_port,
             std::uint16_t external_port, const Address& external_address) {
    put_bytes(out, nonce);
    out.push_back(static_cast<char>(protocol));
    out.append(3, '\0');
    net::put_be16(out, internal_port);
    net::put_be16(out, external_port);
    put_bytes(out, external_address);
}

// Options from `at` to the end: their count, or an error.
bool skip_options(std::string_view d, std::size_t at, std::size_t& count, std::string& error) {
    count = 0;
    while (at < d.size()) {
        if (d.size() - at < 4) {
            error = "a truncated PCP option header";
            return false;
        }
        if (++count > max_options) {
            error = "more than " + std::to_string(max_options) + " PCP options";
            return false;
        }
        std::size_t length = net::get_be16(d, at + 2);
        std::size_t padded = (length + 3) / 4 * 4;
        at += 4;
        if (padded > d.size() - at) {
            error = "a PCP option of " + std::to_string(length) + " bytes runs past the message";
            return false;
        }
        at += padded;
    }
    return true;
}

// The size rules of section 8.3, for requests and responses alike.
bool size_ok(std::string_view d, std::string& error) {
    if (d.size() < header_size) {
        error = "a PCP message of " + std::to_string(d.size()) + " bytes (at least 24)";
        return false;
    }
    if (d.size() > max_message_size) {
        error = "a PCP message of more than " + std::to_string(max_message_size) + " bytes";
        return false;
    }
    if (d.size() % 4 != 0) {
        error = "a PCP message of " + std::to_string(d.size()) + " bytes (not a multiple of 4)";
        return false;
    }
    if (get8(d, 0) != version) {
        error = "PCP version " + std::to_string(get8(d, 0)) + " (expected 2)";
        return false;
    }
    return true;
}

}  // namespace

std::string result_message(std::uint8_t code) {
    switch (static_cast<ResultCode>(code)) {
        case ResultCode::success: return "success";
        case ResultCode::unsupp_version: return "the gateway does not support PCP version 2";
        case ResultCode::not_authorized:
            return "the gateway refused (not authorized; port mapping may be switched off on it)";
        case ResultCode::malformed_request: return "the gateway found the request malformed";
        case ResultCode::unsupp_opcode: return "the gateway does not support MAP requests";
        case ResultCode::unsupp_option: return "the gateway does not support an option of the request";
        case ResultCode::malformed_option: return "the gateway found an option of the request malformed";
        case ResultCode::network_failure:
            return "the gateway reports a network failure (it may have no external address yet)";
        case ResultCode::no_resources: return "the gateway is out of resources (no more mappings)";
        case ResultCode::unsupp_protocol: return "the gateway does not map this protocol";
        case ResultCode::user_ex_quota: return "the gateway's mapping quota for this host is used up";
        case ResultCode::cannot_provide_external:
            return "the gateway cannot provide the suggested external address or port";
        case ResultCode::address_mismatch:
            return "the gateway saw another source address than the request names (a NAT between)";
        case ResultCode::excessive_remote_peers: return "the gateway refused (too many remote peers)";
    }
    return "PCP result code " + std::to_string(code) + " (unknown)";
}

std::uint8_t protocol_number(MapProtocol p) {
    return p == MapProtocol::udp ? 17 : 6;
}

Address v4_mapped(const std::array<std::uint8_t, 4>& v4) {
    Address a{};
    a[10] = a[11] = 0xff;
    std::copy(v4.begin(), v4.end(), a.begin() + 12);
    return a;
}

bool is_v4_mapped(const Address& a) {
    return std::all_of(a.begin(), a.begin() + 10, [](std::uint8_t b) { return b == 0; }) && a[10] == 0xff &&
           a[11] == 0xff;
}

std::string encode_map_request(const MapRequest& r) {
    std::string out;
    out.reserve(map_message_size);
    out.push_back(static_cast<char>(version));
    out.push_back(static_cast<char>(opcode_map));
    out.append(2, '\0');
    net::put_be32(out, r.lifetime);
    put_bytes(out, r.client_address);
    put_map(out, r.nonce, r.protocol, r.internal_port, r.suggested_external_port, r.suggested_external_address);
    return out;
}

DecodeResult decode_response(std::string_view d) {
    DecodeResult out;
    if (!size_ok(d, out.error)) return out;
    const std::uint8_t op = get8(d, 1);
    if (!(op & response_bit)) {
        out.error = "a PCP request, not a response (R bit clear)";
        return out;
    }
    Response& r = out.response;
    r.opcode = op & 0x7f;
    r.result = get8(d, 3);
    r.lifetime = net::get_be32(d, 4);
    r.epoch = net::get_be32(d, 8);
    std::size_t at = header_size;
    if (r.opcode == opcode_map && d.size() >= map_message_size) {
        r.has_map = true;
        r.nonce = get_bytes<12>(d, at);
        r.protocol = get8(d, at + 12);
        r.internal_port = net::get_be16(d, at + 16);
        r.external_port = net::get_be16(d, at + 18);
        r.external_address = get_bytes<16>(d, at + 20);
        at = map_message_size;
    } else if (r.opcode == opcode_map && r.result == 0) {
        out.error = "a successful PCP MAP response of " + std::to_string(d.size()) + " bytes (at least 60)";
        return out;
    } else if (r.opcode == opcode_map) {
        at = d.size();  // an error response without the payload (section 7.2)
    }
    if (!skip_options(d, at, r.options, out.error)) return out;
    out.ok = true;
    return out;
}

RequestDecodeResult decode_map_request(std::string_view d) {
    RequestDecodeResult out;
    if (!size_ok(d, out.error)) return out;
    if (get8(d, 1) != opcode_map) {
        out.error = "PCP opcode byte " + std::to_string(get8(d, 1)) + " (expected a MAP request, 1)";
        return out;
    }
    if (d.size() < map_message_size) {
        out.error = "a PCP MAP request of " + std::to_string(d.size()) + " bytes (at least 60)";
        return out;
    }
    MapRequest& r = out.request;
    r.lifetime = net::get_be32(d, 4);
    r.client_address = get_bytes<16>(d, 8);
    r.nonce = get_bytes<12>(d, header_size);
    r.protocol = get8(d, header_size + 12);
    r.internal_port = net::get_be16(d, header_size + 16);
    r.suggested_external_port = net::get_be16(d, header_size + 18);
    r.suggested_external_address = get_bytes<16>(d, header_size + 20);
    std::size_t options = 0;
    if (!skip_options(d, map_message_size, options, out.error)) return out;
    out.ok = true;
    return out;
}

std::string encode_response(const Response& r) {
    std::string out;
    out.reserve(map_message_size);
    out.push_back(static_cast<char>(version));
    out.push_back(static_cast<char>(response_bit | (r.opcode & 0x7f)));
    out.push_back('\0');
    out.push_back(static_cast<char>(r.result));
    net::put_be32(out, r.lifetime);
    net::put_be32(out, r.epoch);
    out.append(12, '\0');
    if (r.has_map) put_map(out, r.nonce, r.protocol, r.internal_port, r.external_port, r.external_address);
    return out;
}

}  // namespace pw::nat::pcp
