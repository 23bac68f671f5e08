// Session's control calls (list, remove, pause/resume, recheck, reannounce, encryption,
// file priorities, sequential), rate limits, monitoring (session_stats, status_all) and
// seed limits and tracker lists: each posts to the network thread (see session_impl.hpp).
#include <algorithm>

#include "session/fd_budget.hpp"
#include "session/session_impl.hpp"

namespace piecewise {


bool Session::remove_torrent(TorrentId id, bool delete_data) {
    return on_network(*impl_, impl_->stopped, [id, delete_data](Impl& d) {
        if (!has(d, id)) return false;
        asio::co_spawn(d.io, d.remove(id, delete_data), asio::detached);
        return true;
    });
}

bool Session::pause(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        if (d.is_moving(id)) {
            d.moves[id].paused = true;  // comes back paused when the move is over
            return true;
        }
        if (auto f = d.fetches.find(id); f != d.fetches.end()) {
            d.paused_magnets[id] = {f->second->magnet(), d.fetch_params[id]};
            f->second->stop();
            d.fetches.erase(f);
            d.fetch_params.erase(id);
        } else if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            asio::co_spawn(d.io, t->second->pause(std::chrono::seconds(3)), asio::detached);
        }
        return true;
    });
}

bool Session::resume(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        asio::co_spawn(d.io, d.resume(id), asio::detached);
        return true;
    });
}

bool Session::recheck(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        asio::co_spawn(d.io, d.recheck(id), asio::detached);
        return true;
    });
}

bool Session::set_encryption(Encryption policy) {
    return on_network(*impl_, impl_->stopped, [policy](Impl& d) {
        d.ctx.settings.encryption = policy;
        return true;
    });
}

bool Session::reannounce(TorrentId id) {
    return on_network(*impl_, impl_->stopped, [id](Impl& d) {
        if (!has(d, id)) return false;
        if (auto t = d.torrents.find(id); t != d.torrents.end()) t->second->reannounce();
        return true;
    });
}

bool Session::set_file_priorities(TorrentId id, std::vector<int> priorities) {
    return on_network(*impl_, impl_->stopped, [id, priorities](Impl& d) {
        if (!has(d, id)) return false;
        if (auto t = d.torrents.find(id); t != d.torrents.end())
            t->second->set_file_priorities(priorities);
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end())
            f->second.file_priorities = priorities;
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end())
            pm->second.params.file_priorities = priorities;
        return true;
    });
}

bool Session::set_sequential(TorrentId id, bool on) {
    return on_network(*impl_, impl_->stopped, [id, on](Impl& d) {
        if (!has(d, id)) return false;
        if (auto t = d.torrents.find(id); t != d.torrents.end()) t->second->set_sequential(on);
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) f->second.sequential = on;
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end())
            pm->second.params.sequential = on;
        return true;
    });
}

// ---- Rate limits ----

bool Session::set_rate_limits(const RateLimits& limits) {
    if (auto why = pw::session::RateControl::check(limits); !why.empty()) throw Error(why);
    return on_network(*impl_, impl_->stopped, [limits](Impl& d) {
        d.rates->set(limits);
        return true;
    });
}

RateLimits Session::rate_limits() const {
    auto& d = *impl_;
    if (d.stopped) return d.ctx.settings.rate_limits;
    auto done = std::make_shared<std::promise<RateLimits>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done] { done->set_value(d.rates->get()); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return d.ctx.settings.rate_limits;
    return fut.get();
}

bool Session::set_torrent_limits(TorrentId id, std::int64_t download, std::int64_t upload, bool honors_session_limits) {
    download = std::max<std::int64_t>(download, 0);
    upload = std::max<std::int64_t>(upload, 0);
    return on_network(*impl_, impl_->stopped, [=](Impl& d) {
        auto set = [&](AddTorrentParams& p) {
            p.download_limit = download;
            p.upload_limit = upload;
            p.honors_session_limits = honors_session_limits;
        };
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_limits(download, upload, honors_session_limits);
            return true;
        }
        if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) {
            set(f->second);  // a magnet fetching its metadata: the torrent starts with them
            return true;
        }
        if (auto pm = d.paused_magnets.find(id); pm != d.paused_magnets.end()) {
            set(pm->second.params);
            return true;
        }
        return false;
    });
}

}  // namespace piecewise

// ---- Monitoring: session_stats, status_all ----

namespace piecewise {

namespace {
// Runs `fn(impl)` on the network thread and returns its result (`T{}` if stopped or slow).
template <class T, class Fn>
T read_on_network(Session::Impl& d, bool stopped, Fn fn) {
    if (stopped) return T{};
    auto done = std::make_shared<std::promise<T>>();
    auto fut = done->get_future();
    asio::post(d.io, [&d, done, fn] { done->set_value(fn(d)); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return T{};
    return fut.get();
}
}  // namespace

SessionStats Session::session_stats() const {
    return read_on_network<SessionStats>(*impl_, impl_->stopped, [](Impl& d) {
        SessionStats s;
        const auto& c = d.ctx.counters;
        s.payload_downloaded = c.payload_down;
        s.payload_uploaded = c.payload_up;
        s.hash_failures = c.hash_failures;
        s.peers_banned = c.peers_banned;
        s.announces_ok = c.announces_ok;
        s.announces_failed = c.announces_failed;
        s.pieces_picked = c.pieces_picked;
        s.pieces_passed = c.pieces_passed;
        s.hash_requests_served = c.hash_requests_served;
        s.refetched_bytes = c.refetched_bytes;
        s.failures_narrowed = c.failures_narrowed;
        s.hash_requests_rejected = c.hash_requests_rejected;
        for (auto& [id, t] : d.torrents) {
            ++s.torrents_by_state[static_cast<int>(t->status().state)];
            t->add_gauges(s);
        }
        for (auto& [id, f] : d.fetches) {
            auto st = f->status();
            ++s.torrents_by_state[static_cast<int>(st.state)];
            s.peers_connected += st.peers;
        }
        s.torrents_by_state[static_cast<int>(TorrentState::stopped)] +=
            static_cast<int>(d.paused_magnets.size());
        s.disk_queue = d.disk.queued();
        if (d.ctx.dht) {  // running (null while turned off)
            s.dht = true;
            s.dht_nodes = d.dht->routing_table_size();
            auto ds = d.dht->stats();
            s.dht_queries_sent = ds.queries_sent;
            s.dht_queries_served = ds.queries_served;
            s.dht_responses = ds.responses;
            s.dht_timeouts = ds.timeouts;
        }
        return s;
    });
}

std::vector<std::pair<TorrentId, TorrentStatus>> Session::status_all() const {
    using Out = std::vector<std::pair<TorrentId, TorrentStatus>>;
    return read_on_network<Out>(*impl_, impl_->stopped, [](Impl& d) {
        Out out;
        out.reserve(d.torrents.size() + d.fetches.size() + d.paused_magnets.size());
        for (auto& [id, t] : d.torrents) {
            out.emplace_back(id, t->status());
            t->summary_status(out.back().second);
        }
        for (auto& [id, f] : d.fetches) out.emplace_back(id, f->status());
        for (auto& [id, pm] : d.paused_magnets) out.emplace_back(id, d.paused_magnet_status(pm));
        for (auto& [id, st] : out) {
            if (auto a = d.added_time.find(id); a != d.added_time.end()) st.added_time = a->second;
            d.fill_move_status(id, st);
        }
        std::sort(out.begin(), out.end(),
                  [](auto& a, auto& b) { return a.first < b.first; });
        return out;
    });
}

// ---- Seed limits and tracker lists (torrent_seed_limits.cpp on the torrent's side) ----

namespace {
// Runs `fn` on the params of a magnet still without metadata; false if `id` is none.
template <class Fn>
bool on_magnet_params(Session::Impl& d, TorrentId id, Fn fn) {
    if (auto f = d.fetch_params.find(id); f != d.fetch_params.end()) {
        fn(f->second);
        return true;
    }
    if (auto m = d.paused_magnets.find(id); m != d.paused_magnets.end()) {
        fn(m->second.params);
        return true;
    }
    return false;
}
}  // namespace

bool Session::set_seed_limits(TorrentId id, double ratio, int idle_minutes) {
    return on_network(*impl_, impl_->stopped, [id, ratio, idle_minutes](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_seed_limits(ratio, idle_minutes);
            return true;
        }
        return on_magnet_params(d, id, [&](AddTorrentParams& p) {
            p.stop_at_seed_limit = ratio >= 0 || idle_minutes > 0;
            p.seed_ratio = ratio;
            p.seed_idle_minutes = idle_minutes;
        });
    });
}

bool Session::set_bandwidth_priority(TorrentId id, int priority) {
    priority = std::clamp(priority, -1, 1);
    return on_network(*impl_, impl_->stopped, [id, priority](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_bandwidth_priority(priority);
            return true;
        }
        return on_magnet_params(d, id, [&](AddTorrentParams& p) { p.bandwidth_priority = priority; });
    });
}

bool Session::set_peer_limit(TorrentId id, int max_peers) {
    max_peers = std::max(max_peers, 0);
    return on_network(*impl_, impl_->stopped, [id, max_peers](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_peer_limit(max_peers);
            return true;
        }
        return on_magnet_params(d, id, [&](AddTorrentParams& p) { p.max_peers = max_peers; });
    });
}

bool Session::set_peer_limits(int max_connections, int max_peers_per_torrent) {
    return on_network(*impl_, impl_->stopped, [=](Impl& d) {
        if (max_peers_per_torrent > 0) {
            d.ctx.settings.max_peers_per_torrent = max_peers_per_torrent;
            for (auto& [id, t] : d.torrents)
                if (t->own_peer_limit() == 0) t->set_peer_limit(0);
        }
        if (max_connections > 0) {
            d.ctx.settings.max_connections = max_connections;
            int budget = pw::session::connection_budget(max_connections,
                                                        pw::session::raise_fd_limit());
            d.limits.set_max_connections(budget);
            // Peers over the new cap are closed, those longest without payload first,
            // whichever torrent they belong to.
            std::vector<pw::peer::PeerConnection*> live;
            for (auto& [id, t] : d.torrents) {
                auto l = t->live_peer_list();
                live.insert(live.end(), l.begin(), l.end());
            }
            int excess = static_cast<int>(live.size()) - budget;
            if (excess > 0) {
                std::stable_sort(live.begin(), live.end(), [](auto* a, auto* b) {
                    return a->last_payload < b->last_payload;
                });
                for (int i = 0; i < excess; ++i)
                    live[std::size_t(i)]->close("session peer limit lowered");
            }
        }
        return true;
    });
}

std::vector<TorrentId> Session::take_seed_limit_stops() {
    auto out = std::make_shared<std::vector<TorrentId>>();
    on_network(*impl_, impl_->stopped, [out](Impl& d) {
        for (auto& [id, t] : d.torrents)
            if (t->take_seed_limit_stop()) out->push_back(id);
        return true;
    });
    return *out;
}

bool Session::set_trackers(TorrentId id, std::vector<std::vector<std::string>> tiers) {
    for (auto& tier : tiers)
        for (auto& url : tier)
            if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 &&
                url.rfind("udp://", 0) != 0)
                throw Error("not a tracker URL (http://, https:// or udp://): " + url.substr(0, 200));
    return on_network(*impl_, impl_->stopped, [id, tiers](Impl& d) {
        if (auto t = d.torrents.find(id); t != d.torrents.end()) {
            t->second->set_trackers(tiers);
            return true;
        }
        return on_magnet_params(d, id, [&](AddTorrentParams& p) { p.trackers = tiers; });
    });
}

}  // namespace piecewise

namespace piecewise {

std::size_t Session::check_blocklist(const std::string& list) {
    auto r = pw::filter::parse_blocklist(list);
    if (!r.error.empty()) throw Error("blocklist: " + r.error);
    if (r.ranges.empty())
        throw Error(fmt::format("blocklist: no IP range in it ({} of {} lines skipped)", r.skipped, r.lines));
    return r.ranges.size();
}

std::size_t Session::set_blocklist(const std::vector<std::string>& lists) {
    std::vector<pw::filter::Range4> v4;
    std::vector<pw::filter::Range6> v6;
    for (std::size_t i = 0; i < lists.size(); ++i) {
        auto r = pw::filter::parse_blocklist(lists[i]);
        if (!r.error.empty()) throw Error(fmt::format("blocklist {}: {}", i + 1, r.error));
        if (r.ranges.empty())
            throw Error(fmt::format("blocklist {}: no IP range in it ({} of {} lines skipped)", i + 1,
                                    r.skipped, r.lines));
        v4.insert(v4.end(), r.ranges.v4().begin(), r.ranges.v4().end());
        v6.insert(v6.end(), r.ranges.v6().begin(), r.ranges.v6().end());
    }
    std::shared_ptr<const pw::filter::IpRanges> ranges;
    if (!lists.empty()) ranges = std::make_shared<const pw::filter::IpRanges>(std::move(v4), std::move(v6));
    std::size_t n = ranges ? ranges->size() : 0;
    on_network(*impl_, impl_->stopped, [ranges](Impl& d) {
        d.ctx.blocklist = ranges;
        // Connected peers the new list blocks are closed now, magnet fetches' ones too.
        for (auto& [id, t] : d.torrents)
            for (auto* p : t->live_peer_list())
                if (d.ctx.blocked(p->peer_key.address())) p->close("blocked by the IP blocklist");
        for (auto& [id, f] : d.fetches) f->close_blocked();
        return true;
    });
    return n;
}

bool Session::set_cache_bytes(std::int64_t bytes) {
    if (bytes < 0) throw Error("the cache size cannot be negative");
    return on_network(*impl_, impl_->stopped, [bytes](Impl& d) {
        d.ctx.settings.cache_bytes = bytes;
        return true;
    });
}

bool Session::set_part_files(bool on) {
    return on_network(*impl_, impl_->stopped, [on](Impl& d) {
        d.ctx.settings.part_files = on;
        for (auto& [id, t] : d.torrents) t->set_part_names(on);
        return true;
    });
}

bool Session::set_pex(bool on) {
    return on_network(*impl_, impl_->stopped, [on](Impl& d) {
        d.ctx.settings.pex = on;
        return true;
    });
}

}  // namespace piecewise
