// Server-side parsing of tracker requests: HTTP announce (BEP 3, BEP 23 compact,
// no_peer_id) and scrape (BEP 48) query strings, and BEP 15 UDP request packets.
// Everything here is input from the network: lengths are checked before every read,
// numbers are parsed with std::from_chars and range-checked, nothing is trusted.
#include "tracker/parse/server_request.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>

#include "text/percent.hpp"

namespace pw::tracker {

namespace {

// Decimal, non-negative, at most 18 digits (so it fits an int64 with room).
std::optional<std::int64_t> parse_count(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

struct Param {
    std::string_view key;    // raw (keys are plain ASCII in every real client)
    std::string_view value;  // raw, still percent-encoded
};

// Splits "a=1&b=2" into at most max_query_params pairs; empty pieces are skipped.
// Returns false when there are more.
bool split_query(std::string_view q, std::vector<Param>& out) {
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (part.empty()) continue;
        if (out.size() >= max_query_params) return false;
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
            out.push_back({part, {}});
        else
            out.push_back({part.substr(0, eq), part.substr(eq + 1)});
    }
    return true;
}

// Decodes a value that must be exactly 20 bytes.
bool decode20(std::string_view raw, std::uint8_t* out) {
    auto d = text::percent_decode(raw, true);
    if (!d || d->size() != 20) return false;
    std::memcpy(out, d->data(), 20);
    return true;
}

std::uint16_t be16(const unsigned char* p) {
    return static_cast<std::uint16_t>((unsigned(p[0]) << 8) | p[1]);
}
std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           p[3];
}
std::uint64_t be64(const unsigned char* p) {
    return (std::uint64_t(be32(p)) << 32) | be32(p + 4);
}

}  // namespace

SplitTarget split_target(std::string_view target) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

AnnounceParse parse_http_announce(std::string_view query) {
    AnnounceParse r;
    std::vector<Param> params;
    if (!split_query(query, params)) {
        r.error = "too many query parameters";
        return r;
    }
    ServerAnnounce& a = r.announce;
    bool have_hash = false, have_id = false, have_port = false;
    std::set<std::string_view> seen;
    auto fail = [&](std::string msg) {
        r.error = std::move(msg);
        return r;
    };
    for (const Param& p : params) {
        const std::string_view k = p.key;
        const bool known = k == "info_hash" || k == "peer_id" || k == "port" || k == "uploaded" ||
                           k == "downloaded" || k == "left" || k == "event" || k == "numwant" ||
                           k == "compact" || k == "no_peer_id";
        if (!known) continue;
        if (!seen.insert(k).second) return fail("duplicate parameter " + std::string(k));
        if (k == "info_hash") {
            if (!decode20(p.value, a.info_hash.bytes.data()))
                return fail("info_hash must be 20 bytes");
            have_hash = true;
        } else if (k == "peer_id") {
            if (!decode20(p.value, a.peer_id.data())) return fail("peer_id must be 20 bytes");
            have_id = true;
        } else if (k == "port") {
            auto v = parse_count(p.value);
            if (!v || *v < 1 || *v > 65535) return fail("port must be 1..65535");
            a.port = static_cast<std::uint16_t>(*v);
            have_port = true;
        } else if (k == "uploaded" || k == "downloaded" || k == "left") {
            auto v = parse_count(p.value);
            if (!v) return fail(std::string(k) + " must be a non-negative integer");
            (k == "uploaded" ? a.uploaded : k == "downloaded" ? a.downloaded : a.left) = *v;
        } else if (k == "event") {
            if (p.value == "started")
                a.event = Event::started;
            else if (p.value == "completed")
                a.event = Event::completed;
            else if (p.value == "stopped")
                a.event = Event::stopped;
            else if (p.value.empty() || p.value == "empty" || p.value == "paused")
                a.event = Event::none;
            else
                return fail("unknown event");
        } else if (k == "numwant") {
            // Advisory: a value that is not a non-negative integer means "the default".
            if (auto v = parse_count(p.value))
                a.numwant = static_cast<int>(std::min<std::int64_t>(*v, 1'000'000));
        } else if (k == "compact") {
            a.compact = p.value != "0";
        } else if (k == "no_peer_id") {
            a.no_peer_id = !p.value.empty() && p.value != "0";
        }
    }
    if (!have_hash) return fail("missing info_hash");
    if (!have_id) return fail("missing peer_id");
    if (!have_port) return fail("missing port");
    return r;
}

ScrapeParse parse_http_scrape(std::string_view query) {
    ScrapeParse r;
    std::vector<Param> params;
    if (!split_query(query, params)) {
        r.error = "too many query parameters";
        return r;
    }
    std::set<Sha1Digest> seen;
    for (const Param& p : params) {
        if (p.key != "info_hash") continue;
        Sha1Digest h;
        if (!decode20(p.value, h.bytes.data())) {
            r.error = "info_hash must be 20 bytes";
            r.info_hashes.clear();
            return r;
        }
        if (!seen.insert(h).second) continue;
        if (r.info_hashes.size() >= max_http_scrape_hashes) {
            r.error = "too many info_hash parameters";
            r.info_hashes.clear();
            return r;
        }
        r.info_hashes.push_back(h);
    }
    return r;
}

UdpParse parse_udp_request(std::string_view packet) {
    UdpParse r;
    UdpRequest& q = r.request;
    const auto* p = reinterpret_cast<const unsigned char*>(packet.data());
    const std::size_t n = packet.size();
    if (n < 16) {
        r.error = "packet shorter than 16 bytes";
        return r;
    }
    q.connection_id = be64(p);
    const std::uint32_t action = be32(p + 8);
    q.transaction_id = be32(p + 12);
    switch (action) {
        case 0:
            q.action = UdpAction::connect;
            if (q.connection_id != udp_protocol_id) r.error = "connect without the protocol id";
            return r;
        case 1: {
            q.action = UdpAction::announce;
            if (n < 98) {
                r.error = "announce shorter than 98 bytes";
                return r;
            }
            std::memcpy(q.info_hash.bytes.data(), p + 16, 20);
            std::memcpy(q.peer_id.data(), p + 36, 20);
            const std::uint64_t down = be64(p + 56), left = be64(p + 64), up = be64(p + 72);
            if ((down | left | up) >> 63) {
                r.error = "negative byte count";
                return r;
            }
            q.downloaded = static_cast<std::int64_t>(down);
            q.left = static_cast<std::int64_t>(left);
            q.uploaded = static_cast<std::int64_t>(up);
            switch (be32(p + 80)) {
                case 0:
                    q.event = Event::none;
                    break;
                case 1:
                    q.event = Event::completed;
                    break;
                case 2:
                    q.event = Event::started;
                    break;
                case 3:
                    q.event = Event::stopped;
                    break;
                default:
                    r.error = "unknown event";
                    return r;
            }
            // p + 84: IP address, ignored (the source address is the peer's address).
            q.key = be32(p + 88);
            q.numwant = static_cast<std::int32_t>(be32(p + 92));
            q.port = be16(p + 96);
            if (q.port == 0) r.error = "port 0";
            return r;
        }
        case 2: {
            q.action = UdpAction::scrape;
            const std::size_t count = std::min((n - 16) / 20, max_udp_scrape_hashes);
            if (count == 0) {
                r.error = "scrape without an info_hash";
                return r;
            }
            q.info_hashes.resize(count);
            for (std::size_t i = 0; i < count; ++i)
                std::memcpy(q.info_hashes[i].bytes.data(), p + 16 + 20 * i, 20);
            return r;
        }
        default:
            r.error = "unknown action";
            return r;
    }
}

}  // namespace pw::tracker
