// HTTP tracker front end over Boost.Beast (see http_server.hpp). Replies are bencoded
// by hand in BEP 3 key order, without building a value tree, since announces are the
// hot path of a tracker.
#include "tracker/server/http_server.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "bencode/bencode.hpp"
#include "tracker/parse/server_request.hpp"

namespace pw::tracker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string failure(std::string_view reason) {
    std::string out = "d";
    bencode::put_string(out, "failure reason");
    bencode::put_string(out, reason);
    out += 'e';
    return out;
}

std::string_view addr_bytes(const PeerEndpoint& e) {
    return {reinterpret_cast<const char*>(e.addr.data()), e.v6 ? 16u : 4u};
}

void put_compact(std::string& out, const PeerEndpoint& e) {
    out.append(addr_bytes(e));
    out.push_back(static_cast<char>(e.port >> 8));
    out.push_back(static_cast<char>(e.port & 0xff));
}

}  // namespace

PeerEndpoint endpoint_of(const asio::ip::address& a, std::uint16_t port) {
    if (a.is_v4()) return PeerEndpoint::v4_of(a.to_v4().to_bytes(), port);
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped())
        return PeerEndpoint::v4_of(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes(),
                                   port);
    return PeerEndpoint::v6_of(v6.to_bytes(), port);
}

HttpServer::HttpServer(asio::io_context& io, std::shared_ptr<TrackerState> state,
                       const tcp::endpoint& at, HttpLimits limits)
    : acceptor_(io), state_(std::move(state)), limits_(limits) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (at.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(at);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

void HttpServer::start() {
    asio::co_spawn(
        acceptor_.get_executor(), [self = shared_from_this()] { return self->accept_loop(); },
        asio::detached);
}

void HttpServer::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
}

asio::awaitable<void> HttpServer::accept_loop() {
    auto self = shared_from_this();
    while (acceptor_.is_open()) {
        auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
            // Out of descriptors or a connection reset before accept: do not spin.
            asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        if (connections_ >= limits_.max_connections) {
            boost::system::error_code ignore;
            sock.close(ignore);
            continue;
        }
        asio::co_spawn(
            acceptor_.get_executor(),
            [self, s = std::move(sock)]() mutable { return self->serve(std::move(s)); },
            asio::detached);
    }
}

asio::awaitable<void> HttpServer::serve(tcp::socket sock) {
    auto self = shared_from_this();
    ++connections_;
    struct Release {
        std::size_t& n;
        ~Release() { --n; }
    } release{connections_};

    boost::system::error_code ec;
    const auto remote = sock.remote_endpoint(ec);
    if (ec) co_return;
    const PeerEndpoint source = endpoint_of(remote.address(), remote.port());
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buffer(limits_.max_header + 1024);
    for (;;) {
        http::request_parser<http::empty_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits_.max_header));
        parser.body_limit(0);
        stream.expires_after(limits_.read_timeout);
        auto [rec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (rec) {
            // Timeouts, resets and clean closes end the connection quietly; a request
            // the parser refused gets a 400 first.
            if (rec == beast::error::timeout || rec == http::error::end_of_stream ||
                rec == asio::error::eof || rec == asio::error::connection_reset ||
                rec == asio::error::operation_aborted)
                break;
            http::response<http::string_body> bad{http::status::bad_request, 11};
            bad.set(http::field::content_type, "text/plain");
            bad.body() = "bad request: " + rec.message() + "\n";
            bad.keep_alive(false);
            bad.prepare_payload();
            stream.expires_after(limits_.read_timeout);
            co_await http::async_write(stream, bad, use_tuple);
            break;
        }
        const auto& req = parser.get();
        int status = 200;
        std::string type = "text/plain";
        std::string body;
        if (req.method() != http::verb::get) {
            status = 405;
            body = "only GET is served\n";
        } else {
            body = handle_target(std::string_view(req.target().data(), req.target().size()), source,
                                 status, type);
        }
        http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
        res.set(http::field::server, "piecewise-tracker");
        res.set(http::field::content_type, type);
        res.keep_alive(req.keep_alive() && status == 200);
        res.body() = std::move(body);
        res.prepare_payload();
        stream.expires_after(limits_.read_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
        if (wec || !res.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

std::string HttpServer::handle_target(std::string_view target, const PeerEndpoint& source,
                                      int& status, std::string& content_type) {
    const SplitTarget t = split_target(target);
    status = 200;
    content_type = "text/plain";
    if (t.path == "/announce") return announce(t.query, source);
    if (t.path == "/scrape") return scrape(t.query);
    if (t.path == "/stats") return state_->stats_text(Clock::now());
    status = 404;
    return "not found; this tracker serves /announce, /scrape and /stats\n";
}

std::string HttpServer::announce(std::string_view query, const PeerEndpoint& source) {
    ++state_->counters.http_announces;
    const AnnounceParse p = parse_http_announce(query);
    if (!p.error.empty()) {
        ++state_->counters.failures;
        return failure(p.error);
    }
    const ServerAnnounce& a = p.announce;
    StoreAnnounce sa;
    sa.info_hash = a.info_hash;
    sa.peer_id = a.peer_id;
    sa.endpoint = source;
    sa.endpoint.port = a.port;
    sa.left = a.left;
    sa.event = a.event;
    sa.numwant = a.numwant;
    sa.both_families = true;
    const StoreReply r = state_->announce(sa, Clock::now());
    if (!r.failure.empty()) return failure(r.failure);

    const std::int64_t interval = state_->interval().count();
    std::string out = "d";
    bencode::put_string(out, "complete");
    bencode::put_int(out, r.counts.complete);
    bencode::put_string(out, "external ip");
    bencode::put_string(out, addr_bytes(source));
    bencode::put_string(out, "incomplete");
    bencode::put_int(out, r.counts.incomplete);
    bencode::put_string(out, "interval");
    bencode::put_int(out, interval);
    bencode::put_string(out, "min interval");
    bencode::put_int(out, std::max<std::int64_t>(1, interval / 2));
    bencode::put_string(out, "peers");
    if (a.compact) {
        std::string v4, v6;
        for (const ReplyPeer& peer : r.peers)
            put_compact(peer.endpoint.v6 ? v6 : v4, peer.endpoint);
        bencode::put_string(out, v4);
        if (!v6.empty()) {
            bencode::put_string(out, "peers6");
            bencode::put_string(out, v6);
        }
    } else {
        out += 'l';
        for (const ReplyPeer& peer : r.peers) {
            out += 'd';
            bencode::put_string(out, "ip");
            bencode::put_string(out, peer.endpoint.address_text());
            if (!a.no_peer_id) {
                bencode::put_string(out, "peer id");
                bencode::put_string(
                    out, std::string_view(reinterpret_cast<const char*>(peer.peer_id.data()),
                                          peer.peer_id.size()));
            }
            bencode::put_string(out, "port");
            bencode::put_int(out, peer.endpoint.port);
            out += 'e';
        }
        out += 'e';
    }
    out += 'e';
    return out;
}

std::string HttpServer::scrape(std::string_view query) {
    ++state_->counters.http_scrapes;
    ScrapeParse p = parse_http_scrape(query);
    if (!p.error.empty()) return failure(p.error);
    std::vector<std::pair<Sha1Digest, SwarmCounts>> rows;
    if (p.info_hashes.empty()) {
        rows = state_->store.scrape_all(limits_.full_scrape_max);
    } else {
        for (const Sha1Digest& h : p.info_hashes)
            if (state_->allowed(h)) rows.emplace_back(h, state_->store.scrape(h));
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    std::string out = "d";
    bencode::put_string(out, "files");
    out += 'd';
    for (const auto& [h, c] : rows) {
        bencode::put_string(out, h.view());
        out += 'd';
        bencode::put_string(out, "complete");
        bencode::put_int(out, c.complete);
        bencode::put_string(out, "downloaded");
        bencode::put_int(out, c.downloaded);
        bencode::put_string(out, "incomplete");
        bencode::put_int(out, c.incomplete);
        out += 'e';
    }
    out += "ee";
    return out;
}

}  // namespace pw::tracker
