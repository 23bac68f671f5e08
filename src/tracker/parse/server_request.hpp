// Tracker protocol, server side: parsing of what clients send to `piecewise tracker`.
// - HTTP announce query strings (BEP 3 keys; BEP 23 compact; no_peer_id) and scrape
//   query strings (BEP 48), percent-decoded (text/percent.hpp).
// - UDP tracker request packets (BEP 15): connect, announce, scrape.
// Pure: no sockets, no allocation proportional to anything but the (bounded) input.
// Every function returns a clear error for bad input and never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"
#include "tracker/parse/announce.hpp"
#include "wire/messages.hpp"

namespace pw::tracker {

// Splits a request target "/path?query" into its path and query (query empty if none).
struct SplitTarget {
    std::string_view path;
    std::string_view query;
};
SplitTarget split_target(std::string_view target);

// An HTTP announce as the query string states it. The peer's address is not part of
// it: the server takes the connection's source address.
struct ServerAnnounce {
    Sha1Digest info_hash;
    wire::PeerId peer_id{};
    std::uint16_t port = 0;
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
    Event event = Event::none;
    int numwant = -1;  // -1: not given (the server's default applies)
    bool compact = true;
    bool no_peer_id = false;
};

struct AnnounceParse {
    std::string error;  // non-empty: the request is malformed, this says why
    ServerAnnounce announce;
};

// Parses the query string of GET /announce. Required: info_hash (20 bytes), peer_id
// (20 bytes), port (1..65535). uploaded/downloaded/left default to 0 and must be
// non-negative decimal integers; numwant is advisory (anything but a non-negative
// integer means the default; values above a million are clamped there); event is
// started, completed, stopped, empty or absent (BEP 21's "paused" counts as a regular
// announce); unknown keys are ignored; a key given twice is an error for the keys above. The query
// may hold at most max_query_params pairs.
inline constexpr std::size_t max_query_params = 64;
AnnounceParse parse_http_announce(std::string_view query);

struct ScrapeParse {
    std::string error;
    std::vector<Sha1Digest> info_hashes;  // in request order, duplicates removed
};

// Parses the query string of GET /scrape: zero or more info_hash keys (each 20
// bytes once decoded), other keys ignored; at most max_http_scrape_hashes hashes.
inline constexpr std::size_t max_http_scrape_hashes = 64;
ScrapeParse parse_http_scrape(std::string_view query);

// ---- BEP 15 ----

inline constexpr std::uint64_t udp_protocol_id = 0x41727101980ULL;

enum class UdpAction : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

struct UdpRequest {
    UdpAction action = UdpAction::connect;
    std::uint64_t connection_id = 0;  // for connect: the protocol id, already checked
    std::uint32_t transaction_id = 0;
    // announce
    Sha1Digest info_hash;
    wire::PeerId peer_id{};
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
    std::int64_t uploaded = 0;
    Event event = Event::none;
    std::uint32_t key = 0;
    std::int32_t numwant = -1;
    std::uint16_t port = 0;
    // scrape
    std::vector<Sha1Digest> info_hashes;
};

// Up to this many hashes of a scrape packet are read (BEP 15: "about 74"; the reply
// of 8 + 12 * 74 bytes fits one packet on any path).
inline constexpr std::size_t max_udp_scrape_hashes = 74;

struct UdpParse {
    std::string error;  // non-empty: the packet is malformed (the server drops it)
    UdpRequest request;
};

// Parses one datagram. Malformed: shorter than its action requires, connect without
// the protocol id, unknown action, announce with an unknown event, negative byte
// counts, port 0, scrape with no hash. Bytes beyond what an action reads are ignored
// (BEP 15: packets may grow with extensions).
UdpParse parse_udp_request(std::string_view packet);

}  // namespace pw::tracker
