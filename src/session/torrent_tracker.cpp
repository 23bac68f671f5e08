// Announcing to trackers: BEP 3 events and interval, BEP 12 tiers (the first tracker
// in a tier that answers moves to the tier's front; a tier that fails entirely falls
// back to the next one).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <optional>

#include "session/torrent.hpp"
#include "tracker/client.hpp"

namespace pw::session {

namespace asio = boost::asio;
using asio::awaitable;
using piecewise::EventType;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

tracker::AnnounceRequest Torrent::make_request(const std::string& url, tracker::Event ev) const {
    tracker::AnnounceRequest r;
    r.url = url;
    r.info_hash = meta_.info_hash;
    r.peer_id = ctx_.peer_id;
    r.port = ctx_.listen_port;
    r.uploaded = uploaded_;
    r.downloaded = downloaded_;
    r.left = left();
    r.event = ev;
    r.numwant = ev == tracker::Event::stopped ? 0 : ctx_.settings.numwant;
    r.key = ctx_.tracker_key;
    r.bind_ip = ctx_.tracker_bind_ip();
    r.bind_device = ctx_.settings.bind_interface;
    for (auto& t : trackers_)
        if (t.url == url) r.tracker_id = t.tracker_id;
    return r;
}

awaitable<bool> Torrent::announce_round(tracker::Event ev) {
    auto self = shared_from_this();
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.settings.tracker_timeout);
    const tracker::TlsSettings tls{ctx_.settings.tracker_ca_file, ctx_.settings.tracker_verify_tls};
    // BEP 12: tiers in order until one answers; with announce_to_all_tiers, the first
    // tracker that answers in every tier.
    bool any = false;
    std::size_t i = 0;
    while (i < trackers_.size()) {
        int tier = trackers_[i].tier;
        std::size_t tier_begin = i;
        bool tier_done = false;
        for (; i < trackers_.size() && trackers_[i].tier == tier && !tier_done; ++i) {
            std::string url = trackers_[i].url;
            auto req = make_request(url, ev);
            auto sources = ctx_.tracker_sources();  // named: no temporaries inside co_await (g++ 12)
            auto resp = co_await tracker::announce_from(std::move(req), std::move(sources), timeout, tls,
                                                        ctx_.proxy);
            if (stopping_) co_return false;
            auto it = std::find_if(trackers_.begin(), trackers_.end(), [&](auto& t) { return t.url == url; });
            if (it == trackers_.end()) continue;
            auto& st = it->status;
            if (!resp.failure_reason.empty()) {
                st.last_error = resp.failure_reason;
                ++ctx_.counters.announces_failed;
                emit(EventType::tracker_error, url + ": " + resp.failure_reason);
                continue;
            }
            st.last_error.clear();
            ++ctx_.counters.announces_ok;
            st.warning = resp.warning_message;
            st.peers_returned = static_cast<int>(resp.peers.size());
            st.seeders = resp.complete;
            st.leechers = resp.incomplete;
            it->announced_ok = ev != tracker::Event::stopped;
            if (!resp.tracker_id.empty()) it->tracker_id = resp.tracker_id;
            auto interval = std::max<std::int64_t>(resp.interval, std::max<std::int64_t>(resp.min_interval, 15));
            it->next_announce = Clock::now() + std::chrono::seconds(interval);
            for (auto& pa : resp.peers) {
                boost::system::error_code ec;
                auto addr = asio::ip::make_address(pa.ip, ec);
                if (!ec) add_peer(tcp::endpoint(addr, pa.port));
            }
            emit(EventType::tracker_reply, fmt::format("{}: {} peers, {} seeders, {} leechers, interval {}s", url,
                                                       resp.peers.size(), resp.complete, resp.incomplete, interval));
            // Trackers that leave the counts out of announces may give them by scrape (BEP 48).
            if ((resp.complete < 0 || resp.incomplete < 0) && ev != tracker::Event::stopped) {
                auto sc = co_await tracker::scrape(url, meta_.info_hash, make_request(url, ev).bind_ip,
                                                   timeout, tls, ctx_.settings.bind_interface, ctx_.proxy);
                if (stopping_) co_return false;
                it = std::find_if(trackers_.begin(), trackers_.end(), [&](auto& t) { return t.url == url; });
                if (it == trackers_.end()) continue;
                if (sc.failure_reason.empty()) {
                    it->status.seeders = sc.complete;
                    it->status.leechers = sc.incomplete;
                }
            }
            if (v2_swarm()) {  // a hybrid joins its v2 swarm at the same tracker
                co_await announce_v2_swarm(url, ev);
                if (stopping_) co_return false;
                it = std::find_if(trackers_.begin(), trackers_.end(), [&](auto& t) { return t.url == url; });
                if (it == trackers_.end()) continue;
            }
            // BEP 12: the tracker that answered moves to the front of its tier.
            std::rotate(trackers_.begin() + static_cast<std::ptrdiff_t>(tier_begin), it, it + 1);
            connect_more();
            any = true;
            tier_done = true;
        }
        while (i < trackers_.size() && trackers_[i].tier == tier) ++i;  // rest of an answered tier
        if (any && !ctx_.settings.announce_to_all_tiers) break;
    }
    co_return any;
}

awaitable<void> Torrent::tracker_loop() {
    auto self = shared_from_this();
    tracker::Event ev = tracker::Event::started;
    int failures = 0;
    while (!stopping_) {
        if (ev == tracker::Event::none && completed_pending_) ev = tracker::Event::completed;
        bool sent_completed = ev == tracker::Event::completed;
        bool ok = co_await announce_round(ev);
        if (stopping_) break;
        std::chrono::seconds wait;
        if (ok) {
            failures = 0;
            if (sent_completed) completed_pending_ = false;
            ev = tracker::Event::none;
            auto next = Clock::time_point::max();
            for (auto& t : trackers_)
                if (t.announced_ok) next = std::min(next, t.next_announce);
            wait = std::chrono::duration_cast<std::chrono::seconds>(next - Clock::now());
            wait = std::max(wait, std::chrono::seconds(15));
        } else {
            // Back off: 15 s, 30 s, 60 s ... up to 30 minutes; never hammer a tracker.
            wait = std::chrono::seconds(std::min(15 << std::min(failures, 7), 1800));
            ++failures;
            for (auto& t : trackers_) t.next_announce = Clock::now() + wait;
        }
        tracker_wake_.expires_after(wait);
        co_await tracker_wake_.async_wait(use_nothrow);
    }
    tracker_running_ = false;
}

awaitable<void> Torrent::announce_stopped(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    struct Pending {
        int count = 0;
        asio::steady_timer timer;
        explicit Pending(asio::io_context& io) : timer(io) {}
    };
    auto pending = std::make_shared<Pending>(ctx_.io);
    const tracker::TlsSettings tls{ctx_.settings.tracker_ca_file, ctx_.settings.tracker_verify_tls};
    for (auto& t : trackers_) {
        if (!t.announced_ok) continue;
        t.announced_ok = false;
        ++pending->count;
        auto req = make_request(t.url, tracker::Event::stopped);
        // A download that finished just before the stop still reports its completion.
        std::optional<tracker::AnnounceRequest> completed;
        if (completed_pending_) completed = make_request(t.url, tracker::Event::completed);
        std::optional<tracker::AnnounceRequest> v2_stop;  // a hybrid leaves both swarms
        if (auto sw = v2_swarm()) {
            v2_stop = req;
            v2_stop->info_hash = *sw;
        }
        asio::co_spawn(
            ctx_.io,
            [req, completed, v2_stop, timeout, pending, tls, via = ctx_.proxy,
             from = ctx_.tracker_sources()]() -> awaitable<void> {
                if (completed) co_await tracker::announce_from(*completed, from, timeout, tls, via);
                co_await tracker::announce_from(req, from, timeout, tls, via);
                if (v2_stop) co_await tracker::announce_from(*v2_stop, from, timeout, tls, via);
                if (--pending->count == 0) pending->timer.cancel();
            },
            asio::detached);
    }
    if (pending->count == 0) co_return;
    pending->timer.expires_after(timeout);
    co_await pending->timer.async_wait(use_nothrow);
}

}  // namespace pw::session
