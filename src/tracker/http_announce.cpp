// HTTP and HTTPS tracker announce over Boost.Beast (BEP 3; replies per BEP 23, BEP 7,
// BEP 24; https:// per RFC 2818, TLS in tls_client.cpp).
//
// One deadline bounds the whole operation, redirects included. Name resolution goes
// through resolve_host, which keeps that deadline even when getaddrinfo does not return.
// Connect, TLS handshake, write and read run on a beast::tcp_stream whose expiry is that
// deadline, so a server that stalls at any step times out. An https reply ended without
// TLS close_notify is accepted only when the HTTP message itself is complete. Every
// failure becomes a failure_reason; nothing is thrown.
#include "tracker/http_announce.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "bencode/bencode.hpp"
#include "net/bind_device.hpp"
#include "net/http_target.hpp"
#include "proxy/socks5_client.hpp"
#include "tracker/resolve.hpp"
#include "tracker/tls_client.hpp"

namespace pw::tracker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int max_redirects = 5;
constexpr std::uint32_t max_header = 16u << 10;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

AnnounceResponse failed(std::string reason) {
    AnnounceResponse r;
    r.failure_reason = std::move(reason);
    return r;
}

std::string describe(const char* stage, const boost::system::error_code& ec) {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
        return std::string(stage) + ": timed out";
    return std::string(stage) + ": " + ec.message();
}

using Target = net::HttpTarget;

bool is_redirect(http::status s) {
    return s == http::status::moved_permanently || s == http::status::found ||
           s == http::status::see_other || s == http::status::temporary_redirect ||
           s == http::status::permanent_redirect;
}

// A non-200 reply may still carry a bencoded failure reason; prefer the tracker's words.
std::optional<AnnounceResponse> tracker_failure(std::string_view body) {
    if (body.empty() || body.front() != 'd') return std::nullopt;
    try {
        bencode::Document doc = bencode::decode(body);
        if (!doc.root().find_string("failure reason")) return std::nullopt;
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
    AnnounceResponse r = parse_announce_response(body);
    if (r.failure_reason.empty()) return std::nullopt;
    return r;
}

struct Reply {
    http::status status{};
    unsigned status_code = 0;
    std::string reason;
    std::string location;
    std::string content_encoding;
    std::string body;
};

// Sends the GET for `t` on a connected (and, for https, handshaken) stream and reads
// the reply into `reply`.
template <class Stream>
asio::awaitable<std::optional<std::string>> exchange(Stream& stream, const Target& t, Reply& reply,
                                                     std::uint64_t body_limit, const std::string& cookie) {
    http::request<http::empty_body> req{http::verb::get, t.path, 11};
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, "Piecewise/" PW_VERSION);
    req.set(http::field::accept_encoding, "identity");
    req.set(http::field::connection, "close");
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
    (void)written;
    if (wec) co_return describe("send", wec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(max_header);
    auto [rec, nread] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)nread;
    // Trackers often close a TLS connection without close_notify; what matters is
    // whether the HTTP message was whole.
    if (rec && !(rec == asio::ssl::error::stream_truncated && parser.is_done()))
        co_return describe("read", rec);

    auto& res = parser.get();
    reply.status = res.result();
    reply.status_code = res.result_int();
    reply.reason = std::string(res.reason().substr(0, 100));
    reply.location = std::string(res[http::field::location]);
    reply.content_encoding = std::string(res[http::field::content_encoding]);
    reply.body = std::move(res.body());
    co_return std::nullopt;
}

// Connects `stream` to one of `addresses` (of the bind address's family when `bind` is
// set, leaving from it; by the interface `device` when it is not empty) before the
// stream's expiry.
asio::awaitable<std::optional<std::string>> connect(beast::tcp_stream& stream,
                                                    const std::vector<asio::ip::address>& addresses,
                                                    std::uint16_t port,
                                                    const std::optional<asio::ip::address>& bind,
                                                    const std::string& device) {
    if (!bind && device.empty()) {
        std::vector<tcp::endpoint> endpoints;
        for (const auto& a : addresses) endpoints.emplace_back(a, port);
        auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
        (void)ep;
        if (cec) co_return describe("connect", cec);
        co_return std::nullopt;
    }
    beast::error_code last = asio::error::address_family_not_supported;
    for (const auto& a : addresses) {
        if (bind && a.is_v4() != bind->is_v4()) continue;
        const tcp::endpoint ep(a, port);
        beast::error_code ec;
        stream.socket().close(ec);
        stream.socket().open(ep.protocol(), ec);
        if (!ec && (ec = net::bind_to_device(stream.socket(), device)))
            co_return "bind to interface '" + device + "': " + ec.message();
        if (!ec && bind) stream.socket().bind(tcp::endpoint(*bind, 0), ec);
        if (!ec) std::tie(ec) = co_await stream.async_connect(ep, use_tuple);
        if (!ec) co_return std::nullopt;
        last = ec;
    }
    co_return describe("connect", last);
}

// One GET of `t`: connect, handshake for https, send, read, all before `deadline`.
asio::awaitable<std::optional<std::string>> fetch(const Target& t, Clock::time_point deadline,
                                                  const std::optional<asio::ip::address>& bind,
                                                  const TlsSettings& tls, const std::string& device,
                                                  const proxy::ProxyConfig& proxy, Reply& reply,
                                                  std::uint64_t body_limit, const std::string& cookie) {
    std::shared_ptr<asio::ssl::context> ctx;
    if (t.tls) {
        if (auto err = co_await tls_client_context(tls, ctx)) co_return err;
    }
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    if (proxy.enabled()) {
        proxy::ProxyConfig via = proxy;
        via.device = device;
        auto r = co_await proxy::connect_via(via, proxy::to_socks(t.host, t.port),
                                             bind ? *bind : asio::ip::address(), deadline);
        if (!r.socket) co_return r.error;
        stream.socket() = std::move(*r.socket);
        stream.expires_at(deadline);
    } else {
        std::vector<asio::ip::address> addresses;
        if (auto err = co_await resolve_host(t.host, deadline, addresses)) co_return err;
        stream.expires_at(deadline);
        if (auto err = co_await connect(stream, addresses, t.port, bind, device)) co_return err;
    }
    if (!t.tls) {
        auto err = co_await exchange(stream, t, reply, body_limit, cookie);
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return err;
    }
    // The reply is read whole before the connection goes, so no TLS shutdown is waited
    // for: a peer that never answers close_notify cannot hold the request.
    TlsStream tls_stream(std::move(stream), *ctx);
    if (auto err = co_await tls_handshake(tls_stream, t.host, tls.verify)) co_return err;
    co_return co_await exchange(tls_stream, t, reply, body_limit, cookie);
}

}  // namespace

asio::awaitable<HttpTrackerReply> http_tracker_get(std::string url, std::string bind_ip,
                                                   std::chrono::milliseconds timeout,
                                                   TlsSettings tls, std::string bind_device,
                                                   proxy::ProxyConfig via,
                                                   std::uint64_t body_limit, std::string cookie) {
    HttpTrackerReply out;
    try {
        const auto deadline = Clock::now() + timeout;
        boost::urls::url current;
        {
            auto parsed = boost::urls::parse_uri(url);
            if (!parsed) {
                out.failure_reason = "invalid tracker URL: " + parsed.error().message();
                co_return out;
            }
            current = *parsed;
        }
        // The cookie goes to the URL's own host only, never to a redirect elsewhere.
        const std::string first_host(current.host());
        std::optional<asio::ip::address> bind;
        if (!bind_ip.empty()) {
            beast::error_code ec;
            auto a = asio::ip::make_address(bind_ip, ec);
            if (ec) {
                out.failure_reason = "invalid bind address '" + bind_ip + "'";
                co_return out;
            }
            bind = a;  // unspecified: a source address of that family, the system's choice
        }
        for (int hop = 0;; ++hop) {
            Target target;
            if (auto err = net::parse_http_target(current, target, "tracker URL")) {
                out.failure_reason = *err;
                co_return out;
            }
            Reply reply;
            // Named, not a temporary inside co_await (g++ 12 destroys those twice).
            const std::string hop_cookie = current.host() == first_host ? cookie : std::string();
            if (auto err = co_await fetch(target, deadline, bind, tls, bind_device, via, reply,
                                          body_limit, hop_cookie)) {
                out.failure_reason = *err;
                co_return out;
            }
            if (is_redirect(reply.status)) {
                std::string err;
                if (hop == max_redirects) {
                    err = "too many redirects";
                } else if (reply.location.empty()) {
                    err = "HTTP " + std::to_string(reply.status_code) +
                          " redirect without a Location";
                } else if (auto ref = boost::urls::parse_uri_reference(reply.location); !ref) {
                    err = "invalid redirect location: " + ref.error().message();
                } else {
                    boost::urls::url next;
                    if (auto rv = boost::urls::resolve(current, *ref, next); !rv)
                        err = "invalid redirect location: " + rv.error().message();
                    else if (target.tls && next.scheme_id() != boost::urls::scheme::https)
                        err = "redirect from https to " + std::string(next.scheme()) + " refused";
                    else
                        current = std::move(next);
                }
                if (!err.empty()) {
                    out.failure_reason = std::move(err);
                    co_return out;
                }
                continue;
            }
            if (!reply.content_encoding.empty() && reply.content_encoding != "identity") {
                out.failure_reason =
                    "tracker reply: unsupported content encoding '" + reply.content_encoding + "'";
                co_return out;
            }
            out.status = reply.status_code;
            out.reason = std::move(reply.reason);
            out.body = std::move(reply.body);
            co_return out;
        }
    } catch (const std::exception& e) {
        // Allocation failure or a library precondition; still a failed request, not a crash.
        out = HttpTrackerReply{};
        out.failure_reason = std::string("http: ") + e.what();
        co_return out;
    }
}

asio::awaitable<AnnounceResponse> announce_http(AnnounceRequest req,
                                                std::chrono::milliseconds timeout, TlsSettings tls,
                                                proxy::ProxyConfig via) {
    try {
        HttpTrackerReply reply = co_await http_tracker_get(build_announce_url(req), req.bind_ip,
                                                           timeout, std::move(tls), req.bind_device,
                                                           std::move(via));
        if (!reply.failure_reason.empty()) co_return failed(std::move(reply.failure_reason));
        if (reply.status != 200) {
            if (auto r = tracker_failure(reply.body)) co_return std::move(*r);
            std::string why = "HTTP " + std::to_string(reply.status);
            if (!reply.reason.empty()) why += " " + reply.reason;
            co_return failed(std::move(why));
        }
        co_return parse_announce_response(reply.body);
    } catch (const std::exception& e) {
        // Allocation failure or a library precondition; still a failed announce, not a crash.
        co_return failed(std::string("announce: ") + e.what());
    }
}

}  // namespace pw::tracker
