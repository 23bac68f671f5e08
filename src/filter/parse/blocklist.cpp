#include "filter/parse/blocklist.hpp"

#include <arpa/inet.h>
#include <zlib.h>

#include <cstring>
#include <memory>
#include <vector>

namespace pw::filter {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// One parsed address of either family.
struct Address {
    bool v6 = false;
    std::uint32_t a4 = 0;
    Ip6 a6{};
};

bool parse_address(std::string_view s, Address& out) {
    s = trim(s);
    if (parse_ipv4(s, out.a4)) {
        out.v6 = false;
        return true;
    }
    if (!parse_ipv6(s, out.a6)) return false;
    out.v6 = true;
    // An IPv4-mapped address is the IPv4 address: the lookup treats it so too.
    if (v4_mapped(out.a6, out.a4)) out.v6 = false;
    return true;
}

struct Parser {
    std::vector<Range4> v4;
    std::vector<Range6> v6;
    std::size_t lines = 0, skipped = 0, allowed = 0;

    // "A-B" (spaces around either side allowed), both of one family, A <= B.
    bool add_range(std::string_view s) {
        auto dash = s.find('-');
        if (dash == std::string_view::npos || s.find('-', dash + 1) != std::string_view::npos)
            return false;
        Address a, b;
        if (!parse_address(s.substr(0, dash), a) || !parse_address(s.substr(dash + 1), b))
            return false;
        if (a.v6 != b.v6) return false;
        if (!a.v6) {
            if (a.a4 > b.a4) return false;
            v4.push_back({a.a4, b.a4});
        } else {
            if (b.a6 < a.a6) return false;
            v6.push_back({a.a6, b.a6});
        }
        return true;
    }

    // eMule DAT: "range , level , name" (level and name optional).
    bool dat(std::string_view line) {
        auto comma = line.find(',');
        std::string_view range = line.substr(0, comma);
        std::uint32_t level = 0;
        if (comma != std::string_view::npos) {
            auto rest = line.substr(comma + 1);
            auto level_s = trim(rest.substr(0, rest.find(',')));
            if (level_s.empty() || level_s.size() > 9) return false;
            for (char c : level_s) {
                if (c < '0' || c > '9') return false;
                level = level * 10 + static_cast<std::uint32_t>(c - '0');
            }
        }
        if (level > 127) {
            // Parsed, but an "allow" entry: it must still be well formed to count as one.
            std::size_t n4 = v4.size(), n6 = v6.size();
            if (!add_range(range)) return false;
            v4.resize(n4);
            v6.resize(n6);
            ++allowed;
            return true;
        }
        return add_range(range);
    }

    // P2P: "name:range", the name possibly containing ':'.
    bool p2p(std::string_view line) {
        auto last = line.rfind(':');
        if (last == std::string_view::npos) return false;
        if (line.find('.', last) != std::string_view::npos && add_range(line.substr(last + 1)))
            return true;
        // IPv6: the range holds at most 16 colons. Of the last 17 colons, the leftmost one
        // after which a valid range follows is the separator (the longest such suffix).
        std::size_t cand[17];
        int n = 0;
        for (std::size_t pos = last; n < 17;) {
            cand[n++] = pos;
            if (pos == 0) break;
            pos = line.rfind(':', pos - 1);
            if (pos == std::string_view::npos) break;
        }
        for (int i = n - 1; i >= 0; --i) {
            auto rest = line.substr(cand[i] + 1);
            if (rest.find(':') == std::string_view::npos) continue;  // IPv4 tried above
            if (add_range(rest)) return true;
        }
        return false;
    }

    bool first_line = true;

    void line(std::string_view raw, bool overlong) {
        // Editors on Windows start files with a UTF-8 byte order mark.
        if (first_line && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);
        first_line = false;
        auto l = trim(raw);
        if (l.empty() || l.front() == '#' || l.starts_with("//")) return;
        ++lines;
        if (overlong || l.size() > max_line_length) {
            ++skipped;
            return;
        }
        // Both readings are tried; the likelier one first (P2P names rarely hold a ',').
        bool ok = l.find(',') == std::string_view::npos ? p2p(l) || dat(l) : dat(l) || p2p(l);
        if (!ok) ++skipped;
    }
};

// Splits a stream of chunks into lines; a line longer than max_line_length is not kept
// whole (only its first bytes, to see whether it is a comment), so memory stays bounded.
class LineSplitter {
  public:
    explicit LineSplitter(Parser& p) : p_(p) {}

    void feed(std::string_view chunk) {
        while (!chunk.empty()) {
            auto nl = chunk.find('\n');
            auto piece = chunk.substr(0, nl);
            if (nl == std::string_view::npos) {
                append(piece);
                return;
            }
            if (pending_.empty() && !overlong_) {
                p_.line(piece, false);
            } else {
                append(piece);
                flush();
            }
            chunk.remove_prefix(nl + 1);
        }
    }

    void finish() {
        if (!pending_.empty() || overlong_) flush();
    }

  private:
    void append(std::string_view s) {
        std::size_t room = max_line_length + 1 - std::min(pending_.size(), max_line_length + 1);
        if (s.size() > room) overlong_ = true;
        pending_.append(s.substr(0, std::min(room, s.size())));
    }
    void flush() {
        p_.line(pending_, overlong_);
        pending_.clear();
        overlong_ = false;
    }

    Parser& p_;
    std::string pending_;
    bool overlong_ = false;
};

// Inflates gzip `data` (one member or several in a row) into `lines`. Returns an error
// or nothing.
std::string inflate_gzip(std::string_view data, std::size_t max_inflated, LineSplitter& lines) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) return "gzip: cannot initialise zlib";
    // Not value-initialised: inflate writes before anything reads.
    constexpr std::size_t chunk = 64 * 1024;
    std::unique_ptr<unsigned char[]> out(new unsigned char[chunk]);
    std::size_t total = 0;
    std::string err;
    auto in = data;
    bool ended = false;
    while (true) {
        if (zs.avail_in == 0 && !in.empty()) {
            std::size_t take = std::min<std::size_t>(in.size(), 1u << 30);
            zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
            zs.avail_in = static_cast<uInt>(take);
            in.remove_prefix(take);
        }
        if (ended) {
            // Another member may follow; anything else after a complete member is ignored
            // (gzip(1) warns about "trailing garbage" and keeps the data too).
            if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) break;
            inflateReset(&zs);
            ended = false;
        }
        zs.next_out = out.get();
        zs.avail_out = static_cast<uInt>(chunk);
        int rc = inflate(&zs, Z_NO_FLUSH);
        std::size_t produced = chunk - zs.avail_out;
        total += produced;
        if (total > max_inflated) {
            err = "gzip: inflates to more than " + std::to_string(max_inflated >> 20) + " MiB";
            break;
        }
        lines.feed(std::string_view(reinterpret_cast<const char*>(out.get()), produced));
        if (rc == Z_STREAM_END) {
            ended = true;
        } else if (rc == Z_BUF_ERROR) {
            // No progress: out of input (output room is always given).
            if (zs.avail_in == 0 && in.empty()) {
                err = "gzip: data is truncated";
                break;
            }
            if (zs.avail_in != 0) {
                err = "gzip: corrupt data";
                break;
            }
        } else if (rc != Z_OK) {
            err = std::string("gzip: corrupt data") +
                  (zs.msg ? std::string(" (") + zs.msg + ")" : "");
            break;
        }
    }
    inflateEnd(&zs);
    return err;
}

}  // namespace

bool parse_ipv4(std::string_view s, std::uint32_t& out) {
    std::uint32_t value = 0;
    int parts = 0;
    std::size_t i = 0;
    while (true) {
        std::uint32_t part = 0;
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            part = part * 10 + static_cast<std::uint32_t>(s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || part > 255) return false;
        value = value << 8 | part;
        if (++parts == 4) break;
        if (i >= s.size() || s[i] != '.') return false;
        ++i;
    }
    if (i != s.size()) return false;
    out = value;
    return true;
}

bool parse_ipv6(std::string_view s, Ip6& out) {
    // The longest text form is 45 characters (with an embedded IPv4 address).
    if (s.empty() || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
    char buf[46];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    return inet_pton(AF_INET6, buf, out.data()) == 1;
}

BlocklistResult parse_blocklist(std::string_view data, std::size_t max_inflated) {
    BlocklistResult r;
    Parser p;
    LineSplitter lines(p);
    if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
        static_cast<unsigned char>(data[1]) == 0x8b) {
        r.gzip = true;
        r.error = inflate_gzip(data, max_inflated, lines);
    } else {
        lines.feed(data);
    }
    lines.finish();
    r.lines = p.lines;
    r.skipped = p.skipped;
    r.allowed = p.allowed;
    if (r.error.empty()) r.ranges = IpRanges(std::move(p.v4), std::move(p.v6));
    return r;
}

}  // namespace pw::filter
