// libFuzzer target for the HTTP tracker reply parser (BEP 3, 23, 7, 24). Besides "no
// crash", it checks the promises of parse_announce_response: bounded peer count, no
// port 0, no duplicate peers, intervals inside their clamp.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "tracker/parse/announce.hpp"

using namespace pw::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    constexpr std::size_t cap = 50;
    AnnounceResponse r = parse_announce_response(in, cap);
    if (r.peers.size() > cap) __builtin_trap();
    if (!r.failure_reason.empty() && !r.peers.empty()) __builtin_trap();
    if (r.interval < 30 || r.interval > 7200) __builtin_trap();
    if (r.min_interval < 0 || r.min_interval > r.interval) __builtin_trap();
    std::set<std::pair<std::string, std::uint16_t>> seen;
    for (const PeerAddress& p : r.peers) {
        if (p.port == 0 || p.ip.empty()) __builtin_trap();
        if (!seen.emplace(p.ip, p.port).second) __builtin_trap();
    }
    return 0;
}
