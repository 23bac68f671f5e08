// UDP tracker packets (BEP 15) with BEP 41 URLData options. Lengths are checked before
// every read; reply peers are filtered like the HTTP parser's (BEP 23/7 compact form).
#include "tracker/parse/udp_tracker.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include "net/byte_order.hpp"

namespace pw::tracker::udp {

namespace {

constexpr std::size_t max_error_len = 1024;
constexpr std::size_t max_url_data = 4096;

class Writer {
  public:
    void u16(std::uint16_t v) { net::put_be16(out_, v); }
    void u32(std::uint32_t v) { net::put_be32(out_, v); }
    void u64(std::uint64_t v) { net::put_be64(out_, v); }
    void bytes(std::string_view b) { out_.append(b); }
    void byte(std::uint8_t b) { out_ += static_cast<char>(b); }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

std::uint64_t non_negative(std::int64_t v) {
    return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

std::int64_t clamp_i64(std::uint64_t v) {
    constexpr auto max = static_cast<std::uint64_t>(INT64_MAX);
    return static_cast<std::int64_t>(std::min(v, max));
}

std::string printable(std::string_view s) {
    std::string out(s.substr(0, max_error_len));
    for (char& c : out) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    return out;
}

bool all_zero(std::string_view b) {
    return std::all_of(b.begin(), b.end(), [](char c) { return c == 0; });
}

// Common reply checks: the header, the transaction id, the tracker's error, the action.
template <class T>
bool reply_header(std::string_view pkt, std::uint32_t txid, Action want, Decoded<T>& d) {
    if (pkt.size() < 8 || net::get_be32(pkt, 4) != txid) {
        d.outcome = Outcome::foreign;
        return false;
    }
    const std::uint32_t action = net::get_be32(pkt, 0);
    if (action == static_cast<std::uint32_t>(Action::error)) {
        d.outcome = Outcome::tracker_error;
        d.error = printable(pkt.substr(8));
        if (d.error.empty()) d.error = "tracker reported an error";
        return false;
    }
    if (action != static_cast<std::uint32_t>(want)) {
        d.outcome = Outcome::malformed;
        d.error = "unexpected action " + std::to_string(action) + " (expected " +
                  std::to_string(static_cast<std::uint32_t>(want)) + ")";
        return false;
    }
    return true;
}

template <class T>
Decoded<T> malformed(std::string why) {
    Decoded<T> d;
    d.outcome = Outcome::malformed;
    d.error = std::move(why);
    return d;
}

}  // namespace

std::uint32_t event_code(Event e) {
    switch (e) {
        case Event::completed:
            return 1;
        case Event::started:
            return 2;
        case Event::stopped:
            return 3;
        case Event::none:
            break;
    }
    return 0;
}

std::optional<Event> event_from_code(std::uint32_t code) {
    switch (code) {
        case 0:
            return Event::none;
        case 1:
            return Event::completed;
        case 2:
            return Event::started;
        case 3:
            return Event::stopped;
        default:
            return std::nullopt;
    }
}

std::uint32_t key_to_u32(std::string_view key) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (key.size() == 8 &&
        std::all_of(key.begin(), key.end(), [&](char c) { return hex(c) >= 0; })) {
        std::uint32_t v = 0;
        for (char c : key) v = (v << 4) | static_cast<std::uint32_t>(hex(c));
        return v;
    }
    std::uint32_t h = 2166136261u;  // FNV-1a, 32 bits
    for (char c : key) {
        h ^= static_cast<unsigned char>(c);
        h *= 16777619u;
    }
    return h;
}

std::string encode_connect_request(std::uint32_t transaction_id) {
    Writer w;
    w.u64(protocol_id);
    w.u32(static_cast<std::uint32_t>(Action::connect));
    w.u32(transaction_id);
    return w.take();
}

std::string encode_announce_request(const AnnouncePacket& p) {
    Writer w;
    w.u64(p.connection_id);
    w.u32(static_cast<std::uint32_t>(Action::announce));
    w.u32(p.transaction_id);
    w.bytes(p.info_hash.view());
    w.bytes({reinterpret_cast<const char*>(p.peer_id.data()), p.peer_id.size()});
    w.u64(non_negative(p.downloaded));
    w.u64(non_negative(p.left));
    w.u64(non_negative(p.uploaded));
    w.u32(event_code(p.event));
    w.u32(p.ip);
    w.u32(p.key);
    w.u32(static_cast<std::uint32_t>(p.num_want));
    w.u16(p.port);
    std::string_view url = std::string_view(p.url_data).substr(0, max_url_data);
    while (!url.empty()) {
        const std::size_t n = std::min<std::size_t>(url.size(), 255);
        w.byte(2);
        w.byte(static_cast<std::uint8_t>(n));
        w.bytes(url.substr(0, n));
        url.remove_prefix(n);
    }
    return w.take();
}

std::string encode_scrape_request(std::uint64_t connection_id, std::uint32_t transaction_id,
                                  std::span<const Sha1Digest> hashes) {
    if (hashes.empty() || hashes.size() > max_scrape_hashes)
        throw std::invalid_argument("a UDP scrape carries 1 to 74 info-hashes");
    Writer w;
    w.u64(connection_id);
    w.u32(static_cast<std::uint32_t>(Action::scrape));
    w.u32(transaction_id);
    for (const Sha1Digest& h : hashes) w.bytes(h.view());
    return w.take();
}

std::optional<RequestHeader> decode_request_header(std::string_view pkt) {
    if (pkt.size() < 16) return std::nullopt;
    RequestHeader h;
    h.connection_id = net::get_be64(pkt, 0);
    h.action = static_cast<Action>(net::get_be32(pkt, 8));
    h.transaction_id = net::get_be32(pkt, 12);
    return h;
}

std::optional<std::uint32_t> decode_connect_request(std::string_view pkt) {
    auto h = decode_request_header(pkt);
    if (!h || h->connection_id != protocol_id || h->action != Action::connect) return std::nullopt;
    return h->transaction_id;
}

std::optional<AnnouncePacket> decode_announce_request(std::string_view pkt) {
    if (pkt.size() < announce_request_size) return std::nullopt;
    auto h = decode_request_header(pkt);
    if (!h || h->action != Action::announce) return std::nullopt;
    auto ev = event_from_code(net::get_be32(pkt, 80));
    if (!ev) return std::nullopt;
    AnnouncePacket p;
    p.connection_id = h->connection_id;
    p.transaction_id = h->transaction_id;
    p.info_hash = Sha1Digest::from_bytes(pkt.substr(16, 20));
    std::copy_n(pkt.begin() + 36, 20, p.peer_id.begin());
    p.downloaded = clamp_i64(net::get_be64(pkt, 56));
    p.left = clamp_i64(net::get_be64(pkt, 64));
    p.uploaded = clamp_i64(net::get_be64(pkt, 72));
    p.event = *ev;
    p.ip = net::get_be32(pkt, 84);
    p.key = net::get_be32(pkt, 88);
    p.num_want = static_cast<std::int32_t>(net::get_be32(pkt, 92));
    p.port = net::get_be16(pkt, 96);
    // BEP 41 options: types 0 and 1 are one byte, every other type has a length byte.
    std::size_t off = announce_request_size;
    while (off < pkt.size()) {
        const auto type = static_cast<unsigned char>(pkt[off]);
        if (type == 0) break;
        if (type == 1) {
            ++off;
            continue;
        }
        if (off + 2 > pkt.size()) break;
        const std::size_t len = static_cast<unsigned char>(pkt[off + 1]);
        if (off + 2 + len > pkt.size()) break;
        if (type == 2 && p.url_data.size() + len <= max_url_data)
            p.url_data.append(pkt.substr(off + 2, len));
        off += 2 + len;
    }
    return p;
}

std::optional<std::vector<Sha1Digest>> decode_scrape_request(std::string_view pkt) {
    auto h = decode_request_header(pkt);
    if (!h || h->action != Action::scrape) return std::nullopt;
    const std::size_t body = pkt.size() - 16;
    if (body == 0 || body % 20 != 0 || body / 20 > max_scrape_hashes) return std::nullopt;
    std::vector<Sha1Digest> out;
    for (std::size_t off = 16; off < pkt.size(); off += 20)
        out.push_back(Sha1Digest::from_bytes(pkt.substr(off, 20)));
    return out;
}

std::string encode_connect_reply(std::uint32_t transaction_id, std::uint64_t connection_id) {
    Writer w;
    w.u32(static_cast<std::uint32_t>(Action::connect));
    w.u32(transaction_id);
    w.u64(connection_id);
    return w.take();
}

std::string encode_announce_reply(std::uint32_t transaction_id, const AnnounceReply& r, bool ipv6) {
    Writer w;
    w.u32(static_cast<std::uint32_t>(Action::announce));
    w.u32(transaction_id);
    w.u32(static_cast<std::uint32_t>(r.interval));
    w.u32(static_cast<std::uint32_t>(r.leechers));
    w.u32(static_cast<std::uint32_t>(r.seeders));
    for (const PeerAddress& p : r.peers) {
        unsigned char addr[16];
        if (inet_pton(ipv6 ? AF_INET6 : AF_INET, p.ip.c_str(), addr) != 1) continue;
        w.bytes({reinterpret_cast<const char*>(addr), ipv6 ? 16u : 4u});
        w.u16(p.port);
    }
    return w.take();
}

std::string encode_scrape_reply(std::uint32_t transaction_id,
                                std::span<const ScrapeEntry> entries) {
    Writer w;
    w.u32(static_cast<std::uint32_t>(Action::scrape));
    w.u32(transaction_id);
    for (const ScrapeEntry& e : entries) {
        w.u32(static_cast<std::uint32_t>(e.seeders));
        w.u32(static_cast<std::uint32_t>(e.completed));
        w.u32(static_cast<std::uint32_t>(e.leechers));
    }
    return w.take();
}

std::string encode_error_reply(std::uint32_t transaction_id, std::string_view message) {
    Writer w;
    w.u32(static_cast<std::uint32_t>(Action::error));
    w.u32(transaction_id);
    w.bytes(message);
    return w.take();
}

Decoded<std::uint64_t> decode_connect_reply(std::string_view pkt, std::uint32_t transaction_id) {
    Decoded<std::uint64_t> d;
    if (!reply_header(pkt, transaction_id, Action::connect, d)) return d;
    if (pkt.size() < 16)
        return malformed<std::uint64_t>("connect reply of " + std::to_string(pkt.size()) +
                                        " bytes (expected 16)");
    d.outcome = Outcome::ok;
    d.value = net::get_be64(pkt, 8);
    return d;
}

Decoded<AnnounceReply> decode_announce_reply(std::string_view pkt, std::uint32_t transaction_id,
                                             bool ipv6, std::size_t max_peers) {
    Decoded<AnnounceReply> d;
    if (!reply_header(pkt, transaction_id, Action::announce, d)) return d;
    const std::size_t stride = ipv6 ? 18 : 6;
    if (pkt.size() < 20 || (pkt.size() - 20) % stride != 0)
        return malformed<AnnounceReply>("announce reply of " + std::to_string(pkt.size()) +
                                        " bytes (expected 20 + " + std::to_string(stride) +
                                        " per peer)");
    AnnounceReply& r = d.value;
    r.interval = net::get_be32(pkt, 8);
    r.leechers = net::get_be32(pkt, 12);
    r.seeders = net::get_be32(pkt, 16);
    std::set<std::pair<std::string, std::uint16_t>> seen;
    const std::size_t alen = stride - 2;
    for (std::size_t off = 20; off < pkt.size() && r.peers.size() < max_peers; off += stride) {
        std::string_view addr = pkt.substr(off, alen);
        const std::uint16_t port = net::get_be16(pkt, off + alen);
        if (port == 0 || all_zero(addr)) continue;
        char text[INET6_ADDRSTRLEN];
        if (!inet_ntop(ipv6 ? AF_INET6 : AF_INET, addr.data(), text, sizeof text)) continue;
        if (!seen.emplace(text, port).second) continue;
        r.peers.push_back(PeerAddress{text, port});
    }
    d.outcome = Outcome::ok;
    return d;
}

Decoded<std::vector<ScrapeEntry>> decode_scrape_reply(std::string_view pkt,
                                                      std::uint32_t transaction_id,
                                                      std::size_t expected) {
    Decoded<std::vector<ScrapeEntry>> d;
    if (!reply_header(pkt, transaction_id, Action::scrape, d)) return d;
    if (expected > max_scrape_hashes || pkt.size() < 8 + 12 * expected)
        return malformed<std::vector<ScrapeEntry>>("scrape reply of " + std::to_string(pkt.size()) +
                                                   " bytes for " + std::to_string(expected) +
                                                   " info-hashes");
    for (std::size_t i = 0; i < expected; ++i) {
        const std::size_t off = 8 + 12 * i;
        d.value.push_back(
            ScrapeEntry{net::get_be32(pkt, off), net::get_be32(pkt, off + 4), net::get_be32(pkt, off + 8)});
    }
    d.outcome = Outcome::ok;
    return d;
}

}  // namespace pw::tracker::udp
