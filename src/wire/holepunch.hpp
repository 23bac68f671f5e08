// The ut_holepunch extension message (BEP 55), carried over BEP 10. Pure: payload bytes in,
// a message out, and back.
//
// Payload: msg_type (1 byte: 0 rendezvous, 1 connect, 2 error), addr_type (1 byte: 0 IPv4,
// 1 IPv6), the address (4 or 16 bytes, big-endian), port (2 bytes), err_code (4 bytes, 0
// outside error messages); all integers big-endian.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::wire {

struct HolepunchMsg {
    enum Type : std::uint8_t { rendezvous = 0, connect = 1, error = 2 };
    // err_code values (BEP 55); an error message may carry any other value too.
    enum Error : std::uint32_t {
        no_error = 0,
        no_such_peer = 1,   // the target endpoint is invalid
        not_connected = 2,  // the relay is not connected to the target
        no_support = 3,     // the target does not support ut_holepunch
        no_self = 4,        // the target is the relay itself
    };
    Type type = rendezvous;
    bool v6 = false;
    std::array<std::uint8_t, 16> addr{};  // IPv4 in the first 4 bytes when !v6
    std::uint16_t port = 0;
    std::uint32_t error_code = no_error;
    bool operator==(const HolepunchMsg&) const = default;
};

constexpr std::size_t holepunch_size_v4 = 12;
constexpr std::size_t holepunch_size_v6 = 24;

// nullopt when the message type or address type is unknown or the payload is shorter
// than its address type needs. BEP 55 has every message end in err_code, but libtorrent
// (2.0 and earlier) ends rendezvous and connect after the port: those two are read
// without it (err_code 0); an error message needs it. Bytes after the message are
// ignored (a later version may append fields). Encoding always writes err_code.
std::optional<HolepunchMsg> decode_holepunch(std::string_view payload);
std::string encode_holepunch(const HolepunchMsg& m);
// The name of an err_code ("NoSuchPeer" ...), "error <n>" for others.
std::string holepunch_error_name(std::uint32_t code);

}  // namespace pw::wire
