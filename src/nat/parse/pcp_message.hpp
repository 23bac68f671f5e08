// Port Control Protocol messages (RFC 6887), the MAP opcode's: the client's requests and
// the gateway's responses, as UDP payloads (the gateway's port is NAT-PMP's, 5351). Pure:
// bytes in, values out, and back. No sockets. All integers are big-endian; addresses are
// 16 bytes, an IPv4 address in its IPv4-mapped IPv6 form (::ffff:a.b.c.d, section 5).
//
//   request header (24 bytes, section 7.1):  version 2 | R=0, opcode (7 bits) | reserved (2)
//                                             | requested lifetime (4) | client's IP address (16)
//   response header (24 bytes, section 7.2): version 2 | R=1, opcode | reserved (1)
//                                             | result code (1) | lifetime (4) | epoch time (4)
//                                             | reserved (12)
//   MAP payload (36 bytes, section 11.1):    mapping nonce (12) | protocol (1) | reserved (3)
//                                             | internal port (2) | suggested (request) or
//                                             assigned (response) external port (2) and
//                                             IP address (16)
//   options (section 7.3), after the payload: code (1) | reserved (1) | length (2)
//                                             | data, padded to a multiple of 4 bytes
//
// Decoding is strict (section 8.3): a response is 24 to 1100 bytes and a multiple of 4,
// version 2 with the R bit set. A MAP response with result SUCCESS carries the whole
// payload; an error response may stop after the header (a server that cannot read the
// request, e.g. UNSUPP_VERSION, has nothing to echo), and its payload is decoded when
// present. The options after the payload must fill the rest exactly (each one's length
// within the message, at most max_options of them); they are counted and otherwise
// skipped, since the client asks for none. decode_map_request is the same for requests
// (the test gateways read them with it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nat/parse/natpmp_message.hpp"

namespace pw::nat::pcp {

inline constexpr std::uint8_t version = 2;
inline constexpr std::uint8_t opcode_map = 1;
inline constexpr std::size_t header_size = 24;
inline constexpr std::size_t map_payload_size = 36;
inline constexpr std::size_t map_message_size = header_size + map_payload_size;  // 60
inline constexpr std::size_t max_message_size = 1100;
inline constexpr std::size_t max_options = (max_message_size - map_message_size) / 4;

using Nonce = std::array<std::uint8_t, 12>;
using Address = std::array<std::uint8_t, 16>;

// Result codes (section 7.4).
enum class ResultCode : std::uint8_t {
    success = 0,
    unsupp_version = 1,
    not_authorized = 2,
    malformed_request = 3,
    unsupp_opcode = 4,
    unsupp_option = 5,
    malformed_option = 6,
    network_failure = 7,
    no_resources = 8,
    unsupp_protocol = 9,
    user_ex_quota = 10,
    cannot_provide_external = 11,
    address_mismatch = 12,
    excessive_remote_peers = 13,
};

// A readable sentence for any result code, known or not ("PCP result code 42 (unknown)").
std::string result_message(std::uint8_t code);

// IANA protocol numbers: TCP 6, UDP 17.
std::uint8_t protocol_number(MapProtocol p);

// ::ffff:a.b.c.d for a.b.c.d.
Address v4_mapped(const std::array<std::uint8_t, 4>& v4);
bool is_v4_mapped(const Address& a);

struct MapRequest {
    std::uint32_t lifetime = 0;  // 0 deletes the mapping of this nonce (section 15)
    Address client_address{};    // the request's source address
    Nonce nonce{};
    std::uint8_t protocol = 0;  // protocol_number()
    std::uint16_t internal_port = 0;
    std::uint16_t suggested_external_port = 0;
    Address suggested_external_address{};  // ::ffff:0.0.0.0: any IPv4 address
};

std::string encode_map_request(const MapRequest& r);

struct Response {
    std::uint8_t opcode = 0;  // without the R bit
    std::uint8_t result = 0;  // ResultCode value
    std::uint32_t lifetime = 0;
    std::uint32_t epoch = 0;
    bool has_map = false;  // the MAP payload is present (always when result is SUCCESS)
    Nonce nonce{};
    std::uint8_t protocol = 0;
    std::uint16_t internal_port = 0;
    std::uint16_t external_port = 0;  // assigned
    Address external_address{};       // assigned
    std::size_t options = 0;          // skipped options
};

struct DecodeResult {
    bool ok = false;
    std::string error;  // why the datagram was refused, when !ok
    Response response;
};

DecodeResult decode_response(std::string_view datagram);

struct RequestDecodeResult {
    bool ok = false;
    std::string error;
    MapRequest request;
};

// A MAP request (version 2, R bit clear, opcode MAP, 60 bytes plus whole options).
RequestDecodeResult decode_map_request(std::string_view datagram);

// The gateway's side (test gateways and the fuzz target): the header, then the MAP payload
// when `has_map`, then no options.
std::string encode_response(const Response& r);

}  // namespace pw::nat::pcp
