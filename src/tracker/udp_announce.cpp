// UDP tracker client (BEP 15; BEP 41 URLData; BEP 7 bind to the local address).
//
// One call owns one socket. A receive is bounded by a timer that cancels the socket when
// it fires; the timer's handler and the socket share a state object so that a late
// handler never touches a dead socket, and a generation counter stops a handler that
// fired for an earlier receive from cancelling a later one. Name resolution goes through
// resolve_host (resolve.hpp), so the deadline holds even when getaddrinfo does not return.
#include "tracker/udp_announce.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "net/bind_device.hpp"
#include "proxy/socks5_client.hpp"
#include "tracker/parse/udp_tracker.hpp"
#include "tracker/resolve.hpp"

namespace pw::tracker {

namespace asio = boost::asio;
using udp_proto = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto connection_id_lifetime = 60s;  // BEP 15: usable for one minute
constexpr int max_backoff_exponent = 8;       // BEP 15: 15 * 2^8 s = 3840 s
constexpr std::size_t max_datagram = 65536;
constexpr std::int64_t min_sane_interval = 30;
constexpr std::int64_t max_sane_interval = 2 * 3600;

std::atomic<std::int64_t> retransmit_base_ms{15'000};

// Connection ids by (tracker endpoint, local address): trackers tie an id to the
// address it was sent to.
using CacheKey = std::pair<udp_proto::endpoint, asio::ip::address>;
struct CachedId {
    std::uint64_t id;
    Clock::time_point expires;
    bool from_cache = false;
};
std::mutex cache_mutex;
std::map<CacheKey, CachedId> connection_cache;

std::optional<CachedId> cached_id(const CacheKey& k) {
    std::lock_guard lock(cache_mutex);
    auto it = connection_cache.find(k);
    if (it == connection_cache.end()) return std::nullopt;
    if (it->second.expires <= Clock::now()) {
        connection_cache.erase(it);
        return std::nullopt;
    }
    return it->second;
}

void store_id(const CacheKey& k, CachedId v) {
    std::lock_guard lock(cache_mutex);
    // Expired entries go first so that the map stays as small as the set of live trackers.
    std::erase_if(connection_cache, [](const auto& e) { return e.second.expires <= Clock::now(); });
    connection_cache[k] = v;
}

void forget_id(const CacheKey& k) {
    std::lock_guard lock(cache_mutex);
    connection_cache.erase(k);
}

std::uint32_t random_u32() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return static_cast<std::uint32_t>(rng());
}

struct Target {
    std::string host;  // for the resolver: name or address, no brackets
    std::uint16_t port = 0;
    std::string url_data;  // BEP 41: path and query
};

std::optional<std::string> parse_target(std::string_view text, Target& t) {
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) return "invalid tracker URL: " + parsed.error().message();
    const boost::urls::url_view& url = *parsed;
    std::string scheme(url.scheme());
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme != "udp")
        return "unsupported tracker URL scheme '" + std::string(url.scheme()) + "'";
    if (!url.has_authority() || url.encoded_host().empty()) return "tracker URL has no host";
    if (!url.has_port() || url.port().empty()) return "udp tracker URL has no port";
    const std::string_view digits = url.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535)
        return "tracker URL has an invalid port";
    t.host = url.host_address();
    t.port = static_cast<std::uint16_t>(value);
    t.url_data = std::string(url.encoded_path());
    if (url.has_query()) t.url_data += "?" + std::string(url.encoded_query());
    return std::nullopt;
}

// One socket to one tracker endpoint, shared with the timer handler that bounds a receive.
struct Channel {
    explicit Channel(const asio::any_io_executor& ex) : socket(ex), timer(ex) {}
    udp_proto::socket socket;
    std::unique_ptr<proxy::UdpAssociation> assoc;  // through a proxy: its socket is used
    udp_proto::socket& sock() { return assoc ? assoc->socket() : socket; }
    asio::steady_timer timer;
    unsigned generation = 0;
    std::string buffer = std::string(max_datagram, '\0');
};

struct Call {
    std::shared_ptr<Channel> ch;
    udp_proto::endpoint tracker;
    CacheKey cache_key;
    bool ipv6 = false;
    std::string url_data;
    Clock::time_point deadline;
    int attempt = 0;  // n of BEP 15, shared by every request of the call
    // Through a proxy: the tracker's address as the relay is told it (a name stays a
    // name); `tracker` is then the relay's endpoint.
    std::optional<proxy::socks5::Address> proxied_to;
    bool use_cache = true;
};

// Resolves the URL, picks the tracker endpoint (of the bind address's family when one is
// given) and opens the socket.
asio::awaitable<std::optional<std::string>> open_call(std::string_view url,
                                                      const std::string& bind_ip,
                                                      const std::string& bind_device,
                                                      std::chrono::milliseconds timeout,
                                                      const proxy::ProxyConfig& via, Call& call) {
    call.deadline = Clock::now() + timeout;
    Target target;
    if (auto err = parse_target(url, target)) co_return err;
    call.url_data = target.url_data;
    std::optional<asio::ip::address> bind;
    if (!bind_ip.empty()) {
        boost::system::error_code ec;
        auto a = asio::ip::make_address(bind_ip, ec);
        if (ec) co_return "invalid bind address '" + bind_ip + "'";
        bind = a;  // unspecified: a source address of that family, the system's choice
    }
    if (via.enabled()) {
        proxy::ProxyConfig cfg = via;
        cfg.device = bind_device;
        auto opened = co_await proxy::UdpAssociation::open(cfg, bind ? *bind : asio::ip::address(),
                                                           call.deadline);
        if (auto* why = std::get_if<std::string>(&opened)) co_return *why;
        call.ch = std::make_shared<Channel>(co_await asio::this_coro::executor);
        call.ch->assoc = std::move(std::get<0>(opened));
        call.tracker = call.ch->assoc->relay();
        call.proxied_to = proxy::to_socks(target.host, target.port);
        call.ipv6 = call.proxied_to->type == proxy::socks5::Address::Type::ipv6;
        call.use_cache = false;
        co_return std::nullopt;
    }
    std::vector<asio::ip::address> addresses;
    if (auto err = co_await resolve_host(target.host, call.deadline, addresses)) co_return err;
    bool found = false;
    for (const auto& a : addresses) {
        if (bind && a.is_v4() != bind->is_v4()) continue;
        call.tracker = udp_proto::endpoint(a, target.port);
        found = true;
        break;
    }
    if (!found) co_return "resolve: no tracker address of the bind address's family";
    const asio::ip::address& a = call.tracker.address();
    call.ipv6 = a.is_v6() && !a.to_v6().is_v4_mapped();
    call.ch = std::make_shared<Channel>(co_await asio::this_coro::executor);
    boost::system::error_code ec;
    call.ch->socket.open(call.tracker.protocol(), ec);
    if (!ec && (ec = net::bind_to_device(call.ch->socket, bind_device)))
        co_return "bind to interface '" + bind_device + "': " + ec.message();
    if (!ec && bind) call.ch->socket.bind(udp_proto::endpoint(*bind, 0), ec);
    if (ec) co_return "socket: " + ec.message();
    call.cache_key = {call.tracker, bind ? *bind : asio::ip::address()};
    co_return std::nullopt;
}

// Receives one datagram before `until`. Returns its size; nullopt when the time ran out;
// a receive error other than the timer's cancellation goes to `err`.
asio::awaitable<std::optional<std::size_t>> receive_until(std::shared_ptr<Channel> ch,
                                                          Clock::time_point until,
                                                          udp_proto::endpoint& from,
                                                          boost::system::error_code& err) {
    const unsigned gen = ++ch->generation;
    ch->timer.expires_at(until);
    ch->timer.async_wait([ch, gen](const boost::system::error_code& ec) {
        if (!ec && ch->generation == gen) {
            boost::system::error_code ignored;
            ch->sock().cancel(ignored);
        }
    });
    auto [ec, n] =
        co_await ch->sock().async_receive_from(asio::buffer(ch->buffer), from, use_tuple);
    ++ch->generation;
    ch->timer.cancel();
    if (ec == asio::error::operation_aborted) co_return std::nullopt;
    if (ec) {
        err = ec;
        co_return std::nullopt;
    }
    co_return n;
}

enum class Verdict { wait, done };

struct Exchange {
    enum { answered, timed_out, failed } status = failed;
    std::string error;
};

// Sends `packet`, retransmitting after base * 2^n (bounded by `stop_at`), until
// `accept` returns done for a datagram from the tracker.
asio::awaitable<Exchange> exchange(Call& call, const std::string& packet, Clock::time_point stop_at,
                                   const std::function<Verdict(std::string_view)>& accept) {
    const auto base = std::chrono::milliseconds(retransmit_base_ms.load());
    Exchange out;
    std::string wrapped;
    if (call.proxied_to) {
        auto w = proxy::socks5::encode_udp(*call.proxied_to, packet);
        if (auto* e = std::get_if<proxy::socks5::Error>(&w)) {
            out.error = "proxy: " + e->reason;
            co_return out;
        }
        wrapped = std::get<std::string>(std::move(w));
    }
    const std::string& datagram = call.proxied_to ? wrapped : packet;
    const auto association_ended = [&call] { return call.ch->assoc && !call.ch->assoc->alive(); };
    while (Clock::now() < stop_at) {
        if (association_ended()) {
            out.error = "proxy: the UDP association ended (control connection closed)";
            co_return out;
        }
        auto [sec, sent] =
            co_await call.ch->sock().async_send_to(asio::buffer(datagram), call.tracker, use_tuple);
        (void)sent;
        if (sec) {
            out.error = association_ended()
                            ? "proxy: the UDP association ended (control connection closed)"
                            : "send: " + sec.message();
            co_return out;
        }
        const auto wait = base * (1 << std::min(call.attempt, max_backoff_exponent));
        const auto until = std::min(stop_at, Clock::now() + wait);
        for (;;) {
            udp_proto::endpoint from;
            boost::system::error_code rec;
            auto n = co_await receive_until(call.ch, until, from, rec);
            if (association_ended()) {
                out.error = "proxy: the UDP association ended (control connection closed)";
                co_return out;
            }
            if (rec) {
                out.error = "receive: " + rec.message();
                co_return out;
            }
            if (!n) break;
            if (from != call.tracker) continue;  // not the tracker (or its relay): ignore
            std::string_view payload(call.ch->buffer.data(), *n);
            if (call.proxied_to) {
                auto d = proxy::socks5::decode_udp(payload);
                if (!std::holds_alternative<proxy::socks5::UdpDatagram>(d)) continue;
                const auto& u = std::get<proxy::socks5::UdpDatagram>(d);
                const auto& to = *call.proxied_to;
                if (u.peer.port != to.port) continue;
                if (to.type != proxy::socks5::Address::Type::domain && !(u.peer == to)) continue;
                call.ipv6 = u.peer.type == proxy::socks5::Address::Type::ipv6;
                payload = u.payload;
            }
            if (accept(payload) == Verdict::done) {
                out.status = Exchange::answered;
                co_return out;
            }
        }
        ++call.attempt;
    }
    out.status = Exchange::timed_out;
    co_return out;
}

// "<stage>: <error>", except for proxy failures, which name the proxy alone.
std::string in_stage(const char* stage, const std::string& error) {
    if (error.rfind("proxy: ", 0) == 0) return error;
    return std::string(stage) + ": " + error;
}

// Turns a decoded reply into a verdict, keeping the failure text for the caller.
template <class T>
Verdict judge(const udp::Decoded<T>& d, std::string& failure, bool& tracker_error) {
    switch (d.outcome) {
        case udp::Outcome::foreign:
            return Verdict::wait;
        case udp::Outcome::ok:
            return Verdict::done;
        case udp::Outcome::tracker_error:
            failure = d.error;
            tracker_error = true;
            return Verdict::done;
        case udp::Outcome::malformed:
            failure = "tracker reply: " + d.error;
            return Verdict::done;
    }
    return Verdict::wait;
}

// A connection id from the cache or from a connect exchange.
asio::awaitable<std::optional<std::string>> connection_id(Call& call, CachedId& out) {
    if (auto c = call.use_cache ? cached_id(call.cache_key) : std::nullopt) {
        out = *c;
        out.from_cache = true;
        co_return std::nullopt;
    }
    const std::uint32_t txid = random_u32();
    std::string failure;
    bool tracker_error = false;
    std::uint64_t id = 0;
    Exchange ex = co_await exchange(call, udp::encode_connect_request(txid), call.deadline,
                                    [&](std::string_view pkt) {
                                        auto d = udp::decode_connect_reply(pkt, txid);
                                        id = d.value;
                                        return judge(d, failure, tracker_error);
                                    });
    if (ex.status == Exchange::timed_out) co_return "connect: timed out";
    if (ex.status == Exchange::failed) co_return in_stage("connect", ex.error);
    if (!failure.empty()) co_return failure;
    out = CachedId{id, Clock::now() + connection_id_lifetime};
    if (call.use_cache) store_id(call.cache_key, out);
    co_return std::nullopt;
}

// Runs one request (announce or scrape): connect if needed, then the request itself,
// reconnecting when the connection id expires during retransmissions.
// `build` makes the packet from (connection id, transaction id); `accept` decodes a
// datagram for that transaction id.
asio::awaitable<std::optional<std::string>> request(
    Call& call, const char* what,
    const std::function<std::string(std::uint64_t, std::uint32_t)>& build,
    const std::function<Verdict(std::string_view, std::uint32_t, std::string&, bool&)>& accept) {
    for (;;) {
        CachedId conn{};
        if (auto err = co_await connection_id(call, conn)) co_return err;
        const std::uint32_t txid = random_u32();
        std::string failure;
        bool tracker_error = false;
        // Trackers drop requests with an id they no longer accept, silently: a cached id
        // gets one attempt of at most half the remaining time, then a fresh one is asked for.
        auto stop_at = std::min(call.deadline, conn.expires);
        if (conn.from_cache) {
            const auto now = Clock::now();
            const auto half = (call.deadline - now) / 2;
            stop_at = std::min(
                stop_at, now + std::min<Clock::duration>(
                                   half, std::chrono::milliseconds(retransmit_base_ms.load())));
        }
        Exchange ex = co_await exchange(
            call, build(conn.id, txid), stop_at,
            [&](std::string_view pkt) { return accept(pkt, txid, failure, tracker_error); });
        if (ex.status == Exchange::failed) co_return in_stage(what, ex.error);
        if (ex.status == Exchange::timed_out) {
            // The id expired or went unanswered: the next attempt (or call) gets a new one.
            forget_id(call.cache_key);
            if (Clock::now() >= call.deadline) co_return std::string(what) + ": timed out";
            continue;
        }
        // The tracker may have forgotten the id (restarted, or its secret rotated).
        if (tracker_error) forget_id(call.cache_key);
        if (!failure.empty()) co_return failure;
        co_return std::nullopt;
    }
}

AnnounceResponse announce_failed(std::string reason) {
    AnnounceResponse r;
    r.failure_reason = std::move(reason);
    return r;
}

}  // namespace

void set_udp_retransmit_base(std::chrono::milliseconds base) {
    retransmit_base_ms.store(std::max<std::int64_t>(base.count(), 1));
}

std::chrono::milliseconds udp_retransmit_base() {
    return std::chrono::milliseconds(retransmit_base_ms.load());
}

void clear_udp_connection_cache() {
    std::lock_guard lock(cache_mutex);
    connection_cache.clear();
}

asio::awaitable<AnnounceResponse> announce_udp(AnnounceRequest req,
                                               std::chrono::milliseconds timeout,
                                               proxy::ProxyConfig via) {
    try {
        Call call;
        if (auto err = co_await open_call(req.url, req.bind_ip, req.bind_device, timeout, via, call))
            co_return announce_failed(std::move(*err));
        udp::AnnouncePacket p;
        p.info_hash = req.info_hash;
        p.peer_id = req.peer_id;
        p.downloaded = req.downloaded;
        p.left = req.left;
        p.uploaded = req.uploaded;
        p.event = req.event;
        p.key = udp::key_to_u32(req.key);
        p.num_want = req.numwant < 0 ? -1 : req.numwant;
        p.port = req.port;
        p.url_data = call.url_data;
        udp::AnnounceReply reply;
        auto err = co_await request(
            call, "announce",
            [&](std::uint64_t conn, std::uint32_t txid) {
                p.connection_id = conn;
                p.transaction_id = txid;
                return udp::encode_announce_request(p);
            },
            [&](std::string_view pkt, std::uint32_t txid, std::string& failure, bool& terr) {
                auto d = udp::decode_announce_reply(pkt, txid, call.ipv6);
                if (d.outcome == udp::Outcome::ok) reply = std::move(d.value);
                return judge(d, failure, terr);
            });
        if (err) co_return announce_failed(std::move(*err));
        AnnounceResponse r;
        if (reply.interval > 0)
            r.interval = std::clamp(reply.interval, min_sane_interval, max_sane_interval);
        r.complete = reply.seeders;
        r.incomplete = reply.leechers;
        r.peers = std::move(reply.peers);
        co_return r;
    } catch (const std::exception& e) {
        // Allocation failure or a library precondition; still a failed announce, not a crash.
        co_return announce_failed(std::string("announce: ") + e.what());
    }
}

asio::awaitable<ScrapeReply> scrape_udp(std::string url, std::vector<Sha1Digest> hashes,
                                        std::string bind_ip, std::chrono::milliseconds timeout,
                                        std::string bind_device, proxy::ProxyConfig via) {
    ScrapeReply out;
    try {
        if (hashes.empty()) {
            out.failure_reason = "scrape: no info-hashes";
            co_return out;
        }
        Call call;
        if (auto err = co_await open_call(url, bind_ip, bind_device, timeout, via, call)) {
            out.failure_reason = std::move(*err);
            co_return out;
        }
        for (std::size_t first = 0; first < hashes.size(); first += udp::max_scrape_hashes) {
            const std::span<const Sha1Digest> chunk(
                hashes.data() + first, std::min(udp::max_scrape_hashes, hashes.size() - first));
            std::vector<udp::ScrapeEntry> entries;
            auto err = co_await request(
                call, "scrape",
                [&](std::uint64_t conn, std::uint32_t txid) {
                    return udp::encode_scrape_request(conn, txid, chunk);
                },
                [&](std::string_view pkt, std::uint32_t txid, std::string& failure, bool& terr) {
                    auto d = udp::decode_scrape_reply(pkt, txid, chunk.size());
                    if (d.outcome == udp::Outcome::ok) entries = std::move(d.value);
                    return judge(d, failure, terr);
                });
            if (err) {
                out = ScrapeReply{};
                out.failure_reason = std::move(*err);
                co_return out;
            }
            for (std::size_t i = 0; i < chunk.size(); ++i)
                out.files[chunk[i]] =
                    ScrapeStats{entries[i].seeders, entries[i].leechers, entries[i].completed};
        }
        co_return out;
    } catch (const std::exception& e) {
        out = ScrapeReply{};
        out.failure_reason = std::string("scrape: ") + e.what();
        co_return out;
    }
}

}  // namespace pw::tracker
