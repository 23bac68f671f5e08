// SOCKS version 5 codec (RFC 1928) with username/password authentication (RFC 1929).
//
// Pure: bytes in, values out, no I/O. Covers both sides so that the client (src/proxy)
// and the test server share one codec: method negotiation, the username/password
// sub-negotiation, CONNECT and UDP ASSOCIATE requests and their replies with IPv4, IPv6
// and domain-name addresses, and the header of UDP datagrams sent through a relay.
//
// Contract: every decoder reads only the bytes it is given, checks every length before
// using it, and reports a reason instead of throwing. Messages whose size depends on
// their content (requests and replies with a domain name, auth requests) are read in
// two steps: `*_size(prefix)` says how many bytes the whole message needs (0: not known
// yet, read more; or an error), then the decoder takes exactly that many.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace pw::proxy::socks5 {

inline constexpr std::uint8_t version = 5;
inline constexpr std::uint8_t auth_version = 1;  // RFC 1929 sub-negotiation version

enum class Method : std::uint8_t { none = 0x00, user_pass = 0x02, unacceptable = 0xff };
enum class Command : std::uint8_t { connect = 1, bind = 2, udp_associate = 3 };

// RFC 1928 section 6 reply codes.
enum class ReplyCode : std::uint8_t {
    succeeded = 0,
    general_failure = 1,
    not_allowed = 2,
    network_unreachable = 3,
    host_unreachable = 4,
    connection_refused = 5,
    ttl_expired = 6,
    command_not_supported = 7,
    address_type_not_supported = 8,
};

// A SOCKS address: IPv4 (ATYP 1), a domain name of 1..255 bytes (ATYP 3) or IPv6 (ATYP 4),
// and a port.
struct Address {
    enum class Type : std::uint8_t { ipv4 = 1, domain = 3, ipv6 = 4 };
    Type type = Type::ipv4;
    std::array<std::uint8_t, 16> ip{};  // ipv4: the first 4 bytes
    std::string domain;
    std::uint16_t port = 0;

    static Address v4(std::array<std::uint8_t, 4> a, std::uint16_t port);
    static Address v6(std::array<std::uint8_t, 16> a, std::uint16_t port);
    static Address name(std::string host, std::uint16_t port);
    // "1.2.3.4", "::1" or the domain name (no port).
    std::string host_text() const;
    bool operator==(const Address&) const = default;
};

// Why a message could not be encoded or decoded; empty when it could.
struct Error {
    std::string reason;
};

// --- method negotiation (RFC 1928 section 3) ---
// Client greeting offering "no authentication", plus username/password when `with_auth`.
std::string encode_greeting(bool with_auth);
// Server side: the methods offered. Size: 2 + NMETHODS.
std::size_t greeting_size(std::string_view prefix);                      // 0: need more
std::variant<std::string, Error> decode_greeting(std::string_view msg);  // the method bytes
std::string encode_method_selection(Method m);
// Client side: the 2-byte selection.
std::variant<Method, Error> decode_method_selection(std::string_view msg);

// --- username/password (RFC 1929) ---
// Both must be 1..255 bytes.
std::variant<std::string, Error> encode_auth_request(std::string_view user, std::string_view pass);
std::variant<std::size_t, Error> auth_request_size(std::string_view prefix);  // 0: need more
struct Credentials {
    std::string user, pass;
};
std::variant<Credentials, Error> decode_auth_request(std::string_view msg);
std::string encode_auth_reply(bool ok);
// true: accepted (STATUS 0); false: refused.
std::variant<bool, Error> decode_auth_reply(std::string_view msg);

// --- requests and replies (RFC 1928 sections 4-6) ---
std::variant<std::string, Error> encode_request(Command cmd, const Address& dst);
// The size of a request or a reply (same layout) whose first bytes are `prefix`:
// 0 when more bytes are needed to know it (at most 5 are), or an error.
std::variant<std::size_t, Error> message_size(std::string_view prefix);
struct Request {
    std::uint8_t command = 0;  // raw CMD byte; the server answers unknown ones with code 7
    Address dst;
};
std::variant<Request, Error> decode_request(std::string_view msg);
std::string encode_reply(ReplyCode code, const Address& bound);
struct Reply {
    std::uint8_t code = 0;  // raw REP byte
    Address bound;
};
std::variant<Reply, Error> decode_reply(std::string_view msg);
// "proxy: connection refused by destination", ... for a REP byte.
std::string reply_message(std::uint8_t code);

// --- UDP relay datagrams (RFC 1928 section 7) ---
// The header (RSV, FRAG = 0, address) followed by `payload`.
std::variant<std::string, Error> encode_udp(const Address& peer, std::string_view payload);
struct UdpDatagram {
    Address peer;
    std::string_view payload;  // points into the decoded buffer
};
// Fragments (FRAG != 0) are refused: this implementation does not reassemble, which
// RFC 1928 allows ("an implementation that does not support fragmentation MUST drop any
// datagram whose FRAG field is other than X'00'").
std::variant<UdpDatagram, Error> decode_udp(std::string_view datagram);

}  // namespace pw::proxy::socks5
