// HTTP tracker announce, the pure half: the GET URL (BEP 3 keys, BEP 23 compact=1,
// BEP 7 key) and the bencoded reply (BEP 3 peer dictionaries, BEP 23 compact peers,
// BEP 7 peers6, BEP 24 external ip). A reply is untrusted input: every field is
// type-checked, bounded, and a malformed one is skipped rather than believed.
#include "tracker/parse/announce.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "bencode/bencode.hpp"

namespace pw::tracker {

namespace {

// Announce intervals outside this range are clamped into it; a missing or
// non-positive one gives the default of AnnounceResponse.
constexpr std::int64_t min_sane_interval = 30;
constexpr std::int64_t max_sane_interval = 2 * 3600;
constexpr std::size_t max_message_len = 1024;  // failure reason, warning message
constexpr std::size_t max_tracker_id_len = 256;

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

const char* event_name(Event e) {
    switch (e) {
        case Event::started:
            return "started";
        case Event::completed:
            return "completed";
        case Event::stopped:
            return "stopped";
        case Event::none:
            break;
    }
    return nullptr;
}

// Tracker text ends up in logs and terminals: keep it bounded and free of control bytes.
std::string printable(std::string_view s) {
    std::string out(s.substr(0, max_message_len));
    for (char& c : out) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    return out;
}

std::string ipv4_text(const unsigned char* p) {
    char buf[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, p, buf, sizeof buf)) return {};
    return buf;
}

std::string ipv6_text(const unsigned char* p) {
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, p, buf, sizeof buf)) return {};
    return buf;
}

bool all_zero(const unsigned char* p, std::size_t n) {
    return std::all_of(p, p + n, [](unsigned char c) { return c == 0; });
}

std::uint16_t port_at(const unsigned char* p) {
    return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
}

// Collects peers: drops port 0 and unspecified addresses, drops duplicates, stops at the cap.
class PeerSink {
  public:
    PeerSink(std::vector<PeerAddress>& out, std::size_t cap) : out_(out), cap_(cap) {}

    bool full() const { return out_.size() >= cap_; }

    void add(std::string ip, std::uint16_t port) {
        if (full() || ip.empty() || port == 0) return;
        if (!seen_.emplace(ip, port).second) return;
        out_.push_back(PeerAddress{std::move(ip), port});
    }

    void add_v4(const unsigned char* addr, std::uint16_t port) {
        if (all_zero(addr, 4)) return;
        add(ipv4_text(addr), port);
    }

    void add_v6(const unsigned char* addr, std::uint16_t port) {
        if (all_zero(addr, 16)) return;
        add(ipv6_text(addr), port);
    }

    // A textual address from a BEP 3 peer dictionary, normalised through its binary
    // form so that duplicates spelled differently are caught. Host names are not
    // accepted: resolving them is not this parser's job.
    void add_text(std::string_view ip, std::int64_t port) {
        if (port <= 0 || port > 65535 || ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return;
        std::string z(ip);
        unsigned char bin[16];
        if (inet_pton(AF_INET, z.c_str(), bin) == 1)
            add_v4(bin, static_cast<std::uint16_t>(port));
        else if (inet_pton(AF_INET6, z.c_str(), bin) == 1)
            add_v6(bin, static_cast<std::uint16_t>(port));
    }

  private:
    std::vector<PeerAddress>& out_;
    std::size_t cap_;
    std::set<std::pair<std::string, std::uint16_t>> seen_;
};

// A trailing partial entry is ignored (as other clients do: the whole entries are
// good peers) and said in the reply's warning, so the user sees a broken tracker.
void compact_peers(std::string_view s, std::size_t entry, PeerSink& sink, std::string& warning) {
    if (const std::size_t extra = s.size() % entry) {
        if (!warning.empty()) warning += "; ";
        warning += "compact peers of " + std::to_string(s.size()) + " bytes, not a multiple of " +
                   std::to_string(entry) + ": the last " + std::to_string(extra) + " ignored";
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    for (std::size_t off = 0; off + entry <= s.size() && !sink.full(); off += entry) {
        if (entry == 6)
            sink.add_v4(p + off, port_at(p + off + 4));
        else
            sink.add_v6(p + off, port_at(p + off + 16));
    }
}

void dict_peers(const bencode::Node& list, PeerSink& sink) {
    for (const bencode::Node& e : list.elements()) {
        if (sink.full()) break;
        if (!e.is_dict()) continue;
        auto ip = e.find_string("ip");
        auto port = e.find_int("port");
        if (ip && port) sink.add_text(*ip, *port);
    }
}

AnnounceResponse malformed(std::string reason) {
    AnnounceResponse r;
    r.failure_reason = "tracker reply: " + std::move(reason);
    return r;
}

}  // namespace

std::string url_encode(std::string_view bytes) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (char ch : bytes) {
        auto c = static_cast<unsigned char>(ch);
        if (unreserved(c)) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string build_announce_url(const AnnounceRequest& req) {
    // A fragment is never sent to a server; the parameters go before where it was.
    std::string_view base = req.url;
    base = base.substr(0, base.find('#'));
    std::string url(base);
    if (url.find('?') == std::string::npos)
        url += '?';
    else if (url.back() != '?' && url.back() != '&')
        url += '&';

    auto num = [](std::int64_t v) { return std::to_string(std::max<std::int64_t>(v, 0)); };
    url += "info_hash=" + url_encode(req.info_hash.view());
    url += "&peer_id=" +
           url_encode({reinterpret_cast<const char*>(req.peer_id.data()), req.peer_id.size()});
    url += "&port=" + std::to_string(req.port);
    url += "&uploaded=" + num(req.uploaded);
    url += "&downloaded=" + num(req.downloaded);
    url += "&left=" + num(req.left);
    url += "&compact=1";
    url += "&numwant=" + num(req.numwant);
    if (!req.key.empty()) url += "&key=" + url_encode(req.key);
    if (const char* ev = event_name(req.event)) url += std::string("&event=") + ev;
    if (!req.tracker_id.empty()) url += "&trackerid=" + url_encode(req.tracker_id);
    return url;
}

AnnounceResponse parse_announce_response(std::string_view body, std::size_t max_peers) {
    if (body.empty()) return malformed("empty body");
    bencode::Limits limits;
    limits.max_depth = 16;
    // Compact replies need a handful of values and dictionary peers about seven each,
    // so this admits over 3000 dictionary peers. It also bounds the decoder's
    // duplicate-key check, which is quadratic in a dictionary's unsorted keys.
    limits.max_tokens = 24'000;
    limits.max_string = body.size();
    bencode::Document doc;
    try {
        doc = bencode::decode(body, limits);
    } catch (const bencode::DecodeError& e) {
        return malformed(e.reason() + " at byte " + std::to_string(e.offset()));
    }
    const bencode::Node root = doc.root();
    if (!root.is_dict()) return malformed("not a dictionary");

    AnnounceResponse r;
    if (bencode::Node f = root.find("failure reason")) {
        r.failure_reason = printable(f.as_string());
        if (r.failure_reason.empty()) r.failure_reason = "tracker reported a failure";
        return r;
    }
    if (auto w = root.find_string("warning message")) r.warning_message = printable(*w);

    if (auto iv = root.find_int("interval"); iv && *iv > 0)
        r.interval = std::clamp(*iv, min_sane_interval, max_sane_interval);
    if (auto mi = root.find_int("min interval"); mi && *mi > 0)
        r.min_interval = std::min(*mi, r.interval);
    if (auto id = root.find_string("tracker id"); id && id->size() <= max_tracker_id_len)
        r.tracker_id = std::string(*id);
    if (auto c = root.find_int("complete"); c && *c >= 0) r.complete = *c;
    if (auto c = root.find_int("incomplete"); c && *c >= 0) r.incomplete = *c;

    PeerSink sink(r.peers, max_peers);
    if (bencode::Node peers = root.find("peers"); peers.is_string())
        compact_peers(peers.as_string(), 6, sink, r.warning_message);
    else if (peers.is_list())
        dict_peers(peers, sink);
    if (auto p6 = root.find_string("peers6")) compact_peers(*p6, 18, sink, r.warning_message);

    if (auto ext = root.find_string("external ip")) {
        const auto* p = reinterpret_cast<const unsigned char*>(ext->data());
        if (ext->size() == 4)
            r.external_ip = ipv4_text(p);
        else if (ext->size() == 16)
            r.external_ip = ipv6_text(p);
    }
    return r;
}

}  // namespace pw::tracker
