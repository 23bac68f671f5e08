#include "daemon/rpc/torrent_settings.hpp"

#include <boost/json/array.hpp>
#include <cmath>

#include "daemon/rpc/response.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;
using piecewise::TorrentId;

namespace {

double get_number(const json::value& v, std::string_view name) {
    if (v.is_double() && std::isfinite(v.get_double())) return v.get_double();
    if (v.is_int64()) return double(v.get_int64());
    if (v.is_uint64()) return double(v.get_uint64());
    throw ParamError(std::string(name) + " must be a number");
}

std::int64_t get_int(const json::value& v, std::string_view name, std::int64_t lo,
                     std::int64_t hi) {
    std::int64_t n;
    if (v.is_int64())
        n = v.get_int64();
    else if (v.is_uint64() && v.get_uint64() <= std::uint64_t(INT64_MAX))
        n = std::int64_t(v.get_uint64());
    else if (v.is_double() && v.get_double() == std::floor(v.get_double()) &&
             std::abs(v.get_double()) < 1e15)
        n = std::int64_t(v.get_double());
    else
        throw ParamError(std::string(name) + " must be an integer");
    if (n < lo || n > hi)
        throw ParamError(std::string(name) + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi));
    return n;
}

const json::array& get_array(const json::value& v, std::string_view name) {
    if (!v.is_array()) throw ParamError(std::string(name) + " must be an array");
    return v.get_array();
}

std::string tracker_url(const json::value& v, std::string_view name) {
    if (!v.is_string()) throw ParamError(std::string(name) + ": announce URLs must be strings");
    std::string u(v.get_string());
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0 && u.rfind("udp://", 0) != 0)
        throw ParamError(std::string(name) + ": not a tracker URL: " + u.substr(0, 200));
    if (u.size() > 4096) throw ParamError(std::string(name) + ": URL too long");
    return u;
}

using Tiers = std::vector<std::vector<std::string>>;

bool has_url(const Tiers& t, const std::string& url) {
    for (auto& tier : t)
        for (auto& u : tier)
            if (u == url) return true;
    return false;
}

// The tracker with `id` (its position in the flattened list); nullptr when none.
std::string* tracker_by_id(Tiers& t, std::int64_t id) {
    std::int64_t i = 0;
    for (auto& tier : t)
        for (auto& u : tier)
            if (i++ == id) return &u;
    return nullptr;
}

void set_trackers(Daemon& d, TorrentId id, const Tiers& tiers) {
    try {
        if (!d.set_trackers(id, tiers))
            throw ParamError("no torrent with id " + std::to_string(id));
    } catch (const piecewise::Error& e) {
        throw ParamError(e.what());
    }
}

std::string scrape_url(const std::string& announce) {
    // The BEP 48 convention: ".../announce" -> ".../scrape"; none otherwise.
    auto slash = announce.rfind('/');
    if (slash == std::string::npos || announce.compare(slash + 1, 8, "announce") != 0) return {};
    return announce.substr(0, slash + 1) + "scrape" + announce.substr(slash + 9);
}

std::string site_name(const std::string& url) {
    auto b = url.find("://");
    if (b == std::string::npos) return {};
    b += 3;
    auto e = url.find_first_of(":/?", b);
    return url.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

}  // namespace

std::vector<std::string> labels_param(const json::value& v) {
    std::vector<std::string> in;
    for (auto& x : get_array(v, "labels")) {
        if (!x.is_string()) throw ParamError("labels must be an array of strings");
        in.emplace_back(x.get_string());
    }
    std::string why;
    auto out = check_labels(in, why);
    if (!out) throw ParamError(why);
    return *out;
}

int bandwidth_priority_param(const json::value& v) {
    return int(get_int(v, "bandwidthPriority", -1, 1));
}

int peer_limit_param(const json::value& v, std::string_view name) {
    return int(get_int(v, name, 1, max_peer_limit));
}

bool torrent_set_setting(Daemon& d, std::string_view key, const json::value& v,
                         const std::vector<TorrentId>& ids) {
    auto for_each = [&](auto fn) {
        for (auto id : ids) {
            auto e = d.extras(id);
            if (!e) throw ParamError("no torrent with id " + std::to_string(id));
            fn(id, *e);
        }
    };
    auto seed = [&](auto change) {
        for_each([&](TorrentId id, TorrentExtras& e) {
            change(e.seed);
            if (!d.set_seed_limits(id, e.seed))
                throw ParamError("no torrent with id " + std::to_string(id));
        });
    };
    if (key == "seed_ratio_limit") {
        double r = get_number(v, "seedRatioLimit");
        if (r < 0 || r > 1e6) throw ParamError("seedRatioLimit must be between 0 and 1000000");
        seed([&](TorrentSeedLimits& s) { s.ratio = r; });
    } else if (key == "seed_ratio_mode") {
        int m = int(get_int(v, "seedRatioMode", 0, 2));
        seed([&](TorrentSeedLimits& s) { s.ratio_mode = m; });
    } else if (key == "seed_idle_limit") {
        int m = int(get_int(v, "seedIdleLimit", 0, 10 * 365 * 24 * 60));
        seed([&](TorrentSeedLimits& s) { s.idle_minutes = m; });
    } else if (key == "seed_idle_mode") {
        int m = int(get_int(v, "seedIdleMode", 0, 2));
        seed([&](TorrentSeedLimits& s) { s.idle_mode = m; });
    } else if (key == "bandwidth_priority") {
        int p = bandwidth_priority_param(v);
        for_each([&](TorrentId id, TorrentExtras&) { d.set_bandwidth_priority(id, p); });
    } else if (key == "peer_limit") {
        int n = peer_limit_param(v);
        for_each([&](TorrentId id, TorrentExtras&) { d.set_peer_limit(id, n); });
    } else if (key == "labels") {
        auto labels = labels_param(v);
        for_each([&](TorrentId id, TorrentExtras&) { d.set_labels(id, labels); });
    } else if (key == "tracker_add") {
        std::vector<std::string> urls;
        for (auto& x : get_array(v, "trackerAdd")) urls.push_back(tracker_url(x, "trackerAdd"));
        for_each([&](TorrentId id, TorrentExtras& e) {
            for (auto& u : urls)
                if (!has_url(e.trackers, u)) e.trackers.push_back({u});  // a tier of its own
            set_trackers(d, id, e.trackers);
        });
    } else if (key == "tracker_remove") {
        std::vector<std::int64_t> which;
        for (auto& x : get_array(v, "trackerRemove"))
            which.push_back(get_int(x, "trackerRemove", 0, INT32_MAX));
        for_each([&](TorrentId id, TorrentExtras& e) {
            const std::string gone = "\x01";  // marks, then removal: ids stay as given
            for (auto w : which) {
                auto* u = tracker_by_id(e.trackers, w);
                if (!u) throw ParamError("trackerRemove: no tracker with id " + std::to_string(w));
                *u = gone;
            }
            for (auto& tier : e.trackers) std::erase(tier, gone);
            std::erase_if(e.trackers, [](auto& t) { return t.empty(); });
            set_trackers(d, id, e.trackers);
        });
    } else if (key == "tracker_replace") {
        auto& a = get_array(v, "trackerReplace");
        if (a.size() % 2 != 0) throw ParamError("trackerReplace must hold pairs of id and URL");
        std::vector<std::pair<std::int64_t, std::string>> pairs;
        for (std::size_t i = 0; i < a.size(); i += 2)
            pairs.emplace_back(get_int(a[i], "trackerReplace", 0, INT32_MAX),
                               tracker_url(a[i + 1], "trackerReplace"));
        for_each([&](TorrentId id, TorrentExtras& e) {
            for (auto& [w, url] : pairs) {
                auto* u = tracker_by_id(e.trackers, w);
                if (!u) throw ParamError("trackerReplace: no tracker with id " + std::to_string(w));
                *u = url;
            }
            set_trackers(d, id, e.trackers);
        });
    } else if (key == "tracker_list") {
        if (!v.is_string()) throw ParamError("trackerList must be a string");
        auto tiers = parse_tracker_list(std::string(v.get_string()));
        for (auto& t : tiers)
            for (auto& u : t) tracker_url(json::value(u), "trackerList");
        for_each([&](TorrentId id, TorrentExtras&) { set_trackers(d, id, tiers); });
    } else {
        return false;
    }
    return true;
}

std::optional<json::value> torrent_settings_field(Dialect d, std::string_view f,
                                                  const TorrentExtras& e,
                                                  const piecewise::TorrentStatus& s,
                                                  std::int64_t now) {
    auto k = [d](std::string_view snake) { return key(d, snake, KeyStyle::camel); };
    if (f == "seed_ratio_limit") return json::value(e.seed.ratio);
    if (f == "seed_ratio_mode") return json::value(e.seed.ratio_mode);
    if (f == "seed_idle_limit") return json::value(e.seed.idle_minutes);
    if (f == "seed_idle_mode") return json::value(e.seed.idle_mode);
    if (f == "bandwidth_priority") return json::value(s.bandwidth_priority);
    if (f == "peer_limit") return json::value(s.max_peers);
    if (f == "labels") {
        json::array a;
        for (auto& l : e.labels) a.emplace_back(l);
        return json::value(std::move(a));
    }
    if (f == "tracker_list") return json::value(format_tracker_list(e.trackers));
    if (f == "trackers" || f == "tracker_stats") {
        json::array a;
        int id = 0, tier = 0;
        for (auto& t : e.trackers) {
            for (auto& url : t) {
                json::object o{{k("announce"), url},
                               {k("id"), id++},
                               {k("scrape"), scrape_url(url)},
                               {k("sitename"), site_name(url)},
                               {k("tier"), tier}};
                if (f == "tracker_stats") {
                    const piecewise::TrackerStatus* st = nullptr;
                    for (auto& x : s.trackers)
                        if (x.url == url) st = &x;
                    bool announced = st && (st->seeders >= 0 || !st->last_error.empty() ||
                                            st->peers_returned > 0);
                    bool ok = st && st->last_error.empty();
                    o[k("host")] = site_name(url);
                    o[k("has_announced")] = announced;
                    // Counts come with announces; no scrape time is kept, so none is claimed.
                    o[k("has_scraped")] = false;
                    o[k("is_backup")] = false;
                    o[k("last_announce_result")] = !announced ? ""
                                                   : ok       ? "Success"
                                                              : st->last_error;
                    o[k("last_announce_succeeded")] = announced && ok;
                    o[k("last_announce_timed_out")] = false;
                    o[k("last_announce_peer_count")] = st ? st->peers_returned : 0;
                    o[k("last_announce_start_time")] = 0;
                    o[k("last_announce_time")] = 0;
                    o[k("seeder_count")] = st ? st->seeders : -1;
                    o[k("leecher_count")] = st ? st->leechers : -1;
                    o[k("download_count")] = -1;
                    o[k("last_scrape_result")] = "";
                    o[k("last_scrape_succeeded")] = false;
                    o[k("last_scrape_timed_out")] = false;
                    o[k("last_scrape_time")] = 0;
                    o[k("last_scrape_start_time")] = 0;
                    o[k("next_scrape_time")] = 0;
                    o[k("scrape_state")] = 0;
                    // 0 inactive, 1 waiting, 2 queued, 3 active (Transmission's tr_tracker_state).
                    o[k("announce_state")] = s.paused || !st ? 0 : 1;
                    o[k("next_announce_time")] =
                        s.paused || !st ? std::int64_t(0) : now + st->next_announce_s;
                }
                a.push_back(std::move(o));
            }
            ++tier;
        }
        return json::value(std::move(a));
    }
    return std::nullopt;
}

bool session_set_seed_key(Daemon& d, std::string_view key, const json::value& v) {
    auto s = d.session_seed_limits();
    auto flag = [&](std::string_view name) {
        if (v.is_bool()) return v.get_bool();
        if (v.is_int64()) return v.get_int64() != 0;
        throw ParamError(std::string(name) + " must be a boolean");
    };
    if (key == "seed_ratio_limit") {
        double r = get_number(v, "seedRatioLimit");
        if (r < 0 || r > 1e6) throw ParamError("seedRatioLimit must be between 0 and 1000000");
        s.ratio = r;
    } else if (key == "seed_ratio_limited") {
        s.ratio_limited = flag("seedRatioLimited");
    } else if (key == "idle_seeding_limit") {
        s.idle_minutes = int(get_int(v, "idle-seeding-limit", 1, 10 * 365 * 24 * 60));
    } else if (key == "idle_seeding_limit_enabled") {
        s.idle_limited = flag("idle-seeding-limit-enabled");
    } else {
        return false;
    }
    d.set_session_seed_limits(s);
    return true;
}

void session_seed_values(Daemon& d, Dialect dialect, json::object& out) {
    auto s = d.session_seed_limits();
    out[key(dialect, "seed_ratio_limit", KeyStyle::camel)] = s.ratio;
    out[key(dialect, "seed_ratio_limited", KeyStyle::camel)] = s.ratio_limited;
    out[key(dialect, "idle_seeding_limit", KeyStyle::kebab)] = s.idle_minutes;
    out[key(dialect, "idle_seeding_limit_enabled", KeyStyle::kebab)] = s.idle_limited;
}

}  // namespace pw::daemon::rpc
