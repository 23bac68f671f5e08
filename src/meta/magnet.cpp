#include "meta/magnet.hpp"

#include <algorithm>
#include <cctype>

#include "meta/metainfo.hpp"
#include "text/percent.hpp"

namespace pw::meta {

namespace {

constexpr std::size_t max_uri = 64 * 1024;
constexpr std::size_t max_entries = 200;

// Percent-decoding of one query component ('+' is a space, as in forms).
std::string decode_component(std::string_view s) {
    auto d = text::percent_decode(s, true);
    if (!d) throw MetainfoError("magnet: bad percent-encoding");
    return std::move(*d);
}

bool decode_base32(std::string_view s, Sha1Digest& out) {
    if (s.size() != 32) return false;
    std::uint64_t buffer = 0;
    int bits = 0;
    std::size_t o = 0;
    for (char c : s) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a';
        else if (c >= '2' && c <= '7') v = c - '2' + 26;
        else return false;
        buffer = buffer << 5 | static_cast<std::uint64_t>(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.bytes[o++] = static_cast<std::uint8_t>(buffer >> bits);
        }
    }
    return o == 20;
}

std::string encode_component(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/')
            out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace

bool is_magnet(std::string_view s) {
    return s.size() >= 8 && (s.substr(0, 8) == "magnet:?" || s.substr(0, 8) == "MAGNET:?");
}

Magnet parse_magnet(std::string_view uri) {
    if (!is_magnet(uri)) throw MetainfoError("magnet: not a magnet link (must start with magnet:?)");
    if (uri.size() > max_uri) throw MetainfoError("magnet: link too long");
    Magnet m;
    bool have_hash = false;
    std::optional<Sha256Digest> btmh;
    std::string_view q = uri.substr(8);
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        if (eq == std::string_view::npos) continue;
        std::string key = decode_component(part.substr(0, eq));
        std::string value = decode_component(part.substr(eq + 1));
        if (key == "xt") {
            std::string lower = value;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lower.rfind("urn:btmh:", 0) == 0) {
                // BEP 52: a multihash, 0x12 (SHA-256) 0x20 (32 bytes) then the digest.
                std::string_view mh = std::string_view(lower).substr(9);
                Sha256Digest d;
                if (mh.size() != 68 || mh.substr(0, 4) != "1220" || !Sha256Digest::from_hex(mh.substr(4), d))
                    throw MetainfoError("magnet: btmh must be 1220 followed by 64 hex (SHA-256)");
                if (btmh && *btmh != d) throw MetainfoError("magnet: two different btmh info-hashes");
                btmh = d;
                continue;
            }
            if (lower.rfind("urn:btih:", 0) != 0) continue;  // other hashes: not used
            std::string_view h = std::string_view(value).substr(9);
            Sha1Digest d;
            if (!Sha1Digest::from_hex(h, d) && !decode_base32(h, d))
                throw MetainfoError("magnet: info-hash must be 40 hex or 32 base32 characters");
            if (have_hash && d != m.info_hash) throw MetainfoError("magnet: two different btih info-hashes");
            m.info_hash = d;
            have_hash = true;
        } else if (key == "dn") {
            m.name = value.substr(0, 1024);
        } else if (key == "tr" || key.rfind("tr.", 0) == 0) {
            bool ok = value.rfind("http://", 0) == 0 || value.rfind("https://", 0) == 0 ||
                      value.rfind("udp://", 0) == 0;
            if (ok && m.trackers.size() < max_entries &&
                std::find(m.trackers.begin(), m.trackers.end(), value) == m.trackers.end())
                m.trackers.push_back(value);
        } else if (key == "x.pe") {
            if (m.peers.size() < max_entries && value.find(':') != std::string::npos) m.peers.push_back(value);
        } else if (key == "so") {
            // BEP 53: several so= parameters add up.
            std::vector<IndexRange> more;
            try {
                more = parse_index_list(value);
            } catch (const MetainfoError& e) {
                throw MetainfoError(std::string("magnet: so=: ") + e.what());
            }
            if (m.select_only.size() + more.size() > 10000)
                throw MetainfoError("magnet: so= too long");
            m.select_only.insert(m.select_only.end(), more.begin(), more.end());
        }
    }
    m.info_hash_v2 = btmh;
    if (!have_hash && btmh) {
        m.info_hash = btmh->truncated();  // BEP 52: the v2 swarm's 20-byte name
        m.has_btih = false;
        have_hash = true;
    }
    if (!have_hash) throw MetainfoError("magnet: no urn:btih or urn:btmh info-hash (xt)");
    return m;
}

std::string make_magnet(const Magnet& m) {
    std::string s = "magnet:?";
    if (m.has_btih) s += "xt=urn:btih:" + m.info_hash.hex();
    if (m.info_hash_v2) s += std::string(m.has_btih ? "&" : "") + "xt=urn:btmh:1220" + m.info_hash_v2->hex();
    if (!m.has_btih && !m.info_hash_v2) s += "xt=urn:btih:" + m.info_hash.hex();
    if (!m.name.empty()) s += "&dn=" + encode_component(m.name);
    for (const auto& t : m.trackers) s += "&tr=" + encode_component(t);
    for (const auto& p : m.peers) s += "&x.pe=" + encode_component(p);
    if (!m.select_only.empty()) s += "&so=" + format_index_list(m.select_only);
    return s;
}

}  // namespace pw::meta
