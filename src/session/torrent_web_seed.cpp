// Web seeds (BEP 19): HTTP mirrors as extra, permanently unchoked seeds.
//
// Each web seed runs up to 3 connections (coroutines on the network thread), each
// fetching one run at a time: the missing blocks of a partial piece nobody is fetching,
// or else a run of whole pieces no peer has started (the picker's best candidate,
// extended over the following candidates up to 4 MiB, or 1 MiB while peers are
// sending). So web seeds and peers never fetch the same block outside the endgame, where
// peers may duplicate a web seed's blocks as they duplicate each other's. A run's bytes
// are planned into ranged GETs per file (swarm/web_seed_plan.hpp) and land block by
// block in the same PartialPiece buffers and incremental hashes that peers fill, so
// verification, writing and blame are the peers' (torrent_download.cpp): a failed
// piece names the web seed's key among its senders (session/web_seed_state.hpp).
//
// Back-off: a failed request waits 5 s doubling to 5 min; 503/429 waits Retry-After
// (else 30 s); 404/410 waits 5 min. A banned web seed is closed and never used again.
#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "session/torrent.hpp"
#include "swarm/web_seed_plan.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::EventType;
using piecewise::TorrentState;

namespace {
constexpr std::int64_t max_run_bytes = 4 << 20;
constexpr std::int64_t short_run_bytes = 1 << 20;
constexpr auto busy_default = std::chrono::seconds(30);
constexpr auto not_found_wait = std::chrono::minutes(5);
constexpr auto error_wait_max = std::chrono::minutes(5);
constexpr int connections_per_seed = 3;
constexpr auto request_idle = std::chrono::seconds(20);
constexpr std::int64_t request_min_rate = 8192;
}  // namespace

// What one connection is fetching: pieces [first, first + count) and, per piece, the
// blocks it holds a request on (PartialPiece::requests) and has not delivered yet.
struct Torrent::WebRun {
    int first = -1;
    int count = 0;
    std::vector<std::vector<bool>> claimed;
    std::int64_t begin = 0, end = 0;  // torrent bytes from the first to the last claimed block
};

void Torrent::init_web_seeds() {
    int i = 0;
    for (const auto& url : meta_.url_list) {
        auto ws = std::make_shared<WebSeedState>();
        ws->url = url;
        ws->index = i;
        ws->key = web_seed_key(i++);
        known_[ws->key].self = true;  // never dialed as a peer
        web_seeds_.push_back(std::move(ws));
    }
}

bool Torrent::web_seed_banned(const WebSeedState& ws) const {
    auto it = known_.find(ws.key);
    return it != known_.end() && it->second.banned;
}

std::string Torrent::web_seed_name(const tcp::endpoint& key) const {
    if (!is_web_seed_key(key)) return {};
    for (const auto& ws : web_seeds_)
        if (ws->key == key) return "web seed " + ws->url;
    return {};
}

void Torrent::web_seed_tick() {
    if (web_seeds_.empty() || stopping_ || state_ != TorrentState::downloading) return;
    auto now = Clock::now();
    for (auto& ws : web_seeds_) {
        if (web_seed_banned(*ws)) {
            if (!ws->clients.empty()) {
                for (auto& c : ws->clients) c->close();
                ws->clients.clear();
            }
            continue;
        }
        if (ws->retry_at > now) continue;
        // co_spawn may run the new connection inline up to its first wait, and one with
        // nothing to fetch ends there: count the spawns, not `active`.
        for (int n = connections_per_seed - ws->active; n > 0; --n) {
            peer::WebSeedLimits lim;
            lim.idle = request_idle;
            lim.min_rate = request_min_rate;
            lim.proxy = ctx_.proxy;
            lim.bind = ctx_.second_listener ? boost::asio::ip::address() : ctx_.bind_address;
            lim.device = ctx_.settings.bind_interface;
            auto client = std::make_shared<peer::WebSeedClient>(
                ctx_.io.get_executor(),
                tracker::TlsSettings{ctx_.settings.tracker_ca_file,
                                     ctx_.settings.tracker_verify_tls},
                lim);
            ws->clients.push_back(client);
            ++ws->active;
            asio::co_spawn(ctx_.io, web_seed_loop(ws, client), asio::detached);
        }
    }
}

void Torrent::close_web_seeds() {
    for (auto& ws : web_seeds_)
        for (auto& c : ws->clients) c->close();
}

bool Torrent::web_seed_pick(WebRun& run) {
    if (stopping_ || state_ != TorrentState::downloading) return false;
    const auto bs = static_cast<std::int64_t>(wire::block_size);
    auto claim = [&](PartialPiece& pp, std::vector<bool>& mine, bool only_free) {
        mine.assign(static_cast<std::size_t>(pp.num_blocks), false);
        bool any = false;
        for (int b = 0; b < pp.num_blocks; ++b) {
            if (pp.state[b] == PartialPiece::received) continue;
            if (only_free && pp.state[b] != PartialPiece::free_block) continue;
            pp.state[b] = PartialPiece::requested;
            ++pp.requests[b];
            mine[static_cast<std::size_t>(b)] = true;
            any = true;
        }
        return any;
    };
    auto bounds = [&] {
        std::int64_t base = std::int64_t(run.first) * meta_.piece_length;
        int lo = -1, hi = -1;
        int blocks_per_piece = static_cast<int>((meta_.piece_length + bs - 1) / bs);
        for (int i = 0; i < run.count; ++i)
            for (std::size_t b = 0; b < run.claimed[static_cast<std::size_t>(i)].size(); ++b)
                if (run.claimed[static_cast<std::size_t>(i)][b]) {
                    int g = i * blocks_per_piece + static_cast<int>(b);
                    if (lo < 0) lo = g;
                    hi = g;
                }
        run.begin = base + std::int64_t(lo) * bs;
        run.end = std::min(meta_.total_size, base + (std::int64_t(hi) + 1) * bs);
    };
    // 1. A partial piece nobody is fetching any more (abandoned by a peer that choked or
    //    stalled, or by a failed request): its missing blocks. A piece a peer is still
    //    working through also has free blocks between its requests; it is left to that
    //    peer, so that a bad piece has one sender whenever possible.
    for (auto& [idx, pp] : partials_) {
        if (pp.hashing) continue;
        bool has_free = false, in_flight = false;
        for (auto st : pp.state) {
            has_free = has_free || st == PartialPiece::free_block;
            in_flight = in_flight || st == PartialPiece::requested;
        }
        if (!has_free || in_flight) continue;
        run.first = idx;
        run.count = 1;
        run.claimed.resize(1);
        claim(pp, run.claimed[0], true);
        open_partials_.erase(idx);
        bounds();
        return true;
    }
    // 2. A run of pieces nobody started, from the picker's best candidate on.
    if (picker_.num_candidates() == 0 || cache_full()) return false;
    int first = picker_.pick(swarm::Bitfield(), true);
    if (first < 0) return false;
    // Long runs mean few requests (BEP 19 asks for that), but pieces a slow mirror holds
    // are pieces peers cannot fetch: while peers are sending, runs stay short.
    bool peers_sending = std::any_of(peers_.begin(), peers_.end(), [](const auto& q) {
        return !q->closed() && q->am_interested && !q->peer_choking;
    });
    std::int64_t run_bytes = peers_sending ? short_run_bytes : max_run_bytes;
    int max_count = static_cast<int>(std::max<std::int64_t>(1, run_bytes / meta_.piece_length));
    run.first = first;
    run.count = 0;
    for (int piece = first; piece < meta_.num_pieces() && run.count < max_count; ++piece) {
        if (!picker_.is_candidate(piece) || (run.count > 0 && cache_full())) break;
        PartialPiece& pp = new_partial(piece);
        pp.free_hint = pp.num_blocks;
        run.claimed.emplace_back();
        claim(pp, run.claimed.back(), false);
        ++run.count;
    }
    bounds();
    return true;
}

void Torrent::web_seed_block(WebSeedState& ws, WebRun& run, int piece, int b, const char* data) {
    auto& mine = run.claimed[static_cast<std::size_t>(piece - run.first)];
    if (!mine[static_cast<std::size_t>(b)]) return;
    mine[static_cast<std::size_t>(b)] = false;
    auto it = partials_.find(piece);
    if (it == partials_.end() || it->second.hashing) return;
    PartialPiece& pp = it->second;
    auto len = static_cast<std::int64_t>(block_length(piece, b));
    if (pp.requests[b] > 0) --pp.requests[b];
    ws.downloaded += len;
    down_rate_.add(len);
    downloaded_ += len;
    ctx_.counters.payload_down += static_cast<std::uint64_t>(len);
    if (pp.state[b] == PartialPiece::received) return;  // a peer was faster (endgame)
    store_block(pp, b, data, ws.key, nullptr);
}

void Torrent::web_seed_release(WebRun& run) {
    bool released = false;
    for (int i = 0; i < run.count; ++i) {
        int piece = run.first + i;
        auto& mine = run.claimed[static_cast<std::size_t>(i)];
        auto it = partials_.find(piece);
        if (it == partials_.end() || it->second.hashing) continue;
        PartialPiece& pp = it->second;
        for (std::size_t b = 0; b < mine.size() && b < pp.state.size(); ++b) {
            if (!mine[b]) continue;
            mine[b] = false;
            if (pp.requests[b] > 0) --pp.requests[b];
            if (pp.state[b] == PartialPiece::requested && pp.requests[b] == 0) {
                pp.state[b] = PartialPiece::free_block;
                pp.free_hint = std::min(pp.free_hint, static_cast<int>(b));
                open_partials_.insert(piece);
                released = true;
            }
        }
    }
    if (released) {
        ++endgame_epoch_;
        for (auto& q : std::vector(peers_)) request_more(*q);
    }
}

asio::awaitable<peer::WebSeedResult> Torrent::web_seed_fetch(WebSeedState& ws,
                                                             peer::WebSeedClient& client,
                                                             WebRun& run) {
    auto requests = swarm::plan_web_seed_range(ws.url, meta_, run.begin, run.end - run.begin);
    // Bytes are handed on in whole blocks, gathered when a block spans two reads; `pos` is
    // the torrent offset of the next byte.
    std::int64_t pos = run.begin;
    std::vector<char> block(wire::block_size);
    std::size_t filled = 0;
    bool ok = true;
    auto take = [&](const char* data, std::size_t n) {
        while (n > 0) {
            if (stopping_ || web_seed_banned(ws)) return false;
            int piece = static_cast<int>(pos / meta_.piece_length);
            std::int64_t in_piece = pos - std::int64_t(piece) * meta_.piece_length;
            int b = static_cast<int>(in_piece / wire::block_size);
            auto want = static_cast<std::size_t>(block_length(piece, b)) - filled;
            std::size_t k = std::min(want, n);
            if (filled == 0 && k == want) {
                // A whole block in the chunk: stored from there, without gathering it.
                if (piece - run.first < run.count) web_seed_block(ws, run, piece, b, data);
                data += k;
                n -= k;
                pos += static_cast<std::int64_t>(k);
                continue;
            }
            std::memcpy(block.data() + filled, data, k);
            filled += k;
            data += k;
            n -= k;
            pos += static_cast<std::int64_t>(k);
            if (k == want) {
                filled = 0;
                if (piece - run.first < run.count) web_seed_block(ws, run, piece, b, block.data());
            }
        }
        return true;
    };
    peer::WebSeedResult last;
    last.kind = peer::WebSeedResult::ok;
    for (const auto& r : requests) {
        if (r.url.empty()) {  // BEP 47 padding: zeros, never on the server
            std::vector<char> zeros(
                static_cast<std::size_t>(std::min<std::int64_t>(r.length, 1 << 20)));
            for (std::int64_t left = r.length; left > 0 && ok;) {
                auto k = static_cast<std::size_t>(
                    std::min<std::int64_t>(left, std::int64_t(zeros.size())));
                ok = take(zeros.data(), k);
                left -= static_cast<std::int64_t>(k);
            }
            if (!ok) break;
            continue;
        }
        last = co_await client.fetch(r.url, r.file_offset, r.length, r.file_size, take);
        if (last.kind != peer::WebSeedResult::ok) break;
    }
    if (!ok) last.kind = peer::WebSeedResult::aborted;
    co_return last;
}

asio::awaitable<void> Torrent::web_seed_loop(std::shared_ptr<WebSeedState> ws,
                                             std::shared_ptr<peer::WebSeedClient> client) {
    auto self = shared_from_this();
    asio::steady_timer timer(ctx_.io);
    while (!stopping_ && !web_seed_banned(*ws) && state_ == TorrentState::downloading &&
           Clock::now() >= ws->retry_at) {
        WebRun run;
        if (!web_seed_pick(run)) {
            // Nothing to fetch now: the cache is full or every piece is started. Wait a
            // little while pieces remain (the tick restarts connections later anyway).
            if (picker_.num_candidates() == 0 && !cache_full()) break;
            timer.expires_after(std::chrono::milliseconds(20));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        auto r = co_await web_seed_fetch(*ws, *client, run);
        web_seed_release(run);
        auto now = Clock::now();
        switch (r.kind) {
            case peer::WebSeedResult::ok:
                ws->failures = 0;
                continue;
            case peer::WebSeedResult::aborted:
                break;
            case peer::WebSeedResult::busy:
                ws->retry_at = now + (r.retry_after > 0 ? std::chrono::seconds(r.retry_after)
                                                        : std::chrono::seconds(busy_default));
                break;
            case peer::WebSeedResult::not_found:
                ws->retry_at = now + not_found_wait;
                break;
            case peer::WebSeedResult::error: {
                int f = std::min(++ws->failures, 7);
                auto wait = std::min<Clock::duration>(std::chrono::seconds(5) * (1 << (f - 1)),
                                                      error_wait_max);
                ws->retry_at = now + wait;
                break;
            }
        }
        if (r.kind != peer::WebSeedResult::aborted && r.why != ws->last_error) {
            ws->last_error = r.why;
            emit(EventType::peer_disconnected, fmt::format("web seed {}: {}", ws->url, r.why));
        }
        break;
    }
    client->close();
    std::erase(ws->clients, client);
    --ws->active;
}

}  // namespace pw::session
