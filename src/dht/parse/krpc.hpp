// KRPC messages of the mainline DHT (BEP 5): ping, find_node, get_peers, announce_peer
// queries, their responses and errors; the read-only flag `ro` of BEP 43; the IPv6
// extensions of BEP 32 ("nodes6", the "want" argument, 18-byte IPv6 "values"); the
// top-level "ip" of BEP 42 (the requester's address as the responder saw it).
// Pure: bytes in, a Message out, and back. No sockets.
//
// Decoding is strict about what it uses and tolerant of what it does not: unknown keys
// are ignored, but node ids, targets and info-hashes must be exactly 20 bytes, "nodes"
// a multiple of 26 bytes (compact IPv4 node info), "nodes6" a multiple of 38 (compact
// IPv6 node info), each "values" entry 6 (IPv4) or 18 (IPv6) bytes, "want" a list
// (strings other than "n4"/"n6" are ignored), ports 1..65535 and the transaction id at
// most max_transaction_size bytes. Lists are capped so a huge reply costs bounded memory.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::dht {

using NodeId = Sha1Digest;

// An IPv4 or IPv6 address (network byte order) and port. An IPv4 address fills the
// first 4 bytes of `ip` (the rest stay zero) and has v6 = false.
struct Endpoint {
    std::array<std::uint8_t, 16> ip{};
    std::uint16_t port = 0;
    bool v6 = false;
    auto operator<=>(const Endpoint&) const = default;
    std::string_view ip_bytes() const;  // 4 or 16 bytes
    std::string to_string() const;      // "a.b.c.d:port" or "[v6]:port"
};

// One entry of "compact node info": 20-byte id, then the 6-byte (IPv4, "nodes") or
// 18-byte (IPv6, "nodes6") endpoint.
struct NodeInfo {
    NodeId id;
    Endpoint endpoint;
    bool operator==(const NodeInfo&) const = default;
};

enum class MessageType : std::uint8_t { query, response, error };
enum class Method : std::uint8_t { ping, find_node, get_peers, announce_peer, unknown };

// KRPC error codes (BEP 5).
enum ErrorCode : int {
    generic_error = 201,
    server_error = 202,
    protocol_error = 203,
    method_unknown = 204,
};

inline constexpr std::size_t compact_node_size = 26;
inline constexpr std::uint8_t want_n4 = 1, want_n6 = 2;
inline constexpr std::size_t compact_node6_size = 38;
inline constexpr std::size_t compact_peer_size = 6;
inline constexpr std::size_t compact_peer6_size = 18;
inline constexpr std::size_t max_transaction_size = 16;
inline constexpr std::size_t max_nodes_decoded = 64;    // entries kept from "nodes", "nodes6"
inline constexpr std::size_t max_values_decoded = 256;  // peers kept from one "values"

struct Message {
    MessageType type = MessageType::query;
    std::string transaction;  // "t"
    std::string version;      // "v", empty if absent
    bool read_only = false;   // "ro" = 1 (BEP 43)
    // "ip" (BEP 42, any message type): a compact 6- or 18-byte endpoint, the address the
    // sender saw the datagram it answers come from. Other sizes are ignored.
    std::optional<Endpoint> ip;

    // Queries: method and arguments ("a"). Responses: "r". Both carry "id".
    Method method = Method::unknown;
    std::string method_name;  // "q" as sent (kept for unknown methods)
    NodeId id;
    NodeId target;              // find_node "target", or get_peers/announce_peer "info_hash"
    std::uint16_t port = 0;     // announce_peer
    bool implied_port = false;  // announce_peer
    std::string token;          // announce_peer argument, get_peers response value
    // find_node/get_peers "want" (BEP 32): a mask of want_n4 and want_n6; 0 when absent
    // (or naming neither), which asks for the family the query came over.
    std::uint8_t want = 0;

    // Responses.
    std::vector<NodeInfo> nodes;   // "nodes": IPv4 entries only
    std::vector<NodeInfo> nodes6;  // "nodes6": IPv6 entries only
    std::vector<Endpoint> values;  // IPv4 and IPv6 peers, in the order received

    // Errors.
    int error_code = 0;
    std::string error_message;
};

struct DecodeResult {
    bool ok = false;
    std::string error;  // why it was rejected, when !ok
    // Filled as far as decoding got. A rejected query with a usable transaction id
    // (`transaction` set, type query) deserves a 203 error reply.
    Message message;
    bool has_transaction = false;
};

// Decodes one datagram. Never throws.
DecodeResult decode_message(std::string_view datagram);

// Encodes a message. Queries carry "a" (with the arguments its method takes, and "want"
// for find_node/get_peers when non-zero), responses "r" (id, then nodes/nodes6/values/
// token when non-empty), errors "e". "v" is written when non-empty, "ro" when
// read_only and "ip" when set. `nodes` must hold IPv4 entries and `nodes6` IPv6 ones.
std::string encode_message(const Message& m);

// Compact forms: 6-byte (IPv4) or 18-byte (IPv6) peer, 26- or 38-byte node.
std::string compact_endpoint(const Endpoint& ep);
// Requires size 6 or 18 (anything else gives port 0).
Endpoint parse_compact_endpoint(std::string_view data);
std::string compact_nodes(const std::vector<NodeInfo>& nodes);
// Parses concatenated compact node info of one family (26-byte entries, or 38-byte ones
// with v6); false if the size is not a multiple of the entry size. At most `max`
// entries are kept; entries with port 0 are skipped.
bool parse_compact_nodes(std::string_view data, std::vector<NodeInfo>& out,
                         std::size_t max = max_nodes_decoded, bool v6 = false);

const char* method_name(Method m);

}  // namespace pw::dht
