// Extension messages carried over BEP 10: ut_metadata (BEP 9) and ut_pex (BEP 11).
// Pure: payload bytes in, structures out, and back.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pw::wire {

constexpr std::size_t metadata_block = 16 * 1024;

// ---- ut_metadata (BEP 9) ----
struct MetadataMsg {
    enum Type { request = 0, piece_data = 1, reject = 2 };
    int type = request;
    std::int64_t piece = 0;
    std::int64_t total_size = 0;  // data messages
    std::string_view data;        // data messages: the bytes after the dictionary
};

// nullopt when the payload is not a bencoded dictionary with integer msg_type and piece
// (an unknown msg_type is returned as is, for the caller to ignore).
std::optional<MetadataMsg> decode_metadata_msg(std::string_view payload);
std::string encode_metadata_request(std::int64_t piece);
std::string encode_metadata_reject(std::int64_t piece);
std::string encode_metadata_data(std::int64_t piece, std::int64_t total_size, std::string_view data);

// ---- ut_pex (BEP 11) ----
struct PexPeer {
    std::array<std::uint8_t, 16> addr{};  // IPv4 in the first 4 bytes when !v6
    bool v6 = false;
    std::uint16_t port = 0;
    std::uint8_t flags = 0;  // 0x01 encryption, 0x02 seed, 0x04 uTP, 0x08 holepunch, 0x10 reachable
    bool operator==(const PexPeer& o) const { return addr == o.addr && v6 == o.v6 && port == o.port; }
};

struct PexMsg {
    std::vector<PexPeer> added;
    std::vector<PexPeer> dropped;
};

// Decodes at most `max_entries` peers of each list (the rest are ignored); entries
// with port 0 are dropped. nullopt when the payload is not a bencoded dictionary.
std::optional<PexMsg> decode_pex(std::string_view payload, std::size_t max_entries = 200);
std::string encode_pex(const PexMsg& m);

}  // namespace pw::wire
