#include "daemon/parse/seed_policy.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace pw::daemon {

namespace json = boost::json;

EffectiveSeedLimits effective_seed_limits(const SessionSeedLimits& s, const TorrentSeedLimits& t) {
    EffectiveSeedLimits e;
    if (t.ratio_mode == 1)
        e.ratio = t.ratio;
    else if (t.ratio_mode == 0 && s.ratio_limited)
        e.ratio = s.ratio;
    if (t.idle_mode == 1)
        e.idle_minutes = t.idle_minutes;
    else if (t.idle_mode == 0 && s.idle_limited)
        e.idle_minutes = s.idle_minutes;
    if (e.ratio < 0) e.ratio = -1;
    if (e.idle_minutes <= 0) e.idle_minutes = -1;
    return e;
}

std::optional<std::vector<std::string>> check_labels(const std::vector<std::string>& in,
                                                     std::string& why) {
    std::vector<std::string> out;
    for (auto& l : in) {
        if (l.empty() || l.find(',') != std::string::npos || l.size() > 256) {
            why = "labels must be non-empty, at most 256 bytes, without a comma";
            return std::nullopt;
        }
        if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
    }
    if (out.size() > 1000) {
        why = "too many labels";
        return std::nullopt;
    }
    return out;
}

std::vector<std::vector<std::string>> parse_tracker_list(const std::string& text) {
    std::vector<std::vector<std::string>> tiers(1);
    std::vector<std::string> seen;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        auto b = line.find_first_not_of(" \t\r");
        auto e = line.find_last_not_of(" \t\r");
        line = b == std::string::npos ? std::string() : line.substr(b, e - b + 1);
        if (line.empty()) {
            if (!tiers.back().empty()) tiers.emplace_back();
            continue;
        }
        if (std::find(seen.begin(), seen.end(), line) != seen.end()) continue;
        seen.push_back(line);
        tiers.back().push_back(line);
    }
    if (tiers.back().empty()) tiers.pop_back();
    return tiers;
}

std::string format_tracker_list(const std::vector<std::vector<std::string>>& tiers) {
    std::string out;
    for (auto& t : tiers) {
        if (t.empty()) continue;
        if (!out.empty()) out += "\n";
        for (auto& u : t) out += u + "\n";
    }
    return out;
}

std::string encode_strings(const std::vector<std::string>& v) {
    json::array a;
    for (auto& s : v) a.emplace_back(s);
    return json::serialize(a);
}

std::optional<std::vector<std::string>> decode_strings(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (auto& x : v.get_array()) {
        if (!x.is_string()) return std::nullopt;
        out.emplace_back(x.get_string());
    }
    return out;
}

std::string encode_tiers(const std::vector<std::vector<std::string>>& tiers) {
    json::array a;
    for (auto& t : tiers) {
        json::array tier;
        for (auto& u : t) tier.emplace_back(u);
        a.emplace_back(std::move(tier));
    }
    return json::serialize(a);
}

std::optional<std::vector<std::vector<std::string>>> decode_tiers(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_array()) return std::nullopt;
    std::vector<std::vector<std::string>> out;
    for (auto& t : v.get_array()) {
        if (!t.is_array()) return std::nullopt;
        out.emplace_back();
        for (auto& u : t.get_array()) {
            if (!u.is_string()) return std::nullopt;
            out.back().emplace_back(u.get_string());
        }
    }
    return out;
}

}  // namespace pw::daemon
