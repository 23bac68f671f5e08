// NAT-PMP (RFC 6886) message codec; see natpmp_message.hpp for the formats and rules.
#include "nat/parse/natpmp_message.hpp"

#include "net/byte_order.hpp"

namespace pw::nat {

namespace {

constexpr std::size_t header_size = 8;
constexpr std::size_t external_address_size = 12;
constexpr std::size_t map_response_size = 16;

std::uint8_t opcode_of(Response::Kind k) {
    switch (k) {
        case Response::Kind::external_address: return 0;
        case Response::Kind::map_udp: return 1;
        case Response::Kind::map_tcp: return 2;
    }
    return 0;
}

}  // namespace

std::string_view protocol_name(MapProtocol p) {
    return p == MapProtocol::udp ? "UDP" : "TCP";
}

std::string result_message(std::uint16_t code) {
    switch (static_cast<ResultCode>(code)) {
        case ResultCode::success: return "success";
        case ResultCode::unsupported_version: return "the gateway does not support NAT-PMP version 0";
        case ResultCode::not_authorized:
            return "the gateway refused (not authorized; port mapping may be switched off on it)";
        case ResultCode::network_failure:
            return "the gateway reports a network failure (it may have no external address yet)";
        case ResultCode::out_of_resources:
            return "the gateway is out of resources (no more mappings)";
        case ResultCode::unsupported_opcode: return "the gateway does not support this request";
    }
    return "result code " + std::to_string(code) + " (unknown)";
}

std::string encode_external_address_request() {
    return std::string(2, '\0');
}

std::string encode_map_request(MapProtocol p, std::uint16_t internal_port,
                               std::uint16_t suggested_external_port, std::uint32_t lifetime) {
    std::string out;
    out.push_back('\0');
    out.push_back(static_cast<char>(p));
    net::put_be16(out, 0);  // reserved
    net::put_be16(out, internal_port);
    net::put_be16(out, suggested_external_port);
    net::put_be32(out, lifetime);
    return out;
}

DecodeResult decode_response(std::string_view d) {
    DecodeResult r;
    if (d.size() > max_datagram_size) {
        r.error = "datagram of " + std::to_string(d.size()) + " bytes is too long for NAT-PMP";
        return r;
    }
    if (d.size() < header_size) {
        r.error = "response of " + std::to_string(d.size()) + " bytes is shorter than its 8-byte header";
        return r;
    }
    const auto version = static_cast<std::uint8_t>(d[0]);
    const auto opcode = static_cast<std::uint8_t>(d[1]);
    if (version != 0) {
        r.error = "version " + std::to_string(version) + " is not NAT-PMP (version 0)";
        return r;
    }
    if (opcode < 128 || opcode > 130) {
        r.error = "opcode " + std::to_string(opcode) + " is not a NAT-PMP response";
        return r;
    }
    Response& out = r.response;
    out.kind = opcode == 128   ? Response::Kind::external_address
               : opcode == 129 ? Response::Kind::map_udp
                               : Response::Kind::map_tcp;
    out.result = net::get_be16(d, 2);
    out.epoch = net::get_be32(d, 4);
    if (out.result != 0) {
        r.ok = true;  // the rest, if any, is undefined (RFC 6886 section 3.5)
        return r;
    }
    const std::size_t want = opcode == 128 ? external_address_size : map_response_size;
    if (d.size() != want) {
        r.error = std::string(opcode == 128 ? "external address" : "mapping") + " response of " +
                  std::to_string(d.size()) + " bytes (expected " + std::to_string(want) + ")";
        return r;
    }
    if (opcode == 128) {
        for (std::size_t i = 0; i < 4; ++i) out.external_address[i] = static_cast<std::uint8_t>(d[8 + i]);
    } else {
        out.internal_port = net::get_be16(d, 8);
        out.external_port = net::get_be16(d, 10);
        out.lifetime = net::get_be32(d, 12);
    }
    r.ok = true;
    return r;
}

std::string encode_response(const Response& r, bool header_only) {
    std::string out;
    out.push_back('\0');
    out.push_back(static_cast<char>(128 + opcode_of(r.kind)));
    net::put_be16(out, r.result);
    net::put_be32(out, r.epoch);
    if (r.result != 0 && header_only) return out;
    if (r.kind == Response::Kind::external_address) {
        for (std::uint8_t b : r.external_address) out.push_back(static_cast<char>(b));
    } else {
        net::put_be16(out, r.internal_port);
        net::put_be16(out, r.external_port);
        net::put_be32(out, r.lifetime);
    }
    return out;
}

}  // namespace pw::nat
