// Session-wide counters the torrents bump as things happen (on the network thread only,
// so plain integers): they outlive the torrents, so a removed torrent's bytes still count
// in Session::session_stats() and the Prometheus counters built on it stay monotonic.
#pragma once

#include <cstdint>

namespace pw::session {

struct SessionCounters {
    std::uint64_t payload_down = 0;
    std::uint64_t payload_up = 0;
    std::uint64_t hash_failures = 0;
    std::uint64_t peers_banned = 0;
    std::uint64_t announces_ok = 0;
    std::uint64_t announces_failed = 0;
    std::uint64_t pieces_picked = 0;  // pieces started (chosen by the picker)
    std::uint64_t pieces_passed = 0;  // pieces verified and written
    std::uint64_t hash_requests_served = 0;    // BEP 52 hash requests answered with hashes
    std::uint64_t hash_requests_rejected = 0;  // BEP 52 hash requests answered with a reject
    std::uint64_t refetched_bytes = 0;    // bytes asked for again after hash failures
    std::uint64_t failures_narrowed = 0;  // failed pieces narrowed to blocks by leaf hashes
};

}  // namespace pw::session
