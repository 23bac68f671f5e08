// libFuzzer target for the UDP tracker codec (BEP 15, BEP 41). The first byte picks the
// decoder; the rest is the datagram. Besides "no crash", it checks the decoders'
// promises: reply decoders expect the transaction id carried in bytes 4..7 so that the
// interesting paths are reached, peers are capped, have a port and are unique, scrape
// replies have one entry per hash asked for, and decoded requests re-encode to a packet
// that decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "tracker/parse/udp_tracker.hpp"

using namespace pw::tracker;
using namespace pw::tracker::udp;

namespace {

std::uint32_t txid_of(std::string_view pkt) {
    if (pkt.size() < 8) return 0;
    std::uint32_t v = 0;
    for (int i = 4; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(pkt[i]);
    return v;
}

void check_peers(const AnnounceReply& r, std::size_t cap) {
    if (r.peers.size() > cap) __builtin_trap();
    std::set<std::pair<std::string, std::uint16_t>> seen;
    for (const PeerAddress& p : r.peers) {
        if (p.port == 0 || p.ip.empty()) __builtin_trap();
        if (!seen.emplace(p.ip, p.port).second) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t selector = data[0];
    std::string_view pkt(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::uint32_t txid = txid_of(pkt);
    switch (selector % 6) {
        case 0: {
            auto d = decode_connect_reply(pkt, txid);
            if (d.outcome == Outcome::ok && pkt.size() < 16) __builtin_trap();
            if (d.outcome == Outcome::tracker_error && d.error.size() > 1024) __builtin_trap();
            break;
        }
        case 1:
        case 2: {
            constexpr std::size_t cap = 40;
            const bool v6 = selector % 6 == 2;
            auto d = decode_announce_reply(pkt, txid, v6, cap);
            if (d.outcome == Outcome::ok) {
                if ((pkt.size() - 20) % (v6 ? 18 : 6) != 0) __builtin_trap();
                check_peers(d.value, cap);
            } else if (!d.value.peers.empty()) {
                __builtin_trap();
            }
            break;
        }
        case 3: {
            const std::size_t expected = selector / 6 % 80;
            auto d = decode_scrape_reply(pkt, txid, expected);
            if (d.outcome == Outcome::ok && d.value.size() != expected) __builtin_trap();
            break;
        }
        case 4: {
            auto p = decode_announce_request(pkt);
            if (!p) break;
            auto again = decode_announce_request(encode_announce_request(*p));
            if (!again || !(*again == *p)) __builtin_trap();
            break;
        }
        default: {
            if (auto c = decode_connect_request(pkt)) {
                if (decode_connect_request(encode_connect_request(*c)) != c) __builtin_trap();
            }
            if (auto s = decode_scrape_request(pkt)) {
                if (s->empty() || s->size() > max_scrape_hashes) __builtin_trap();
                auto h = decode_request_header(pkt);
                auto again = decode_scrape_request(
                    encode_scrape_request(h->connection_id, h->transaction_id, *s));
                if (!again || *again != *s) __builtin_trap();
            }
            break;
        }
    }
    return 0;
}
