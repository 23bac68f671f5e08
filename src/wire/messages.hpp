// The peer wire protocol (BEP 3), the Fast Extension's messages (BEP 6: have all/none,
// suggest, reject, allowed fast) and the extension protocol handshake (BEP 10). BEP 52's
// hash messages are framed here; their payloads are decoded by wire/hash_messages.hpp.
// Pure: bytes in, messages out; bytes out from messages. No sockets here. Whether a
// peer may send a BEP 6 message (both handshakes set the bit) is the caller's check.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::wire {

using PeerId = std::array<std::uint8_t, 20>;

constexpr std::size_t handshake_size = 68;
constexpr std::uint32_t block_size = 16 * 1024;

struct Handshake {
    std::array<std::uint8_t, 8> reserved{};
    Sha1Digest info_hash;
    PeerId peer_id{};

    bool supports_extensions() const { return reserved[5] & 0x10; }  // BEP 10
    bool supports_dht() const { return reserved[7] & 0x01; }         // BEP 5
    bool supports_fast() const { return reserved[7] & 0x04; }        // BEP 6
    void set_extensions(bool on = true) {
        reserved[5] = on ? (reserved[5] | 0x10) : (reserved[5] & ~0x10);
    }
    void set_fast(bool on = true) {  // BEP 6: reserved[7] |= 0x04
        reserved[7] = on ? (reserved[7] | 0x04) : (reserved[7] & ~0x04);
    }
    // BEP 52: "the 4th most significant bit in the last byte" says the peer speaks v2.
    bool supports_v2() const { return reserved[7] & 0x10; }
    void set_v2(bool on = true) { reserved[7] = on ? (reserved[7] | 0x10) : (reserved[7] & ~0x10); }
};

// "\x13BitTorrent protocol" + reserved + info_hash + peer_id.
std::string encode_handshake(const Handshake& h);
// Decodes the 68 handshake bytes; nullopt if the protocol string is wrong or size differs.
std::optional<Handshake> decode_handshake(std::string_view bytes);

enum class MsgId : std::uint8_t {
    choke = 0,
    unchoke = 1,
    interested = 2,
    not_interested = 3,
    have = 4,
    bitfield = 5,
    request = 6,
    piece = 7,
    cancel = 8,
    port = 9,             // BEP 5
    suggest = 0x0D,       // BEP 6
    have_all = 0x0E,      // BEP 6
    have_none = 0x0F,     // BEP 6
    reject = 0x10,        // BEP 6
    allowed_fast = 0x11,  // BEP 6
    extended = 20,        // BEP 10
    hash_request = 21,    // BEP 52 (wire/hash_messages.hpp)
    hashes = 22,          // BEP 52
    hash_reject = 23,     // BEP 52
};

// One decoded message. Views point into the buffer passed to the decoder.
struct Message {
    bool keepalive = false;
    MsgId id = MsgId::choke;
    std::uint32_t index = 0;   // have, request, piece, cancel, suggest, reject, allowed_fast
    std::uint32_t begin = 0;   // request, piece, cancel, reject
    std::uint32_t length = 0;  // request, cancel, reject
    std::uint16_t port = 0;    // port
    std::uint8_t ext_id = 0;   // extended: 0 = handshake
    std::string_view payload;  // bitfield bits, piece block data, extended payload, BEP 52 hash
                               // messages (after the id), unknown ids
    std::uint8_t raw_id = 0;   // the id byte as received (for unknown ids)
    bool known = true;         // false for ids this codec does not know (to be ignored)
};

enum class ParseStatus { ok, need_more, error };

struct ParseResult {
    ParseStatus status;
    std::size_t consumed = 0;  // bytes of the buffer used by the message when ok
    const char* error = nullptr;  // reason when error
};

// Parses one length-prefixed message from the front of `buf`. Messages longer than
// `max_length` (the 4-byte prefix value) are an error, as are known messages whose
// length does not fit their id (e.g. a `have` that is not 5 bytes).
ParseResult parse_message(std::string_view buf, std::uint32_t max_length, Message& out);

// Encoders append one whole message (with its length prefix) to `out`.
void put_keepalive(std::string& out);
// choke, unchoke, interested, not_interested, have_all, have_none
void put_simple(std::string& out, MsgId id);
void put_have(std::string& out, std::uint32_t index);
void put_bitfield(std::string& out, std::string_view bits);
void put_request(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t length);
void put_cancel(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t length);
// Header of a piece message (13 bytes: prefix, id, index, begin); the caller sends the data after it.
void put_piece_header(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t data_len);
void put_port(std::string& out, std::uint16_t port);
void put_suggest(std::string& out, std::uint32_t index);
void put_reject(std::string& out, std::uint32_t index, std::uint32_t begin, std::uint32_t length);
void put_allowed_fast(std::string& out, std::uint32_t index);
void put_extended(std::string& out, std::uint8_t ext_id, std::string_view payload);

// BEP 10 extension handshake (the dictionary sent as extended message 0).
struct ExtHandshake {
    std::vector<std::pair<std::string, int>> m;  // extension name -> local message id (0 = disabled)
    std::string v;                               // client name and version
    std::uint16_t p = 0;                         // listen port, 0 if absent
    std::int64_t reqq = 0;                       // request queue size the peer accepts, 0 if absent
    std::int64_t metadata_size = 0;              // BEP 9, 0 if absent
    std::string yourip;                          // compact address as the peer sees us, if given
    // The peer's own addresses (BEP 10 "ipv4"/"ipv6"): 4 or 16 bytes, empty when absent or
    // of another length.
    std::string ipv4;
    std::string ipv6;
};
std::string encode_ext_handshake(const ExtHandshake& h);
// Tolerant of unknown keys and of wrong types (ignored); nullopt only if not a bencoded dict.
std::optional<ExtHandshake> decode_ext_handshake(std::string_view payload);

}  // namespace pw::wire
