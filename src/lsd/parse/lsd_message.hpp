// Local Service Discovery announces (BEP 14): the HTTP-over-UDP "BT-SEARCH" message that
// tells the local network which swarms a client takes part in and on which port it listens.
// Pure: bytes in, an Announce out, and back. No sockets.
//
//   BT-SEARCH * HTTP/1.1\r\n
//   Host: 239.192.152.143:6771\r\n
//   Port: 6881\r\n
//   Infohash: <40 hex digits>\r\n      (one or more, BEP 14 allows several)
//   cookie: <opaque>\r\n               (optional; lets a client drop its own looped-back announces)
//   \r\n
//   \r\n
//
// Decoding is strict about what it uses and tolerant of the rest: header names are
// case-insensitive, lines may end in "\r\n" or "\n" (a CR elsewhere is refused), values
// lose surrounding spaces and tabs, unknown headers are ignored (of a repeated Host or
// cookie the first counts, a repeated Port is refused), and an
// Infohash header whose value is not 40 hex digits is skipped (counted in
// `ignored_info_hashes`) so a future hash format does not hide the valid ones. The request
// line must be "BT-SEARCH * HTTP/1.x"; exactly one Port header in 1..65535 and at least one
// valid Infohash are required. A message longer than max_message_size, with more than
// max_header_lines lines or more than max_info_hashes Infohash headers is refused, so
// hostile input costs bounded time and memory. Everything after the blank line ending the
// headers is ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::lsd {

inline constexpr std::size_t max_message_size = 4096;  // bytes accepted by decode_announce
inline constexpr std::size_t max_header_lines = 100;   // lines before the blank line
inline constexpr std::size_t max_info_hashes = 64;     // Infohash headers in one message
// BEP 14: "the packet length should not exceed 1400 bytes to avoid MTU/fragmentation problems".
inline constexpr std::size_t recommended_packet_size = 1400;

struct Announce {
    std::string host;                     // the Host header ("239.192.152.143:6771"), may be empty
    std::uint16_t port = 0;               // the sender's BitTorrent listen port
    std::vector<Sha1Digest> info_hashes;  // distinct, in message order
    std::string cookie;                   // empty when absent
};

struct DecodeResult {
    bool ok = false;
    std::string error;  // why the message was refused, when !ok
    Announce announce;
    std::size_t ignored_info_hashes = 0;  // Infohash headers that were not 40 hex digits
};

DecodeResult decode_announce(std::string_view message);

// One message carrying every hash of `a`. `host` and `cookie` must not contain CR or LF
// (they are written verbatim); an empty host or cookie leaves that header out.
std::string encode_announce(const Announce& a);

// The hashes of `a` spread over as few messages as possible, each at most `max_size`
// bytes (but always at least one hash per message) and carrying at most max_info_hashes.
// No hashes: no messages.
std::vector<std::string> encode_announces(const Announce& a,
                                          std::size_t max_size = recommended_packet_size);

}  // namespace pw::lsd
