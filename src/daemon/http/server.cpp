#include "daemon/http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <future>

#include "daemon/http/access.hpp"
#include "daemon/http/event_hub.hpp"
#include "daemon/http/metrics.hpp"
#include "daemon/http/stream.hpp"
#include "daemon/http/web_assets.hpp"

namespace pw::daemon::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct Server::Impl {
    // Declared before `io`, so destroyed after it: the event streams' coroutines, which
    // use the hub, are destroyed with `io`'s pending handlers.
    std::unique_ptr<EventHub> hub;
    ServerConfig cfg;
    rpc::Methods& methods;
    std::function<void()> on_close;
    std::string session_id;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    asio::thread_pool rpc_pool{1};  // engine calls block: never on the server thread
    std::shared_ptr<IoGate> gate = std::make_shared<IoGate>(io);  // engine callbacks -> io
    std::thread thread;
    bool stopped = false;
    int connections = 0;
    static constexpr int max_connections = 64;
    static constexpr std::uint64_t refused_body_limit = 64 << 10;

    Impl(ServerConfig c, rpc::Methods& m, std::function<void()> oc)
        : cfg(std::move(c)), methods(m), on_close(std::move(oc)) {
        hub = std::make_unique<EventHub>(io, rpc_pool, methods.daemon());
    }

    bhttp::response<bhttp::string_body> reply(const bhttp::request<bhttp::string_body>& req,
                                              bhttp::status st, std::string body,
                                              std::string_view type = "text/html; charset=UTF-8") {
        bhttp::response<bhttp::string_body> res{st, req.version()};
        res.set(bhttp::field::server, "piecewise/" PW_VERSION);
        res.set(bhttp::field::content_type, type);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    // Applies access.hpp's checks; nullopt when the request may go to the RPC.
    std::optional<bhttp::response<bhttp::string_body>> refuse(
        const bhttp::request<bhttp::string_body>& req) {
        if (!host_allowed(req[bhttp::field::host]))
            return reply(
                req, bhttp::status::misdirected_request,
                "<h1>421: Misdirected Request</h1><p>Host is not localhost or an IP address.</p>");
        if (cfg.auth && !basic_auth_ok(req[bhttp::field::authorization], *cfg.auth)) {
            auto r = reply(req, bhttp::status::unauthorized, "<h1>401: Unauthorized</h1>");
            r.set(bhttp::field::www_authenticate, "Basic realm=\"piecewise\"");
            return r;
        }
        auto target = req.target();
        if (target != "/transmission/rpc" && target != "/transmission/rpc/") {
            if (route_of(target) == Route::none)
                return reply(req, bhttp::status::not_found, "<h1>404: Not Found</h1>");
            if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
                auto r = reply(req, bhttp::status::method_not_allowed,
                               "<h1>405: Method Not Allowed</h1>");
                r.set(bhttp::field::allow, "GET, HEAD");
                return r;
            }
            return std::nullopt;
        }
        if (req["X-Transmission-Session-Id"] != session_id) {
            auto r =
                reply(req, bhttp::status::conflict,
                      "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>"
                      "<p><code>X-Transmission-Session-Id: " +
                          session_id + "</code></p>");
            r.set("X-Transmission-Session-Id", session_id);
            return r;
        }
        if (req.method() != bhttp::verb::post) {
            auto r =
                reply(req, bhttp::status::method_not_allowed, "<h1>405: Method Not Allowed</h1>");
            r.set(bhttp::field::allow, "POST");
            return r;
        }
        return std::nullopt;
    }

    enum class Route { rpc, asset, events, metrics, none, stream };
    static Route route_of(std::string_view target) {
        if (target == "/transmission/rpc" || target == "/transmission/rpc/") return Route::rpc;
        auto path = target.substr(0, target.find('?'));
        if (path == "/events") return Route::events;
        if (path == "/metrics") return Route::metrics;
        if (path.starts_with("/stream/")) return Route::stream;
        if (find_web_asset(path)) return Route::asset;
        return Route::none;
    }

    // The web UI's pages: no inline script or style is needed, so none is allowed.
    static void ui_headers(bhttp::response<bhttp::string_body>& r) {
        r.set("Content-Security-Policy",
              "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; media-src 'self'; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'");
        r.set("X-Content-Type-Options", "nosniff");
        r.set("X-Frame-Options", "DENY");
        r.set("Referrer-Policy", "no-referrer");
        r.set(bhttp::field::cache_control, "no-cache");
    }

    bhttp::response<bhttp::string_body> asset_reply(const bhttp::request<bhttp::string_body>& req) {
        const auto* a = find_web_asset(req.target());
        auto r = reply(req, bhttp::status::ok, std::string(a->body), mime_type(a->path));
        ui_headers(r);
        if (req.method() == bhttp::verb::head) {
            r.body().clear();
            r.content_length(a->body.size());
        }
        return r;
    }

    // Runs on the RPC worker (engine calls).
    std::string metrics_text() {
        auto& d = methods.daemon();
        MetricsInput in;
        in.session = d.session_stats();
        in.per_torrent = cfg.metrics_per_torrent;
        in.uptime_s = static_cast<std::int64_t>(std::time(nullptr)) - d.started_at();
        for (auto& [id, st] : d.status_all()) {
            in.down_rate += st.down_rate;
            in.up_rate += st.up_rate;
            if (st.queued) ++in.queued;
            if (!in.per_torrent) continue;
            TorrentMetrics t;
            t.info_hash = st.info_hash;
            t.name = st.name;
            t.state = st.state;
            t.size = st.total_size;
            t.have = st.bytes_have;
            t.downloaded = st.downloaded;
            t.uploaded = st.uploaded;
            t.down_rate = st.down_rate;
            t.up_rate = st.up_rate;
            t.peers = st.peers;
            t.seeds = st.seeds;
            t.hash_failures = st.hash_failures;
            in.torrents.push_back(std::move(t));
        }
        return render_metrics(in);
    }

    awaitable<void> refuse_and_close(beast::tcp_stream& stream, bhttp::status st) {
        bhttp::request<bhttp::string_body> dummy;
        dummy.version(11);
        auto r = reply(dummy, st,
                       "<h1>" + std::to_string(static_cast<int>(st)) + ": request too large</h1>");
        r.keep_alive(false);
        stream.expires_after(std::chrono::seconds(5));
        co_await bhttp::async_write(stream, r, use_nothrow);
        co_await linger(stream);
    }

    // Lingering close: the client may still be sending; closing with unread data would
    // reset the connection and lose the answer. Reads and drops a bounded amount.
    awaitable<void> linger(beast::tcp_stream& stream) {
        boost::system::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        std::vector<char> sink(64 << 10);
        stream.expires_after(std::chrono::seconds(3));
        for (std::size_t total = 0; total < (32u << 20);) {
            auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
            if (rec) break;
            total += n;
        }
    }

    awaitable<void> serve(tcp::socket sock) {
        // Bounded: a client cannot hold more than max_connections at once.
        if (connections >= max_connections) co_return;
        ++connections;
        struct Count {
            int& n;
            ~Count() { --n; }
        } count{connections};
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer buf;
        boost::system::error_code ec;
        auto peer = stream.socket().remote_endpoint(ec);
        if (ec || !client_allowed(cfg.allow, peer.address())) {
            bhttp::request<bhttp::string_body> dummy;
            dummy.version(11);
            auto r = reply(dummy, bhttp::status::forbidden,
                           "<h1>403: Forbidden</h1><p>This client address is not on the allow-list "
                           "(--rpc-allow).</p>");
            r.keep_alive(false);
            stream.expires_after(std::chrono::seconds(5));
            co_await bhttp::async_write(stream, r, use_nothrow);
            co_await linger(stream);
            co_return;
        }
        for (;;) {
            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(cfg.header_limit);
            parser.body_limit(cfg.body_limit);
            stream.expires_after(cfg.read_timeout);
            // The header first: a request refused by the access checks never gets its
            // body read (no 10 MiB from a client without credentials).
            auto [hec, hn] = co_await bhttp::async_read_header(stream, buf, parser, use_nothrow);
            if (hec == bhttp::error::header_limit || hec == bhttp::error::body_limit) {
                // Beast rejects a Content-Length over the body limit with the header.
                co_await refuse_and_close(stream,
                                          hec == bhttp::error::body_limit
                                              ? bhttp::status::payload_too_large
                                              : bhttp::status::request_header_fields_too_large);
                break;
            }
            if (hec) break;  // closed, timed out or not HTTP
            bhttp::response<bhttp::string_body> res;
            bool close_after = false;
            if (auto no = refuse(parser.get())) {
                res = std::move(*no);
                // A small body (a 409 handshake's retry-able request) is read and dropped
                // so the connection stays usable; a large one is never read: close.
                auto len = parser.content_length();
                if (!parser.is_done() && len && *len <= refused_body_limit) {
                    parser.body_limit(refused_body_limit);
                    auto [rec, rn] = co_await bhttp::async_read(stream, buf, parser, use_nothrow);
                    if (rec) res.keep_alive(false);
                } else if (!parser.is_done()) {
                    res.keep_alive(false);
                }
            } else {
                auto [rec, rn] = co_await bhttp::async_read(stream, buf, parser, use_nothrow);
                if (rec == bhttp::error::body_limit) {
                    co_await refuse_and_close(stream, bhttp::status::payload_too_large);
                    break;
                }
                if (rec) break;
                auto req = parser.release();
                auto route = route_of(req.target());
                if (route == Route::stream) {
                    StreamConfig sc;
                    sc.wait = cfg.stream_wait;
                    if (!co_await serve_stream(stream, req, methods.daemon(), rpc_pool, gate, sc))
                        break;
                    continue;
                }
                if (route == Route::events && req.method() == bhttp::verb::head) {
                    res = reply(req, bhttp::status::ok, "", "text/event-stream; charset=utf-8");
                } else if (route == Route::events) {
                    if (hub->full()) {
                        res = reply(req, bhttp::status::service_unavailable,
                                    "<h1>503: too many event streams</h1>");
                        res.set(bhttp::field::retry_after, "10");
                        res.keep_alive(false);
                    } else {
                        // Connection: close delimits the endless body (no chunking needed).
                        std::string head =
                            "HTTP/1.1 200 OK\r\nServer: piecewise/" PW_VERSION
                            "\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                            "Connection: close\r\n\r\n";
                        co_await hub->serve(stream, std::move(head));
                        break;
                    }
                } else if (route == Route::asset) {
                    res = asset_reply(req);
                } else if (route == Route::metrics) {
                    co_await asio::post(rpc_pool, asio::use_awaitable);
                    std::string text = metrics_text();
                    co_await asio::post(io, asio::use_awaitable);
                    res = reply(req, bhttp::status::ok, std::move(text), metrics_content_type);
                    res.set("X-Content-Type-Options", "nosniff");
                    if (req.method() == bhttp::verb::head) {
                        auto n = res.body().size();
                        res.body().clear();
                        res.content_length(n);
                    }
                }
                if (route != Route::rpc) {
                    stream.expires_after(cfg.read_timeout);
                    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_nothrow);
                    if (wec || !res.keep_alive()) break;
                    continue;
                }
                // The engine is reached from the RPC worker, then back here to write.
                co_await asio::post(rpc_pool, asio::use_awaitable);
                std::string body = methods.handle(req.body());
                close_after = methods.close_requested();
                co_await asio::post(io, asio::use_awaitable);
                if (body.empty()) {
                    res = reply(req, bhttp::status::no_content, "");  // JSON-RPC notification
                    res.erase(bhttp::field::content_type);
                } else {
                    res = reply(req, bhttp::status::ok, std::move(body),
                                "application/json; charset=UTF-8");
                }
            }
            stream.expires_after(cfg.read_timeout);
            auto [wec, wn] = co_await bhttp::async_write(stream, res, use_nothrow);
            if (close_after && on_close) {
                on_close();
                break;
            }
            if (wec || !res.keep_alive()) break;
        }
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    awaitable<void> accept_loop() {
        while (acceptor.is_open()) {
            auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
            if (!acceptor.is_open()) break;
            if (ec) {
                asio::steady_timer t(io);
                t.expires_after(std::chrono::milliseconds(100));  // e.g. out of descriptors
                co_await t.async_wait(use_nothrow);
                continue;
            }
            asio::co_spawn(io, serve(std::move(sock)), asio::detached);
        }
    }
};

Server::Server(ServerConfig cfg, rpc::Methods& methods, std::function<void()> on_close)
    : impl_(std::make_unique<Impl>(std::move(cfg), methods, std::move(on_close))) {
    auto& d = *impl_;
    d.session_id = new_session_id();
    session_id_ = d.session_id;
    methods.session_id = d.session_id;
    boost::system::error_code ec;
    d.acceptor.open(d.cfg.listen.protocol(), ec);
    if (!ec) d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) d.acceptor.bind(d.cfg.listen, ec);
    if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + d.cfg.listen.address().to_string() + ":" +
                                 std::to_string(d.cfg.listen.port()) +
                                 " for the RPC: " + ec.message());
    port_ = d.acceptor.local_endpoint().port();
    asio::co_spawn(d.io, d.accept_loop(), asio::detached);
    d.thread = std::thread([&d] { d.io.run(); });
}

std::uint64_t Server::event_ticks() const {
    return impl_->hub->ticks();
}

Server::~Server() {
    stop();
}

void Server::stop() {
    auto& d = *impl_;
    if (d.stopped) return;
    d.stopped = true;
    asio::post(d.io, [&d] {
        boost::system::error_code ec;
        d.acceptor.close(ec);
    });
    d.gate->close();
    d.rpc_pool.join();
    d.io.stop();
    if (d.thread.joinable()) d.thread.join();
}

}  // namespace pw::daemon::http
