// UDP tracker protocol (BEP 15) packets, both directions, with the BEP 41 URLData
// option in announce requests. Pure: bytes in, structures out; no sockets.
//
// Contract: every decoder takes untrusted bytes and never throws or reads out of
// bounds. Reply decoders are given the transaction id the caller chose and say whether
// a datagram answers that request at all (`foreign`: keep waiting), is the tracker's
// error (action 3), is the expected reply, or is an answer that cannot be believed.
// All integers are big-endian on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"
#include "tracker/parse/announce.hpp"
#include "wire/messages.hpp"

namespace pw::tracker::udp {

inline constexpr std::uint64_t protocol_id = 0x41727101980;
// BEP 15: "up to about 74 torrents can be scraped at once" (16 + 74 * 20 bytes).
inline constexpr std::size_t max_scrape_hashes = 74;
inline constexpr std::size_t connect_request_size = 16;
inline constexpr std::size_t announce_request_size = 98;  // before BEP 41 options

enum class Action : std::uint32_t { connect = 0, announce = 1, scrape = 2, error = 3 };

// BEP 15 event numbers: 0 none, 1 completed, 2 started, 3 stopped.
std::uint32_t event_code(Event e);
std::optional<Event> event_from_code(std::uint32_t code);

// The 32-bit `key` of a UDP announce from the session's textual key: exactly eight hex
// digits are taken as their value (so HTTP and UDP announces carry the same key);
// any other string is hashed with FNV-1a.
std::uint32_t key_to_u32(std::string_view key);

// ---- requests (client -> tracker) ----

struct RequestHeader {
    std::uint64_t connection_id = 0;
    Action action{};
    std::uint32_t transaction_id = 0;
};

struct AnnouncePacket {
    std::uint64_t connection_id = 0;
    std::uint32_t transaction_id = 0;
    Sha1Digest info_hash;
    wire::PeerId peer_id{};
    std::int64_t downloaded = 0;  // negative values are sent as 0
    std::int64_t left = 0;
    std::int64_t uploaded = 0;
    Event event = Event::none;
    std::uint32_t ip = 0;  // BEP 15 "IP address", 0: the packet's source
    std::uint32_t key = 0;
    std::int32_t num_want = -1;  // -1: the tracker's default
    std::uint16_t port = 0;
    // BEP 41 URLData: the path and query of the udp:// URL. Encoded as one or more
    // option-2 chunks of at most 255 bytes when non-empty; nothing is appended when
    // empty. At most 4096 bytes are encoded.
    std::string url_data;
    bool operator==(const AnnouncePacket&) const = default;
};

std::string encode_connect_request(std::uint32_t transaction_id);
std::string encode_announce_request(const AnnouncePacket& p);
// `hashes` must hold 1 to max_scrape_hashes entries; throws std::invalid_argument if not.
std::string encode_scrape_request(std::uint64_t connection_id, std::uint32_t transaction_id,
                                  std::span<const Sha1Digest> hashes);

// The first 16 bytes of any request; nullopt if shorter.
std::optional<RequestHeader> decode_request_header(std::string_view pkt);
// Transaction id of a connect request: at least 16 bytes, the magic protocol id, action 0.
std::optional<std::uint32_t> decode_connect_request(std::string_view pkt);
// An announce request of at least 98 bytes with action 1 and a known event. BEP 41
// options after byte 98 are read until EndOfOptions or the end; URLData chunks are
// concatenated, an option running past the end is dropped with everything after it.
std::optional<AnnouncePacket> decode_announce_request(std::string_view pkt);
// A scrape request: action 2 and 16 + 20 * n bytes with 1 <= n <= max_scrape_hashes.
std::optional<std::vector<Sha1Digest>> decode_scrape_request(std::string_view pkt);

// ---- replies (tracker -> client) ----

struct ScrapeEntry {
    std::int64_t seeders = 0;
    std::int64_t completed = 0;
    std::int64_t leechers = 0;
    bool operator==(const ScrapeEntry&) const = default;
};

struct AnnounceReply {
    std::int64_t interval = 0;  // seconds, as sent
    std::int64_t leechers = 0;
    std::int64_t seeders = 0;
    std::vector<PeerAddress> peers;
};

std::string encode_connect_reply(std::uint32_t transaction_id, std::uint64_t connection_id);
// Peers of the other family than `ipv6`, or that are not numeric addresses, are skipped.
std::string encode_announce_reply(std::uint32_t transaction_id, const AnnounceReply& r, bool ipv6);
std::string encode_scrape_reply(std::uint32_t transaction_id, std::span<const ScrapeEntry> entries);
std::string encode_error_reply(std::uint32_t transaction_id, std::string_view message);

enum class Outcome {
    ok,             // the expected reply; the value is set
    foreign,        // shorter than 8 bytes or another transaction id: not an answer, ignore it
    tracker_error,  // action 3 for this transaction; `error` holds the tracker's message
    malformed,      // this transaction's answer, but the wrong action or a bad length
};

template <class T>
struct Decoded {
    Outcome outcome = Outcome::foreign;
    T value{};
    std::string error;  // tracker_error: the tracker's message; malformed: what was wrong
};

// Connect reply: at least 16 bytes, action 0; the value is the connection id.
Decoded<std::uint64_t> decode_connect_reply(std::string_view pkt, std::uint32_t transaction_id);
// Announce reply: action 1, exactly 20 + stride * N bytes (stride 6, or 18 when the
// tracker was reached over IPv6). Peers with port 0 or an all-zero address and
// duplicates are dropped; at most `max_peers` are kept.
Decoded<AnnounceReply> decode_announce_reply(std::string_view pkt, std::uint32_t transaction_id,
                                             bool ipv6, std::size_t max_peers = 2000);
// Scrape reply: action 2 and at least 8 + 12 * expected bytes; one entry per hash
// asked for, in the order asked. Bytes beyond those entries are ignored.
Decoded<std::vector<ScrapeEntry>> decode_scrape_reply(std::string_view pkt,
                                                      std::uint32_t transaction_id,
                                                      std::size_t expected);

}  // namespace pw::tracker::udp
