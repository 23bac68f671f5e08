// KRPC messages of the mainline DHT (BEP 5): ping, find_node, get_peers, announce_peer
// queries, their responses and errors; the read-only flag `ro` of BEP 43.
// Pure: bytes in, a Message out, and back. No sockets.
//
// Decoding is strict about what it uses and tolerant of what it does not: unknown keys
// are ignored, but node ids, targets and info-hashes must be exactly 20 bytes, "nodes"
// a multiple of 26 bytes (compact node info), each IPv4 "values" entry 6 bytes (18-byte
// IPv6 entries of BEP 32 are skipped), ports 1..65535 and the transaction id at most
// max_transaction_size bytes. Lists are capped so a huge reply costs bounded memory.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::dht {

using NodeId = Sha1Digest;

// An IPv4 address (network byte order as 4 bytes) and port.
struct Ipv4Endpoint {
    std::array<std::uint8_t, 4> ip{};
    std::uint16_t port = 0;
    auto operator<=>(const Ipv4Endpoint&) const = default;
    std::string to_string() const;  // "a.b.c.d:port"
};

// One entry of "compact node info": 20-byte id, then the 6-byte endpoint.
struct NodeInfo {
    NodeId id;
    Ipv4Endpoint endpoint;
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
inline constexpr std::size_t compact_peer_size = 6;
inline constexpr std::size_t max_transaction_size = 16;
inline constexpr std::size_t max_nodes_decoded = 64;    // entries kept from one "nodes"
inline constexpr std::size_t max_values_decoded = 256;  // peers kept from one "values"

struct Message {
    MessageType type = MessageType::query;
    std::string transaction;  // "t"
    std::string version;      // "v", empty if absent
    bool read_only = false;   // "ro" = 1 (BEP 43)

    // Queries: method and arguments ("a"). Responses: "r". Both carry "id".
    Method method = Method::unknown;
    std::string method_name;  // "q" as sent (kept for unknown methods)
    NodeId id;
    NodeId target;              // find_node "target", or get_peers/announce_peer "info_hash"
    std::uint16_t port = 0;     // announce_peer
    bool implied_port = false;  // announce_peer
    std::string token;          // announce_peer argument, get_peers response value

    // Responses.
    std::vector<NodeInfo> nodes;
    std::vector<Ipv4Endpoint> values;

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

// Encodes a message. Queries carry "a" (with the arguments its method takes), responses
// "r" (id, then nodes/values/token when non-empty), errors "e". "v" is written when
// non-empty and "ro" when read_only.
std::string encode_message(const Message& m);

// Compact forms: 6-byte peer, 26-byte node.
std::string compact_endpoint(const Ipv4Endpoint& ep);
Ipv4Endpoint parse_compact_endpoint(std::string_view six);  // requires size 6
std::string compact_nodes(const std::vector<NodeInfo>& nodes);
// Parses concatenated compact node info; false if the size is not a multiple of 26.
// At most `max` entries are kept; entries with port 0 are skipped.
bool parse_compact_nodes(std::string_view data, std::vector<NodeInfo>& out,
                         std::size_t max = max_nodes_decoded);

const char* method_name(Method m);

}  // namespace pw::dht
