// HTTP tracker protocol, client side: the announce URL (BEP 3) and the reply
// (BEP 3 dictionary peers, BEP 23 compact peers, BEP 7 peers6, BEP 24 external ip).
// Pure: no sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"
#include "wire/messages.hpp"

namespace pw::tracker {

enum class Event { none, started, completed, stopped };

struct AnnounceRequest {
    std::string url;  // the tracker's announce URL, may already carry a query string
    Sha1Digest info_hash;
    wire::PeerId peer_id{};
    std::uint16_t port = 0;
    std::int64_t uploaded = 0;
    std::int64_t downloaded = 0;
    std::int64_t left = 0;
    Event event = Event::none;
    int numwant = 50;
    std::string key;         // stable for the session
    std::string tracker_id;  // echoed from an earlier reply, if any
    // Not part of the URL: the local address to send the request from (textual IP;
    // empty: let the system choose; an unspecified address, 0.0.0.0 or ::, keeps the
    // request to that address family, from the system's choice of source address).
    // Trackers record the source address of an announce.
    std::string bind_ip;
    // Not part of the URL: the network interface the request must leave by
    // (SO_BINDTODEVICE; empty: any).
    std::string bind_device;
};

struct PeerAddress {
    std::string ip;  // textual IPv4 or IPv6 address
    std::uint16_t port = 0;
    bool operator==(const PeerAddress&) const = default;
};

struct AnnounceResponse {
    std::string failure_reason;  // non-empty: the announce failed (tracker's words or ours)
    std::string warning_message;
    std::int64_t interval = 1800;
    std::int64_t min_interval = 0;
    std::string tracker_id;
    std::int64_t complete = -1;  // seeders, -1 unknown
    std::int64_t incomplete = -1;
    std::vector<PeerAddress> peers;
    std::string external_ip;  // textual, empty if absent
};

// Percent-encodes every byte outside the unreserved set (RFC 3986).
std::string url_encode(std::string_view bytes);
// The full GET URL of an announce: url + ('?' or '&') + parameters, compact=1.
std::string build_announce_url(const AnnounceRequest& req);
// Parses a bencoded reply body. Never throws: a malformed body gives a response
// whose failure_reason says what was wrong. Peers with port 0 are dropped; the
// number of peers kept is capped.
AnnounceResponse parse_announce_response(std::string_view body, std::size_t max_peers = 2000);

}  // namespace pw::tracker
