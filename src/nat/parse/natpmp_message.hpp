// NAT Port Mapping Protocol messages (RFC 6886): the client's requests and the gateway's
// responses, as UDP payloads. Pure: bytes in, values out, and back. No sockets.
//
//   external address request (2 bytes):  version 0 | opcode 0
//   map request (12 bytes):               version 0 | opcode 1 (UDP) or 2 (TCP) | reserved (2)
//                                         | internal port (2) | suggested external port (2)
//                                         | requested lifetime in seconds (4)
//   response header (8 bytes):            version 0 | opcode 128 + request opcode
//                                         | result code (2) | seconds since start of epoch (4)
//   external address response (12 bytes): header | external IPv4 address (4)
//   map response (16 bytes):              header | internal port (2) | mapped external port (2)
//                                         | lifetime in seconds (4)
// All integers are big-endian.
//
// Decoding is strict: the version must be 0, the opcode a response opcode (128..130), and a
// successful response exactly its length (12 or 16 bytes). A response with a non-zero result
// code needs only the 8-byte header (RFC 6886 section 3.5: an "unsupported version" reply is
// the header alone, an "unsupported opcode" reply echoes the request): what follows the
// header is ignored then, since its fields are undefined. Anything longer than
// max_datagram_size is refused outright.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pw::nat {

inline constexpr std::uint16_t natpmp_server_port = 5351;  // the gateway listens here
inline constexpr std::size_t max_datagram_size = 1100;    // no NAT-PMP message comes near

enum class MapProtocol : std::uint8_t { udp = 1, tcp = 2 };  // the map opcodes

std::string_view protocol_name(MapProtocol p);  // "UDP" / "TCP"

// Result codes (RFC 6886 section 3.5).
enum class ResultCode : std::uint16_t {
    success = 0,
    unsupported_version = 1,
    not_authorized = 2,  // "Not Authorized/Refused": e.g. mapping switched off by the user
    network_failure = 3,  // e.g. the gateway has no external address yet
    out_of_resources = 4,
    unsupported_opcode = 5,
};

// A readable sentence for any result code, known or not ("result code 42 (unknown)").
std::string result_message(std::uint16_t code);

std::string encode_external_address_request();
// lifetime 0 with suggested_external_port 0 deletes the mapping of internal_port.
std::string encode_map_request(MapProtocol p, std::uint16_t internal_port,
                               std::uint16_t suggested_external_port, std::uint32_t lifetime);

struct Response {
    enum class Kind { external_address, map_udp, map_tcp } kind{};
    std::uint16_t result = 0;  // ResultCode value; the fields below are zero unless 0
    std::uint32_t epoch = 0;   // seconds since start of epoch
    std::array<std::uint8_t, 4> external_address{};  // external_address responses
    std::uint16_t internal_port = 0;                  // map responses
    std::uint16_t external_port = 0;
    std::uint32_t lifetime = 0;
};

struct DecodeResult {
    bool ok = false;
    std::string error;  // why the datagram was refused, when !ok
    Response response;
};

DecodeResult decode_response(std::string_view datagram);

// Encoders for the gateway side (tests and the fuzz target build responses with them).
// A non-zero result writes the header only when `header_only`, else the full length with
// zero fields.
std::string encode_response(const Response& r, bool header_only = false);

}  // namespace pw::nat
