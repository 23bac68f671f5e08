#include "daemon/parse/http_range.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace pw::daemon::parse {

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// 1*DIGIT; saturates at int64 max (such a position is past any representation's end).
std::optional<std::int64_t> number(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        int d = c - '0';
        v = v > (int64_max - d) / 10 ? int64_max : v * 10 + d;
    }
    return v;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// One range-spec; nullopt when invalid. `spec` is set to {first, last} with last
// possibly int64 max (open), or to the suffix form {-1, suffix-length}.
struct Spec {
    bool suffix = false;
    std::int64_t first = 0, last = int64_max;  // suffix: last is the suffix-length
};
std::optional<Spec> parse_spec(std::string_view s) {
    auto dash = s.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto a = s.substr(0, dash), b = s.substr(dash + 1);
    Spec sp;
    if (a.empty()) {  // suffix-range = "-" suffix-length
        auto n = number(b);
        if (!n) return std::nullopt;
        sp.suffix = true;
        sp.last = *n;
        return sp;
    }
    auto first = number(a);
    if (!first) return std::nullopt;
    sp.first = *first;
    if (!b.empty()) {
        auto last = number(b);
        if (!last || *last < *first) return std::nullopt;  // 14.1.1: invalid
        sp.last = *last;
    }
    return sp;
}

}  // namespace

RangeAnswer resolve_range(std::string_view header, std::int64_t length) {
    RangeAnswer whole{RangeAnswer::whole, {0, length - 1}};
    if (header.empty() || length <= 0) return whole;
    auto eq = header.find('=');
    if (eq == std::string_view::npos || !iequals(trim_ows(header.substr(0, eq)), "bytes"))
        return whole;
    std::string_view set = header.substr(eq + 1);
    std::vector<ByteRange> ok;
    int specs = 0;
    while (true) {
        auto comma = set.find(',');
        auto item = trim_ows(set.substr(0, comma));
        // The list rule (RFC 9110 5.6.1): empty elements are allowed and do not count.
        if (!item.empty()) {
            if (++specs > max_ranges) return whole;
            auto sp = parse_spec(item);
            if (!sp) return whole;
            if (sp->suffix) {
                if (sp->last > 0) ok.push_back({length - std::min(sp->last, length), length - 1});
            } else if (sp->first < length) {
                ok.push_back({sp->first, std::min(sp->last, length - 1)});
            }
        }
        if (comma == std::string_view::npos) break;
        set.remove_prefix(comma + 1);
    }
    if (specs == 0) return whole;  // "bytes=" or "bytes=,": no range-spec at all
    if (ok.empty()) return {RangeAnswer::unsatisfiable, {0, -1}};
    std::sort(ok.begin(), ok.end(), [](auto& x, auto& y) { return x.first < y.first; });
    ByteRange u = ok.front();
    for (auto& r : ok) {
        if (r.first > u.last + 1) return whole;  // disjoint: no multipart, the whole body
        u.last = std::max(u.last, r.last);
    }
    return {RangeAnswer::partial, u};
}

std::optional<StreamTarget> parse_stream_target(std::string_view target) {
    constexpr std::string_view prefix = "/stream/";
    target = target.substr(0, target.find('?'));
    if (target.substr(0, prefix.size()) != prefix) return std::nullopt;
    target.remove_prefix(prefix.size());
    if (target.size() < 42 || target[40] != '/') return std::nullopt;
    StreamTarget t;
    for (char c : target.substr(0, 40)) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return std::nullopt;
        t.info_hash.push_back(c);
    }
    target.remove_prefix(41);
    auto idx = target.substr(0, target.find('/'));
    if (idx.empty() || idx.size() > 9 || (idx.size() > 1 && idx[0] == '0')) return std::nullopt;
    auto n = number(idx);
    if (!n) return std::nullopt;
    t.file_index = static_cast<int>(*n);
    return t;
}

}  // namespace pw::daemon::parse
