// HTTP tracker scrape (BEP 48), the pure half: deriving the scrape URL from an announce
// URL, building the GET URL for a set of info-hashes, and parsing the bencoded reply.
// Pure: no sockets. The reply is untrusted input: never throws, bounded work and memory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "crypto/sha1.hpp"

namespace pw::tracker {

// Swarm counts of one torrent; -1 where the tracker did not say.
struct ScrapeStats {
    std::int64_t complete = -1;    // seeders
    std::int64_t incomplete = -1;  // leechers
    std::int64_t downloaded = -1;  // completed downloads ever
    bool operator==(const ScrapeStats&) const = default;
};

struct ScrapeReply {
    std::string failure_reason;  // non-empty: the scrape failed (tracker's words or ours)
    std::map<Sha1Digest, ScrapeStats> files;
};

// The scrape URL of an announce URL (BEP 48, and the convention BEP 48 codifies): the
// text after the last '/' of the path must begin with "announce", which is replaced by
// "scrape" (".../announce" -> ".../scrape", ".../announce.php?pk=1" ->
// ".../scrape.php?pk=1"). Query kept, fragment dropped. nullopt when the URL has no
// such path component: the tracker does not support scraping by this convention.
std::optional<std::string> scrape_url_from_announce(std::string_view announce_url);
// scrape_url + ('?' or '&') + one info_hash parameter per hash.
std::string build_scrape_url(std::string_view scrape_url, std::span<const Sha1Digest> hashes);
// Parses a bencoded scrape reply: `files` maps 20-byte hashes to dictionaries with
// complete/incomplete/downloaded; a `failure reason` fails the whole reply. Entries
// whose key is not 20 bytes or whose value is not a dictionary are skipped; negative
// or missing counts stay -1; at most `max_files` entries are kept.
ScrapeReply parse_scrape_response(std::string_view body, std::size_t max_files = 1000);

}  // namespace pw::tracker
