// uTP packet codec (BEP 29): the 20-byte header, the extension chain and the selective
// ACK extension. Pure: no I/O, no state.
//
// Contract: decode() accepts any bytes and either refuses them (nullopt) or returns a
// packet whose views point into the input. Everything the peer controls is bounded: the
// version must be 1, the type one of the five, the extension chain must fit the datagram,
// and a selective ACK bitmask longer than max_sack_bytes is refused. Unknown extensions
// are skipped. encode() writes a header (with an optional selective ACK) and a payload.
//
// Besides BEP 29's selective ACK (extension 1), the codec knows one extension of
// Piecewise's own, ext_max_datagram: 2 bytes, big-endian, the largest datagram the
// sender accepts. BEP 29 makes every extension skippable by its length, so other
// implementations ignore it; Piecewise sends it on SYNs and on the STATE that answers a
// SYN, and probes packets larger than the default size only towards a peer that sent it.
// Decoding takes the first such extension of exactly 2 bytes and skips any other.
// It never comes first in the chain: libutp (Transmission 3.00 and other clients of
// BitTorrent's libutp) takes a packet whose first extension type is 3 or more for a
// version-0 packet and drops it, so a SYN starting with it is never answered. Encoding
// puts it after the selective ACK, or after BEP 29's extension bits (extension 2, 8
// zero bytes) when there is no selective ACK.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pw::utp {

enum class Type : std::uint8_t { data = 0, fin = 1, state = 2, reset = 3, syn = 4 };

constexpr std::size_t header_size = 20;
// A selective ACK covers at most this many bytes (8 packets per byte). BEP 29 asks for a
// multiple of 4; we accept any length up to this bound and send 4..max_sack_bytes.
constexpr std::size_t max_sack_bytes = 128;
constexpr std::uint8_t ext_sack = 1;
constexpr std::uint8_t ext_bits = 2;  // BEP 29's extension bits: 8 bytes, sent as zeros
constexpr std::size_t ext_bits_size = 8;
constexpr std::uint8_t ext_max_datagram = 0x50;

struct Header {
    Type type = Type::data;
    std::uint16_t conn_id = 0;
    std::uint32_t timestamp_us = 0;
    std::uint32_t timestamp_diff_us = 0;
    std::uint32_t wnd_size = 0;
    std::uint16_t seq_nr = 0;
    std::uint16_t ack_nr = 0;
};

struct Packet {
    Header h;
    std::string_view sack;     // the selective ACK bitmask, empty when absent
    std::string_view payload;  // the bytes after the header and extensions
    std::uint16_t max_datagram = 0;  // ext_max_datagram; 0 when absent
};

// True when the first byte has version 1 and a known type: the datagram is meant as
// uTP (KRPC messages start with 'd', 0x64, whose low nibble is 4 but high nibble 6).
bool looks_like_utp(std::string_view datagram);

std::optional<Packet> decode(std::string_view datagram);

// Appends the encoded packet to `out`. `sack` (when not empty) must be 4..max_sack_bytes
// long, a multiple of 4. A non-zero `max_datagram` adds the ext_max_datagram extension.
void encode(std::string& out, const Header& h, std::string_view sack, std::string_view payload,
            std::uint16_t max_datagram = 0);

// Sequence numbers are 16-bit and wrap: a is before b when b - a (mod 2^16) is in 1..32767.
inline bool seq_less(std::uint16_t a, std::uint16_t b) {
    return a != b && static_cast<std::uint16_t>(b - a) < 0x8000;
}

}  // namespace pw::utp
