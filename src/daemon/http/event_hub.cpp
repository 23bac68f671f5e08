#include "daemon/http/event_hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>

#include "daemon/rpc/torrent_fields.hpp"

namespace pw::daemon::http {

namespace asio = boost::asio;
namespace json = boost::json;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

const std::vector<std::string>& event_fields() {
    // What the list and the status bar show; a name torrent_fields does not serve (yet)
    // is simply absent from the objects.
    static const std::vector<std::string> f = {"id",
                                               "name",
                                               "hash_string",
                                               "status",
                                               "error",
                                               "error_string",
                                               "total_size",
                                               "size_when_done",
                                               "left_until_done",
                                               "percent_done",
                                               "rate_download",
                                               "rate_upload",
                                               "eta",
                                               "upload_ratio",
                                               "uploaded_ever",
                                               "downloaded_ever",
                                               "peers_connected",
                                               "added_date",
                                               "download_dir",
                                               "recheck_progress",
                                               "metadata_percent_complete",
                                               "is_finished",
                                               "labels",
                                               "queue_position"};
    return f;
}

void EventHub::deliver(Client& c, const std::shared_ptr<const std::string>& frame) {
    if (!c.queue.push(frame) && c.stream) {
        // Fallen behind by queue_limit bytes: drop it now, even mid-write.
        boost::system::error_code ec;
        c.stream->socket().close(ec);
    }
    c.wake.cancel();
}

asio::awaitable<void> EventHub::serve(boost::beast::tcp_stream& stream, std::string head) {
    auto c = std::make_shared<Client>(io_);
    c->stream = &stream;
    clients_.push_back(c);
    struct Leave {
        std::vector<std::shared_ptr<Client>>& all;
        std::shared_ptr<Client> me;
        ~Leave() { std::erase(all, me); }
    } leave{clients_, c};
    if (!ticking_) {
        ticking_ = true;
        asio::co_spawn(io_, tick_loop(), asio::detached);
    } else if (tick_timer_) {
        tick_timer_->cancel();  // its snapshot now, not in up to a second
    }
    head += "retry: 3000\n\n";
    stream.expires_after(std::chrono::seconds(10));
    auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), use_nothrow);
    if (hec) co_return;
    // A client sends nothing after its request: a read completing means it hung up, and
    // its slot is freed now rather than at the next write. (On the socket, not the
    // stream: the stream's write deadline must not end this read.)
    stream.socket().async_read_some(asio::buffer(c->sink),
                                    [c](boost::system::error_code, std::size_t) {
                                        c->gone = true;
                                        c->wake.cancel();
                                    });
    for (;;) {
        if (c->gone) co_return;
        while (auto frame = c->queue.front()) {
            if (c->queue.overflowed()) co_return;
            stream.expires_after(std::chrono::seconds(30));  // a stuck reader is dropped
            auto [ec, n] = co_await asio::async_write(stream, asio::buffer(*frame), use_nothrow);
            if (ec) co_return;
            c->queue.pop();
        }
        if (c->queue.overflowed()) co_return;
        c->wake.expires_after(std::chrono::seconds(15));
        auto [wec] = co_await c->wake.async_wait(use_nothrow);
        if (!wec && c->queue.empty())
            c->queue.push(std::make_shared<const std::string>(events::sse_comment("ping")));
    }
}

asio::awaitable<void> EventHub::tick_loop() {
    asio::steady_timer timer(io_);
    tick_timer_ = &timer;
    struct Unset {
        asio::steady_timer*& p;
        ~Unset() { p = nullptr; }
    } unset{tick_timer_};
    while (!clients_.empty()) {
        bool want_snapshot = false;
        for (auto& c : clients_) want_snapshot = want_snapshot || c->needs_snapshot;
        std::shared_ptr<const std::string> update, snapshot;
        // The engine and the JSON work run on the RPC worker, never on this thread.
        co_await asio::post(pool_, asio::use_awaitable);
        {
            auto all = daemon_.status_all();
            auto now = static_cast<std::int64_t>(std::time(nullptr));
            events::TorrentDiff::Snapshot next;
            double down = 0, up = 0;
            int active = 0, paused = 0;
            for (auto& [id, st] : all) {
                json::object o;
                for (auto& f : event_fields())
                    if (auto v = rpc::torrent_field(rpc::Dialect::jsonrpc, f, id, st, now))
                        o[f] = std::move(*v);
                next.emplace(id, std::move(o));
                down += st.down_rate;
                up += st.up_rate;
                // Queued torrents count as active, as in session-stats (Transmission's way).
                bool stopped = st.paused || st.state == piecewise::TorrentState::stopped;
                (stopped && !st.queued ? paused : active)++;
            }
            json::object stats{{"download_speed", static_cast<std::int64_t>(down)},
                               {"upload_speed", static_cast<std::int64_t>(up)},
                               {"torrent_count", static_cast<std::int64_t>(all.size())},
                               {"active_torrent_count", active},
                               {"paused_torrent_count", paused}};
            auto stats_text = json::serialize(stats);
            auto delta = diff_.update(std::move(next));
            bool stats_changed = stats_text != last_stats_;
            last_stats_ = stats_text;
            if (!delta.empty() || stats_changed) {
                json::object u{{"added", std::move(delta.added)},
                               {"changed", std::move(delta.changed)},
                               {"removed", std::move(delta.removed)},
                               {"stats", stats}};
                update = std::make_shared<const std::string>(
                    events::sse_frame("update", json::serialize(u)));
            }
            if (want_snapshot) {
                json::object s{{"torrents", diff_.all()}, {"stats", std::move(stats)}};
                snapshot = std::make_shared<const std::string>(
                    events::sse_frame("snapshot", json::serialize(s)));
            }
        }
        co_await asio::post(io_, asio::use_awaitable);
        ++ticks_;
        bool pending = false;
        for (auto& c : clients_) {
            if (c->needs_snapshot) {
                if (!snapshot) {
                    pending = true;  // joined while this tick ran: the next one, at once
                    continue;
                }
                c->needs_snapshot = false;
                deliver(*c, snapshot);
            } else if (update) {
                deliver(*c, update);
            }
        }
        if (pending) continue;
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(use_nothrow);
    }
    // Nobody listens: forget the state, a later client starts from a fresh snapshot.
    co_await asio::post(pool_, asio::use_awaitable);
    diff_ = events::TorrentDiff{};
    last_stats_.clear();
    co_await asio::post(io_, asio::use_awaitable);
    ticking_ = false;
    if (!clients_.empty()) {  // joined during the reset
        ticking_ = true;
        asio::co_spawn(io_, tick_loop(), asio::detached);
    }
}

}  // namespace pw::daemon::http
