#include "daemon/rpc/methods.hpp"

#include <sys/statvfs.h>

#include <boost/beast/core/detail/base64.hpp>
#include <algorithm>
#include <boost/json/array.hpp>
#include <ctime>
#include <filesystem>
#include <set>

#include "daemon/rpc/files.hpp"
#include "daemon/rpc/move.hpp"
#include "daemon/rpc/port_test.hpp"
#include "daemon/rpc/queue_groups.hpp"
#include "daemon/rpc/response.hpp"
#include "daemon/rpc/session_paths.hpp"
#include "daemon/rpc/speed_limits.hpp"
#include "daemon/rpc/stats.hpp"
#include "daemon/rpc/torrent_fields.hpp"
#include "daemon/rpc/torrent_settings.hpp"
#include "daemon/url_fetch.hpp"

namespace pw::daemon::rpc {

namespace json = boost::json;
using piecewise::TorrentId;

namespace {

struct MethodError {
    ErrorCode code;
    std::string message;
};

[[noreturn]] void bad_params(std::string msg) {
    throw MethodError{ErrorCode::invalid_params, std::move(msg)};
}

bool get_bool(const json::object& p, const char* name, bool def) {
    auto* v = p.if_contains(name);
    if (!v) return def;
    if (v->is_bool()) return v->get_bool();
    if (v->is_int64()) return v->get_int64() != 0;  // old clients send 0/1
    bad_params(std::string(name) + " must be a boolean");
}

std::string get_string(const json::object& p, const char* name) {
    auto* v = p.if_contains(name);
    if (!v) return {};
    if (!v->is_string()) bad_params(std::string(name) + " must be a string");
    return std::string(v->get_string());
}

std::string base64_decode(std::string_view in) {
    namespace b64 = boost::beast::detail::base64;
    std::string clean;
    for (char c : in)
        if (c != '\n' && c != '\r' && c != ' ') clean += c;
    std::string out(b64::decoded_size(clean.size()), '\0');
    auto [written, read] = b64::decode(out.data(), clean.data(), clean.size());
    // decode stops at the first character outside the alphabet; padding may follow.
    for (std::size_t i = read; i < clean.size(); ++i)
        if (clean[i] != '=') bad_params("metainfo is not base64");
    out.resize(written);
    return out;
}

UrlFetchOptions url_fetch_options(const DaemonConfig& cfg) {
    UrlFetchOptions o;
    o.proxy = cfg.settings.proxy;
    o.ca_file = cfg.settings.tracker_ca_file;
    o.verify_tls = cfg.settings.tracker_verify_tls;
    o.bind_interface = cfg.settings.bind_interface;
    return o;
}

class Call {
  public:
    Call(Daemon& d, const Request& r, const std::string& session_id)
        : daemon_(d), req_(r), session_id_(session_id) {}

    // A member of the result already written as JSON text (torrent-get's "torrents"), or
    // an empty key.
    const std::string& raw_key() const { return raw_key_; }
    std::string take_raw() { return std::move(raw_); }

    json::object run(bool& close) {
        const auto& m = req_.method;
        if (m == "torrent_get") return torrent_get();
        if (m == "torrent_add") return torrent_add();
        if (m == "torrent_start") return each([&](TorrentId id) { return daemon_.start(id); });
        if (m == "torrent_start_now")  // bypasses the queue
            return each([&](TorrentId id) { return daemon_.start_now(id); });
        if (m == "torrent_stop") return each([&](TorrentId id) { return daemon_.stop(id); });
        if (m == "torrent_verify") return each([&](TorrentId id) { return daemon_.verify(id); });
        if (m == "torrent_reannounce")
            return each([&](TorrentId id) { return daemon_.reannounce(id); });
        if (m == "torrent_remove") {
            bool del = get_bool(req_.params, "delete_local_data", false);
            return each([&](TorrentId id) { return daemon_.remove(id, del); });
        }
        if (m == "session_get") return session_get();
        if (m == "session_set") return session_set();
        if (m == "session_stats") return session_stats();
        if (m == "session_close") {
            close = true;
            return {};
        }
        if (m == "free_space") return free_space();
        if (m == "torrent_set") return torrent_set();
        if (m == "port_test") return port_test_method();
        if (m == "blocklist_update") return blocklist_update();
        if (m == "torrent_set_location")
            return torrent_set_location(daemon_, req_.params, resolve_ids());
        if (m == "torrent_rename_path")
            return torrent_rename_path(daemon_, req_.params, resolve_ids());
        if (auto how = queue_move_method(m)) {
            daemon_.queue_move(*how, resolve_ids());
            return {};
        }
        if (m == "group_get") return group_get(daemon_, req_);
        if (m == "group_set") {
            group_set(daemon_, req_);
            return {};
        }
        throw MethodError{ErrorCode::method_not_found, "method not supported: " + m};
    }

    // A torrent-get field: the daemon's settings first, then the engine's status.
    std::optional<json::value> field(std::string_view f, TorrentId id,
                                     const piecewise::TorrentStatus& st, const TorrentExtras& ex,
                                     std::int64_t now) {
        if (auto v = torrent_totals_field(f, ex, st)) return v;
        if (auto v = torrent_settings_field(req_.dialect, f, ex, st, now)) return v;
        if (auto v = torrent_queue_field(daemon_, f, id, ex)) return v;
        return torrent_field(req_.dialect, f, id, st, now);
    }

  private:
    std::string k(std::string_view snake, KeyStyle st) const {
        return key(req_.dialect, snake, st);
    }

    // The torrents named by `ids` (rpc-spec.md 3.1). Unknown ids or hashes are an error.
    std::vector<TorrentId> resolve_ids(bool* recently = nullptr) {
        auto all = daemon_.list();
        auto* v = req_.params.if_contains("ids");
        if (!v) return all;
        auto known = [&](TorrentId id) {
            return std::find(all.begin(), all.end(), id) != all.end();
        };
        std::vector<TorrentId> out;
        auto add_one = [&](const json::value& x) {
            if (x.is_int64() || x.is_uint64()) {
                auto n = x.to_number<std::int64_t>();
                if (n < 0 || n > INT32_MAX || !known(TorrentId(n)))
                    bad_params("no torrent with id " + std::to_string(n));
                out.push_back(TorrentId(n));
            } else if (x.is_string()) {
                std::string h(x.get_string());
                for (auto& c : h)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                for (auto& [id, st] : all_status())
                    if (st.info_hash == h) {
                        out.push_back(id);
                        return;
                    }
                bad_params("no torrent with hash " + std::string(x.get_string()).substr(0, 64));
            } else {
                bad_params(
                    "ids must be a number, an array of numbers or hash strings, or "
                    "\"recently-active\"");
            }
        };
        if (v->is_string() &&
            (v->get_string() == "recently-active" || v->get_string() == "recently_active")) {
            if (recently) *recently = true;
            auto t = static_cast<std::int64_t>(std::time(nullptr));
            for (auto& [id, st] : all_status())
                if (st.peers > 0 || st.down_rate > 0 || st.up_rate > 0 ||
                    st.state == piecewise::TorrentState::checking || t - st.added_time < 60)
                    out.push_back(id);
            return out;
        }
        if (v->is_array()) {
            if (v->get_array().size() > 100000) bad_params("too many ids");
            for (auto& x : v->get_array()) add_one(x);
        } else {
            add_one(*v);
        }
        return out;
    }

    // Every torrent's summary status, read once per call (one round trip to the network
    // thread for all of them: a list view's torrent-get of 1,000 torrents stays fast).
    // Sorted by id (Session::status_all's order).
    using StatusList = std::vector<std::pair<TorrentId, piecewise::TorrentStatus>>;
    const StatusList& all_status() {
        if (!all_) all_ = daemon_.status_all();
        return *all_;
    }
    const piecewise::TorrentStatus* summary_status(TorrentId id) {
        auto& all = all_status();
        auto it = std::lower_bound(all.begin(), all.end(), id,
                                   [](const auto& e, TorrentId x) { return e.first < x; });
        return it != all.end() && it->first == id ? &it->second : nullptr;
    }
    std::optional<StatusList> all_;

    template <class Fn>
    json::object each(Fn fn) {
        for (auto id : resolve_ids())
            if (!fn(id)) bad_params("no torrent with id " + std::to_string(id));
        return {};
    }

    json::object torrent_get() {
        auto* fv = req_.params.if_contains("fields");
        if (!fv || !fv->is_array()) bad_params("fields must be an array of strings");
        std::vector<std::string> fields;
        for (auto& f : fv->get_array()) {
            if (!f.is_string()) bad_params("fields must be an array of strings");
            fields.emplace_back(f.get_string());
        }
        bool table = false;
        if (auto* fmt = req_.params.if_contains("format")) {
            if (!fmt->is_string() ||
                (fmt->get_string() != "table" && fmt->get_string() != "objects"))
                bad_params("format must be \"objects\" or \"table\"");
            table = fmt->get_string() == "table";
        }
        bool recently = false;
        auto ids = resolve_ids(&recently);
        auto now = static_cast<std::int64_t>(std::time(nullptr));
        // Unknown names are left out (as Transmission does); the table's header holds only
        // the names served, so its rows stay aligned.
        std::vector<std::string> served;
        // Fields kept by the daemon rather than the engine's status.
        auto field = [&](const std::string& f, TorrentId id, const piecewise::TorrentStatus& st,
                         const TorrentExtras& ex, std::int64_t t) -> std::optional<json::value> {
            if (auto v = this->field(f, id, st, ex, t)) return v;
            if (is_torrent_speed_field(f))
                return torrent_speed_field(f, daemon_.torrent_speed_limits(id).value_or(TorrentSpeedLimits{}));
            return std::nullopt;
        };
        {
            piecewise::TorrentStatus probe;
            std::set<std::string> seen;
            for (auto& f : fields)
                if (!seen.count(f) && field(f, 0, probe, TorrentExtras{}, now)) {
                    served.push_back(f);
                    seen.insert(f);
                }
        }
        std::vector<std::string> names;  // the answer's keys, in the dialect's style
        bool detailed = false;
        for (auto& f : served) {
            // torrent-get keys are camelCase in the legacy dialect, except these three
            // (rpc-spec-legacy-4.0.6.md 3.3).
            bool kebab = f == "file_count" || f == "peer_limit" || f == "primary_mime_type";
            names.push_back(k(f, kebab ? KeyStyle::kebab : KeyStyle::camel));
            detailed = detailed || needs_detailed_status(f);
        }
        // The torrents are written as JSON text one by one (a list view's 1,000 torrents x
        // 26 fields would otherwise be built as one tree first, then copied into text).
        std::string text = "[";
        auto append = [&](const json::value& v) {
            if (text.size() > 1) text += ',';
            append_json(text, v);
        };
        if (table) {
            json::array header;
            for (auto& n : names) header.push_back(json::string(n));
            append(header);
        }
        std::optional<piecewise::TorrentStatus> one;
        bool reserved = false;
        for (auto id : ids) {
            const piecewise::TorrentStatus* st = nullptr;
            if (detailed) {
                one = daemon_.status(id);
                st = one ? &*one : nullptr;
            } else {
                st = summary_status(id);
            }
            if (!st) continue;  // removed meanwhile
            auto ex = daemon_.extras(id).value_or(TorrentExtras{});
            if (table) {
                json::array row;
                row.reserve(served.size());
                for (auto& f : served) row.push_back(*field(f, id, *st, ex, now));
                append(row);
            } else {
                json::object o(served.size());
                for (std::size_t i = 0; i < served.size(); ++i)
                    o.emplace(names[i], *field(served[i], id, *st, ex, now));
                append(o);
            }
            if (!reserved) {
                // Room for all, guessed from the first with a quarter more (later torrents'
                // ids, names and figures can be longer), and the envelope. Growing the text
                // past the guess would copy it into a buffer twice its size while the old
                // one is still held: a peak of three times the answer in the daemon's memory.
                // Room reserved and never written is never touched, so costs no memory.
                reserved = true;
                text.reserve(text.size() * (ids.size() + 1) * 5 / 4 + 256);
            }
        }
        text += ']';
        raw_key_ = "torrents";
        raw_ = std::move(text);
        json::object out;
        if (recently) {
            json::array removed;
            for (auto id : daemon_.recently_removed()) removed.push_back(id);
            out["removed"] = std::move(removed);
        }
        return out;
    }

    json::object torrent_add() {
        const auto& p = req_.params;
        // Options piecewise does not have yet are refused rather than ignored.
        for (const char* unsupported : {"sequential_download_from_piece"})
            if (p.contains(unsupported))
                bad_params(k(unsupported, KeyStyle::kebab) + " is not supported yet");
        AddRequest a;
        a.filename = get_string(p, "filename");
        std::string meta64 = get_string(p, "metainfo");
        if (!meta64.empty()) a.metainfo = base64_decode(meta64);
        if (a.filename.empty() && a.metainfo.empty())
            bad_params("torrent-add needs filename or metainfo");
        a.download_dir = get_string(p, "download_dir");
        a.paused = get_bool(p, "paused", !daemon_.start_added_torrents());
        std::string cookies = get_string(p, "cookies");
        if (auto why = check_cookies(cookies); !why.empty()) bad_params(why);
        if (a.metainfo.empty() && is_http_url(a.filename)) {
            // Fetched here, on the RPC worker: bounded in time and size (url_fetch.hpp).
            try {
                auto o = url_fetch_options(daemon_.config());
                o.cookies = cookies;
                a.metainfo = fetch_torrent_url(a.filename, o);
            } catch (const piecewise::Error& e) {
                throw MethodError{ErrorCode::http_error, e.what()};
            }
            a.filename.clear();
        }
        a.files = file_change(p);
        if (auto* l = p.if_contains("labels")) a.labels = labels_param(*l);
        if (auto* v = p.if_contains("bandwidth_priority")) a.bandwidth_priority = bandwidth_priority_param(*v);
        if (auto* v = p.if_contains("peer_limit")) a.peer_limit = peer_limit_param(*v);
        AddResult r;
        try {
            r = daemon_.add(a);
        } catch (const piecewise::Error& e) {
            bad_params(e.what());
        }
        json::object t{{"id", r.id}, {"name", r.name}, {k("hash_string", KeyStyle::camel), r.hash}};
        json::object out;
        out[k(r.duplicate ? "torrent_duplicate" : "torrent_added", KeyStyle::kebab)] = std::move(t);
        return out;
    }

    json::object session_values() {
        const auto& cfg = daemon_.config();
        const auto& s = cfg.settings;
        auto kk = [&](std::string_view n) { return k(n, KeyStyle::kebab); };
        json::object o;
        o[kk("version")] = "piecewise " PW_VERSION;
        o[kk("rpc_version")] = 17;
        o[kk("rpc_version_minimum")] = 14;
        o[kk("rpc_version_semver")] = "5.3.0";
        o[kk("session_id")] = session_id_;
        o[kk("config_dir")] = cfg.state_dir;
        o[kk("download_dir")] = cfg.download_dir;
        o[kk("peer_port")] = daemon_.peer_port();
        auto random = daemon_.peer_port_random();
        o[kk("peer_port_random_on_start")] = random.on_start;
        o[kk("peer_port_random_low")] = random.low;
        o[kk("peer_port_random_high")] = random.high;
        o[kk("port_forwarding_enabled")] = s.natpmp || s.upnp;  // NAT-PMP or UPnP IGD
        // Neither the DHT nor uTP runs while a proxy is set (they would not go through it).
        const bool udp_runs = s.proxy.empty();
        o[kk("dht_enabled")] = s.dht && udp_runs;
        o[kk("pex_enabled")] = s.pex;
        o[kk("lpd_enabled")] = s.lsd;
        o[kk("utp_enabled")] = s.utp && udp_runs;
        // Transmission's names for the three policies.
        o[kk("encryption")] = s.encryption == piecewise::Encryption::require   ? "required"
                              : s.encryption == piecewise::Encryption::disable ? "tolerated"
                                                                              : "preferred";
        o[kk("peer_limit_per_torrent")] = s.max_peers_per_torrent;
        o[kk("peer_limit_global")] = s.max_connections;
        o[kk("cache_size_mb")] = s.cache_bytes >> 20;
        o[kk("start_added_torrents")] = daemon_.start_added_torrents();
        o[kk("trash_original_torrent_files")] = daemon_.trash_original_torrent_files();
        put_session_speed_fields(req_.dialect, o, daemon_.speed_limits());
        auto bl = daemon_.blocklist();
        o[kk("blocklist_enabled")] = bl.enabled;
        o[kk("blocklist_url")] = bl.url;
        o[kk("blocklist_size")] = static_cast<std::int64_t>(bl.size);
        session_path_values(daemon_, req_.dialect, o);
        put_session_queue_fields(req_.dialect, o, daemon_.queue_settings());
        session_seed_values(daemon_, req_.dialect, o);
        return o;
    }

    json::object session_get() {
        auto all = session_values();
        auto* fv = req_.params.if_contains("fields");
        if (!fv) return all;
        if (!fv->is_array()) bad_params("fields must be an array of strings");
        json::object out;
        for (auto& f : fv->get_array()) {
            if (!f.is_string()) bad_params("fields must be an array of strings");
            for (auto st : {KeyStyle::kebab, KeyStyle::camel})
                if (auto* v = all.if_contains(k(f.get_string(), st)))
                    out[k(f.get_string(), st)] = *v;
        }
        return out;
    }

    json::object session_set() {
        std::optional<SpeedLimits> speed;
        bool speed_set = false;
        auto queue = daemon_.queue_settings();
        bool queue_set = false;
        int peer_global = 0, peer_per_torrent = 0;
        int peer_port = 0;
        std::optional<PeerPortRandom> random;
        auto port_param = [&](const json::value& v, std::string_view snake) {
            auto name = k(snake, KeyStyle::kebab);
            if (!v.is_int64()) bad_params(name + " must be an integer");
            if (v.get_int64() < 1 || v.get_int64() > 65535) bad_params(name + " must be between 1 and 65535");
            return static_cast<int>(v.get_int64());
        };
        for (auto& [name, v] : req_.params) {
            if (set_session_queue_key(name, v, queue)) {
                queue_set = true;
                continue;
            }
            if (!speed) speed = daemon_.speed_limits();
            try {
                if (set_session_speed_key(req_.dialect, name, v, *speed)) {
                    speed_set = true;
                    continue;
                }
            } catch (const SpeedParamError& e) {
                bad_params(e.what());
            }
            if (session_set_seed_key(daemon_, name, v)) continue;
            if (session_set_path_key(daemon_, name, v)) continue;
            if (name == "download_dir") {
                if (!v.is_string()) bad_params("download-dir must be a string");
                try {
                    daemon_.set_download_dir(std::string(v.get_string()));
                } catch (const piecewise::Error& e) {
                    bad_params(e.what());
                }
            } else if (name == "peer_limit_global") {
                peer_global = peer_limit_param(v, "peer-limit-global");
            } else if (name == "peer_limit_per_torrent") {
                peer_per_torrent = peer_limit_param(v, "peer-limit-per-torrent");
            } else if (name == "start_added_torrents") {
                daemon_.set_start_added_torrents(get_bool(req_.params, "start_added_torrents", true));
            } else if (name == "cache_size_mb") {
                if (!v.is_int64() || v.get_int64() < 0 || v.get_int64() > max_cache_mb)
                    bad_params("cache-size-mb must be an integer from 0 to " + std::to_string(max_cache_mb));
                daemon_.set_cache_mb(static_cast<int>(v.get_int64()));
            } else if (name == "peer_port") {
                peer_port = port_param(v, "peer_port");
            } else if (name == "peer_port_random_on_start" || name == "peer_port_random_low" ||
                       name == "peer_port_random_high") {
                if (!random) random = daemon_.peer_port_random();
                if (name == "peer_port_random_on_start")
                    random->on_start = get_bool(req_.params, "peer_port_random_on_start", false);
                else if (name == "peer_port_random_low")
                    random->low = port_param(v, "peer_port_random_low");
                else
                    random->high = port_param(v, "peer_port_random_high");
            } else if (name == "trash_original_torrent_files") {
                daemon_.set_trash_original_torrent_files(
                    get_bool(req_.params, "trash_original_torrent_files", false));
            } else if (name == "blocklist_url") {
                if (!v.is_string()) bad_params("blocklist-url must be a string");
                std::string url(v.get_string());
                if (!url.empty() && !is_http_url(url))
                    bad_params("blocklist-url must be an http:// or https:// URL");
                if (url.size() > 4096) bad_params("blocklist-url is longer than 4096 bytes");
                daemon_.set_blocklist_url(url);
            } else if (name == "blocklist_enabled") {
                try {
                    daemon_.set_blocklist_enabled(get_bool(req_.params, "blocklist_enabled", true));
                } catch (const piecewise::Error& e) {
                    throw MethodError{ErrorCode::internal_error, e.what()};
                }
            } else if (name == "pex_enabled") {
                daemon_.set_pex(get_bool(req_.params, "pex_enabled", true));
            } else if (name == "port_forwarding_enabled") {
                try {
                    daemon_.set_port_forwarding(get_bool(req_.params, "port_forwarding_enabled", false));
                } catch (const piecewise::Error& e) {
                    throw MethodError{ErrorCode::internal_error, std::string("port-forwarding-enabled: ") + e.what()};
                }
            } else if (name == "dht_enabled" || name == "lpd_enabled" || name == "utp_enabled") {
                const std::string key(name);
                bool on = get_bool(req_.params, key.c_str(), true);
                try {
                    if (name == "dht_enabled") daemon_.set_dht(on);
                    else if (name == "lpd_enabled") daemon_.set_lsd(on);
                    else daemon_.set_utp(on);
                } catch (const piecewise::Error& e) {
                    throw MethodError{ErrorCode::internal_error, k(name, KeyStyle::kebab) + ": " + e.what()};
                }
            } else if (name == "encryption") {
                if (!v.is_string()) bad_params("encryption must be a string");
                std::string_view e = v.get_string();
                if (e == "required")
                    daemon_.set_encryption(piecewise::Encryption::require);
                else if (e == "preferred")
                    daemon_.set_encryption(piecewise::Encryption::prefer);
                else if (e == "tolerated")
                    daemon_.set_encryption(piecewise::Encryption::disable);
                else
                    bad_params("encryption must be \"required\", \"preferred\" or \"tolerated\"");
            } else {
                bad_params("session-set: " + k(name, KeyStyle::kebab) + " is not supported");
            }
        }
        if (speed_set) daemon_.set_speed_limits(*speed);
        if (queue_set) daemon_.set_queue_settings(queue);
        if (peer_global || peer_per_torrent) daemon_.set_peer_limits(peer_global, peer_per_torrent);
        if (random) {
            try {
                daemon_.set_peer_port_random(*random);
            } catch (const piecewise::Error& e) {
                bad_params(e.what());
            }
        }
        if (peer_port) {
            try {
                daemon_.set_peer_port(static_cast<std::uint16_t>(peer_port));
            } catch (const piecewise::Error& e) {
                throw MethodError{ErrorCode::internal_error, std::string("peer-port: ") + e.what()};
            }
        }
        return {};
    }

    void torrent_set_speed(const std::vector<TorrentId>& ids) {
        TorrentSpeedLimits probe;
        bool any = false;
        try {
            for (auto& [name, v] : req_.params) any |= set_torrent_speed_key(req_.dialect, name, v, probe);
        } catch (const SpeedParamError& e) {
            bad_params(e.what());
        }
        if (!any) return;
        for (auto id : ids) {
            auto l = daemon_.torrent_speed_limits(id);
            if (!l) continue;  // removed meanwhile
            for (auto& [name, v] : req_.params) set_torrent_speed_key(req_.dialect, name, v, *l);
            daemon_.set_torrent_speed_limits(id, *l);
        }
    }

    // blocklist-update: fetches blocklist-url, replaces the downloaded list (kept in the
    // state directory) and answers the number of rules in force.
    json::object blocklist_update() {
        auto bl = daemon_.blocklist();
        if (bl.url.empty()) throw MethodError{ErrorCode::invalid_params, "blocklist-update: blocklist-url is not set"};
        auto o = url_fetch_options(daemon_.config());
        o.max_bytes = max_blocklist_download;
        o.timeout = std::chrono::seconds(60);
        std::size_t n = 0;
        try {
            std::string data = fetch_url(bl.url, o);
            n = daemon_.update_blocklist(data);
        } catch (const piecewise::Error& e) {
            throw MethodError{ErrorCode::http_error, std::string("blocklist-update: ") + e.what()};
        }
        json::object out;
        out[k("blocklist_size", KeyStyle::kebab)] = static_cast<std::int64_t>(n);
        return out;
    }

    json::object session_stats() { return session_stats_result(req_.dialect, daemon_.stats()); }

    json::object free_space() {
        std::string path = get_string(req_.params, "path");
        if (path.empty() || !std::filesystem::path(path).is_absolute())
            bad_params("path must be an absolute path");
        struct statvfs sv {};
        if (::statvfs(path.c_str(), &sv) != 0)
            throw MethodError{ErrorCode::internal_error, path + ": " + std::strerror(errno)};
        json::object o;
        o["path"] = path;
        o[k("size_bytes", KeyStyle::kebab)] =
            static_cast<std::int64_t>(sv.f_bavail) * std::int64_t(sv.f_frsize);
        o["total_size"] = static_cast<std::int64_t>(sv.f_blocks) * std::int64_t(sv.f_frsize);
        return o;
    }

    // port-test: a local check of the peer listener (see port_test.hpp).
    json::object port_test_method() {
        std::optional<std::string> proto;
        if (auto* v = req_.params.if_contains("ip_protocol")) {
            if (!v->is_string()) bad_params("ip_protocol must be a string");
            proto = std::string(v->get_string());
        }
        PortTestResult r;
        try {
            const auto& st = daemon_.config().settings;
            r = port_test(st.listen, daemon_.peer_port(), proto, std::chrono::seconds(2), st.listen2);
        } catch (const ParamError& e) {
            bad_params(e.what());
        }
        json::object o;
        o[k("port_is_open", KeyStyle::kebab)] = r.port_is_open;
        o[k("ip_protocol", KeyStyle::kebab)] = r.ip_protocol;
        return o;
    }

    FileChange file_change(const json::object& p, std::set<std::string>* used = nullptr) {
        std::set<std::string> mine;
        try {
            auto c = parse_file_change(p, mine);
            if (used) used->insert(mine.begin(), mine.end());
            return c;
        } catch (const std::invalid_argument& e) {
            bad_params(e.what());
        }
    }

    // torrent-set: each group of keys is applied by its own function; a key none of them
    // reads is refused by name.
    json::object torrent_set() {
        auto ids = resolve_ids();
        std::set<std::string> used{"ids"};
        auto files = file_change(req_.params, &used);
        for (auto& [name, v] : req_.params) {
            if (used.count(std::string(name)) || is_torrent_speed_field(name)) continue;
            // Seed limits, labels, trackers (applied here, key by key).
            if (torrent_set_setting(daemon_, name, v, ids)) continue;
            if (torrent_set_location_key(daemon_, name, v, ids)) continue;
            if (torrent_set_queue_key(daemon_, name, v, ids)) continue;
            bad_params("torrent-set: " + k(name, KeyStyle::camel) + " is not supported");
        }
        torrent_set_files(ids, files);
        torrent_set_speed(ids);
        return {};
    }

    // files-wanted/-unwanted, priority-high/-normal/-low, sequential download.
    void torrent_set_files(const std::vector<TorrentId>& ids, const FileChange& c) {
        if (!c.files() && !c.sequential) return;
        for (auto id : ids) {
            try {
                if (!daemon_.set_files(id, c))
                    bad_params("no torrent with id " + std::to_string(id));
            } catch (const piecewise::Error& e) {
                bad_params(e.what());
            }
        }
    }

    Daemon& daemon_;
    const Request& req_;
    const std::string& session_id_;
    std::string raw_key_;
    std::string raw_;
};

}  // namespace

std::string Methods::handle(std::string_view body) {
    auto parsed = parse_request(body);
    if (auto* e = std::get_if<RpcError>(&parsed)) return encode_error(*e);
    auto& req = std::get<Request>(parsed);
    std::string out;
    bool close = false;
    try {
        Call call(daemon_, req, session_id);
        auto result = call.run(close);
        out = call.raw_key().empty()
                  ? encode_success(req.dialect, req.id, std::move(result))
                  : encode_success(req.dialect, req.id, std::move(result), call.raw_key(),
                                   call.take_raw());
    } catch (const MethodError& e) {
        out = encode_error(req.dialect, req.id, e.code, e.message);
    } catch (const ParamError& e) {
        out = encode_error(req.dialect, req.id, ErrorCode::invalid_params, e.what());
    } catch (const std::exception& e) {
        // Store or engine failure: reported, the daemon keeps serving.
        out = encode_error(req.dialect, req.id, ErrorCode::internal_error, e.what());
    }
    if (close) close_requested_ = true;
    return req.notification ? std::string() : out;
}

}  // namespace pw::daemon::rpc
