// The web seed HTTP client (see web_seed_client.hpp).
#include "peer/web_seed_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <optional>
#include <tuple>

#include "net/bind_device.hpp"
#include "net/http_target.hpp"
#include "swarm/parse/web_seed_response.hpp"
#include "tracker/resolve.hpp"

namespace pw::peer {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t chunk_size = 256u << 10;
constexpr std::uint32_t max_header = 16u << 10;

using Target = net::HttpTarget;

std::string describe(const char* stage, const beast::error_code& ec) {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
        return std::string(stage) + ": timed out";
    return std::string(stage) + ": " + ec.message();
}

WebSeedResult failed(std::string why, WebSeedResult::Kind k = WebSeedResult::error) {
    WebSeedResult r;
    r.kind = k;
    r.why = std::move(why);
    return r;
}
}  // namespace

struct WebSeedClient::Conn {
    Target target;
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<tracker::TlsStream> secure;
    std::shared_ptr<asio::ssl::context> ctx;
    // Beast reads as much as the buffer has room for, at least 512 bytes and at most
    // 64 KiB: a buffer that starts small would cost a system call per half kilobyte.
    beast::flat_buffer buf = [] {
        beast::flat_buffer b;
        b.reserve(chunk_size);
        return b;
    }();
    bool reused = false;  // served a fetch before: a failed write may be the server's idle close

    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    void close() {
        beast::error_code ec;
        lowest().socket().close(ec);
    }
};

WebSeedClient::WebSeedClient(asio::any_io_executor ex, tracker::TlsSettings tls, WebSeedLimits lim)
    : ex_(std::move(ex)), tls_(std::move(tls)), lim_(lim) {}

WebSeedClient::~WebSeedClient() = default;

void WebSeedClient::close() {
    if (conn_) conn_->close();
}

namespace {
// Sends the request and reads the reply on an open connection. `deadline` bounds all.
template <class Stream>
asio::awaitable<WebSeedResult> exchange(Stream& stream, beast::tcp_stream& low,
                                        beast::flat_buffer& buf, const Target& t,
                                        Clock::time_point deadline, std::chrono::milliseconds idle,
                                        std::int64_t offset, std::int64_t length,
                                        std::int64_t file_size, std::vector<char>& chunk,
                                        const WebSeedClient::Sink& sink, std::string& location,
                                        bool& keep, bool& write_failed) {
    keep = false;
    auto arm = [&] { low.expires_at(std::min(deadline, Clock::now() + idle)); };
    http::request<http::empty_body> req{http::verb::get, t.path, 11};
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, "Piecewise/" PW_VERSION);
    req.set(http::field::accept_encoding, "identity");
    req.set(http::field::range,
            "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
    req.keep_alive(true);
    arm();
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    (void)wn;
    if (wec) {
        write_failed = true;
        co_return failed(describe("send", wec));
    }
    http::response_parser<http::buffer_body> p;
    p.header_limit(max_header);
    p.body_limit(static_cast<std::uint64_t>(file_size) + 1);
    arm();
    auto [hec, hn] = co_await http::async_read_header(stream, buf, p, use_tuple);
    (void)hn;
    if (hec) {
        write_failed = buf.size() == 0 && hn == 0;  // closed before answering: maybe idle close
        co_return failed(describe("read header", hec));
    }
    auto& res = p.get();
    std::optional<std::uint64_t> clen =
        p.content_length() ? std::optional(*p.content_length()) : std::nullopt;
    auto verdict =
        swarm::judge_response(res.result_int(), res[http::field::content_range], clen,
                              res[http::field::retry_after], {offset, length, file_size});
    switch (verdict.kind) {
        case swarm::ResponseVerdict::redirect:
            location = std::string(res[http::field::location]);
            if (location.empty()) co_return failed("redirect without a Location");
            co_return failed("redirect");
        case swarm::ResponseVerdict::busy: {
            auto r = failed(verdict.why, WebSeedResult::busy);
            r.retry_after = verdict.retry_after;
            co_return r;
        }
        case swarm::ResponseVerdict::not_found:
            co_return failed(verdict.why, WebSeedResult::not_found);
        case swarm::ResponseVerdict::error:
            co_return failed(verdict.why);
        case swarm::ResponseVerdict::body:
            break;
    }
    if (!res[http::field::content_encoding].empty() &&
        res[http::field::content_encoding] != "identity")
        co_return failed("unsupported content encoding");
    WebSeedResult out;
    std::int64_t skip = verdict.skip;
    std::int64_t want = length;
    // Hands the next `got` body bytes at `at` to the sink, past the `skip` bytes before the
    // range; false when the sink stops the fetch.
    auto deliver = [&](const char* at, std::int64_t got) {
        std::int64_t drop = std::min(skip, got);
        skip -= drop;
        at += drop;
        got -= drop;
        std::int64_t take = std::min(got, want);
        if (take <= 0) return true;
        out.delivered += take;
        want -= take;
        return sink(at, static_cast<std::size_t>(take));
    };
    auto aborted = [&] {
        out.kind = WebSeedResult::aborted;
        out.why = "aborted";
        return out;
    };
    if (clen && !p.chunked()) {
        // A body of known length (what servers send for a range) is read straight into
        // `chunk`, after what the header read left in `buf`: one copy less than Beast's
        // parser makes. Never past the body's end, so the connection stays reusable.
        auto left = static_cast<std::int64_t>(*clen);
        auto first = std::min<std::int64_t>(left, static_cast<std::int64_t>(buf.size()));
        if (first > 0) {
            const bool more = deliver(static_cast<const char*>(buf.data().data()), first);
            buf.consume(static_cast<std::size_t>(first));
            left -= first;
            if (!more) co_return aborted();
        }
        while (want > 0) {
            if (left <= 0) co_return failed("body ended early");
            arm();
            auto room = static_cast<std::size_t>(std::min<std::int64_t>(left, std::int64_t(chunk.size())));
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk.data(), room), use_tuple);
            left -= static_cast<std::int64_t>(n);
            if (n > 0 && !deliver(chunk.data(), static_cast<std::int64_t>(n))) co_return aborted();
            if (ec && want > 0) co_return failed(describe("read body", ec));
            if (Clock::now() >= deadline && want > 0) co_return failed("read body: too slow");
        }
        out.kind = WebSeedResult::ok;
        keep = !verdict.close_after && left == 0 && buf.size() == 0 && p.keep_alive();
        co_return out;
    }
    while (want > 0) {
        if (p.is_done()) co_return failed("body ended early");
        res.body().data = chunk.data();
        res.body().size = chunk.size();
        res.body().more = true;
        arm();
        auto [ec, n] = co_await http::async_read_some(stream, buf, p, use_tuple);
        (void)n;
        if (ec == http::error::need_buffer) ec = {};
        auto got = static_cast<std::int64_t>(chunk.size() - res.body().size);
        if (ec && !(got > 0 && ec == asio::ssl::error::stream_truncated))
            co_return failed(describe("read body", ec));
        if (!deliver(chunk.data(), got)) co_return aborted();
        if (Clock::now() >= deadline && want > 0) co_return failed("read body: too slow");
        if (ec) {
            if (want > 0) co_return failed(describe("read body", ec));
            break;
        }
    }
    out.kind = WebSeedResult::ok;
    // Reusable only when the whole message was consumed and nothing more was promised.
    keep = !verdict.close_after && p.is_done() && p.keep_alive();
    co_return out;
}
}  // namespace

asio::awaitable<WebSeedResult> WebSeedClient::fetch_once(const std::string& url,
                                                         std::int64_t offset, std::int64_t length,
                                                         std::int64_t file_size, const Sink& sink,
                                                         std::string& location, bool& retry_fresh) {
    retry_fresh = false;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) co_return failed("invalid URL: " + parsed.error().message());
    Target t;
    if (auto err = net::parse_http_target(*parsed, t, "URL")) co_return failed(*err);
    const auto deadline =
        Clock::now() + lim_.idle +
        std::chrono::milliseconds(length * 1000 / std::max<std::int64_t>(1, lim_.min_rate));
    if (conn_ && (conn_->target.tls != t.tls || conn_->target.host != t.host ||
                  conn_->target.port != t.port)) {
        conn_->close();
        conn_.reset();
    }
    if (!conn_) {
        auto c = std::make_unique<Conn>();
        c->target = t;
        if (t.tls)
            if (auto err = co_await tracker::tls_client_context(tls_, c->ctx))
                co_return failed(*err);
        auto connect_deadline = Clock::now() + lim_.idle;
        auto stream = std::make_unique<beast::tcp_stream>(ex_);
        if (lim_.proxy.enabled()) {
            proxy::ProxyConfig via = lim_.proxy;
            via.device = lim_.device;
            auto r = co_await proxy::connect_via(via, proxy::to_socks(t.host, t.port), lim_.bind,
                                                 connect_deadline);
            if (!r.socket) co_return failed(r.error);
            stream->socket() = std::move(*r.socket);
        } else {
            std::vector<asio::ip::address> addresses;
            if (auto err = co_await tracker::resolve_host(t.host, connect_deadline, addresses))
                co_return failed(*err);
            stream->expires_at(connect_deadline);
            beast::error_code last = asio::error::host_not_found;
            bool connected = false;
            for (auto& a : addresses) {
                if (!lim_.bind.is_unspecified() && a.is_v4() != lim_.bind.is_v4()) continue;
                tcp::endpoint ep(a, t.port);
                beast::error_code ec;
                stream->socket().close(ec);
                stream->socket().open(ep.protocol(), ec);
                if (!ec && !lim_.device.empty())
                    ec = net::bind_to_device(stream->socket(), lim_.device);
                if (!ec && !lim_.bind.is_unspecified())
                    stream->socket().bind(tcp::endpoint(lim_.bind, 0), ec);
                if (!ec) std::tie(ec) = co_await stream->async_connect(ep, use_tuple);
                if (!ec) {
                    connected = true;
                    break;
                }
                last = ec;
            }
            if (!connected) co_return failed(describe("connect", last));
        }
        beast::error_code ignored;
        stream->socket().set_option(tcp::no_delay(true), ignored);
        if (t.tls) {
            c->secure = std::make_unique<tracker::TlsStream>(std::move(*stream), *c->ctx);
            if (auto err = co_await tracker::tls_handshake(*c->secure, t.host, tls_.verify))
                co_return failed(*err);
        } else {
            c->plain = std::move(stream);
        }
        conn_ = std::move(c);
    }
    conn_->target.path = t.path;
    conn_->target.host_header = t.host_header;
    if (chunk_.empty()) chunk_.resize(chunk_size);
    bool keep = false, write_failed = false;
    WebSeedResult r;
    Conn& c = *conn_;
    if (c.secure)
        r = co_await exchange(*c.secure, c.lowest(), c.buf, c.target, deadline, lim_.idle, offset,
                              length, file_size, chunk_, sink, location, keep, write_failed);
    else
        r = co_await exchange(*c.plain, c.lowest(), c.buf, c.target, deadline, lim_.idle, offset,
                              length, file_size, chunk_, sink, location, keep, write_failed);
    retry_fresh = write_failed && c.reused && r.delivered == 0;
    if (keep && conn_) {
        conn_->reused = true;
    } else if (conn_) {
        conn_->close();
        conn_.reset();
    }
    co_return r;
}

asio::awaitable<WebSeedResult> WebSeedClient::fetch(std::string url, std::int64_t offset,
                                                    std::int64_t length, std::int64_t file_size,
                                                    Sink sink) {
    try {
        std::string current = std::move(url);
        bool retried = false;
        for (int hop = 0;;) {
            std::string location;
            bool retry_fresh = false;
            auto r = co_await fetch_once(current, offset, length, file_size, sink, location,
                                         retry_fresh);
            if (retry_fresh && !retried) {  // the server closed an idle keep-alive connection
                retried = true;
                continue;
            }
            if (location.empty()) co_return r;
            if (++hop > lim_.max_redirects) co_return failed("too many redirects");
            auto base = boost::urls::parse_uri(current);
            auto ref = boost::urls::parse_uri_reference(location);
            if (!base || !ref) co_return failed("invalid redirect location");
            boost::urls::url next;
            if (auto rv = boost::urls::resolve(*base, *ref, next); !rv)
                co_return failed("invalid redirect location");
            if (base->scheme_id() == boost::urls::scheme::https &&
                next.scheme_id() != boost::urls::scheme::https)
                co_return failed("redirect from https to " + std::string(next.scheme()) +
                                 " refused");
            current = std::string(next.buffer());
        }
    } catch (const std::exception& e) {
        if (conn_) conn_->close();
        conn_.reset();
        co_return failed(std::string("http: ") + e.what());
    }
}

}  // namespace pw::peer
