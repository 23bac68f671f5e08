// HTTP tracker front end over Boost.Beast (see http_server.hpp). Replies are bencoded
// by hand in BEP 3 key order, without building a value tree, since announces are the
// hot path of a tracker.
#include "tracker/server/http_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <cstring>

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
    : acceptor_(io), state_(std::move(state)), limits_(limits), first_read_(limits.max_header + 1024) {
    acceptor_.open(at.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (at.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
    acceptor_.bind(at);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    acceptor_.non_blocking(true);
#ifdef TCP_DEFER_ACCEPT
    // Hand over connections once their first bytes are in (HTTP clients speak first),
    // so that the first read finds the request. A connection that stays silent is
    // handed over after a few seconds all the same; it then meets the read timeout.
    const int defer_seconds = 3;
    ::setsockopt(acceptor_.native_handle(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds,
                 sizeof defer_seconds);
#endif
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

// Waits for the listener to be readable, then accepts until the queue is drained (at
// most accept_batch connections between two yields to the rest of the thread; readiness
// is edge-triggered, so a queue left non-empty is served again without waiting).
asio::awaitable<void> HttpServer::accept_loop() {
    auto self = shared_from_this();
    constexpr int accept_batch = 64;
    bool wait = true;
    while (acceptor_.is_open()) {
        if (wait) {
            auto [ec] = co_await acceptor_.async_wait(tcp::acceptor::wait_read, use_tuple);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
                continue;
            }
        }
        wait = false;
        bool pause = false;
        for (int i = 0; i < accept_batch && acceptor_.is_open(); ++i) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const int fd = ::accept4(acceptor_.native_handle(), reinterpret_cast<sockaddr*>(&from),
                                     &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    wait = true;
                } else if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO ||
                           errno == EPERM) {
                    continue;  // that connection is gone (e.g. reset before accept)
                } else {
                    pause = true;  // out of descriptors or memory, or worse: do not spin
                }
                break;
            }
            if (connections_ >= limits_.max_connections) {
                ::close(fd);
                continue;
            }
            try {
                serve_first(fd, from, len);
            } catch (const std::exception&) {
                // Out of memory for this one connection (it is closed): the listener
                // goes on.
            }
        }
        if (pause) {
            asio::steady_timer timer(acceptor_.get_executor(), std::chrono::milliseconds(50));
            co_await timer.async_wait(use_tuple);
        } else if (!wait) {
            co_await asio::post(acceptor_.get_executor(), asio::use_awaitable);
        }
    }
}

// The common case, without a coroutine or a timer: the whole request is in the first
// read, its reply goes out in one send, and the connection closes. Anything else (a
// partial or invalid request, keep-alive, a short send) continues in serve() with what
// was read and what is left to send.
void HttpServer::serve_first(int fd, const sockaddr_storage& from, socklen_t from_len) {
    // Closes the descriptor on every way out until a socket object owns it.
    struct FdGuard {
        int fd;
        ~FdGuard() {
            if (fd >= 0) ::close(fd);
        }
    } guard{fd};
    PeerEndpoint source;
    bool is_v6 = false;
    if (from.ss_family == AF_INET && from_len >= sizeof(sockaddr_in)) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(from);
        std::array<std::uint8_t, 4> b;
        std::memcpy(b.data(), &a.sin_addr, 4);
        source = PeerEndpoint::v4_of(b, ntohs(a.sin_port));
    } else if (from.ss_family == AF_INET6 && from_len >= sizeof(sockaddr_in6)) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(from);
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &a.sin6_addr, 16);
        source = endpoint_of(asio::ip::address_v6(b), ntohs(a.sin6_port));
        is_v6 = true;
    } else {
        return;
    }

    std::string in, out;
    bool keep_alive = false;
    const ssize_t n = ::recv(fd, first_read_.data(), first_read_.size(), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        return;  // closed or reset before it asked anything
    }
    if (n > 0) {
        const auto got = static_cast<std::size_t>(n);
        http::request_parser<http::empty_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits_.max_header));
        parser.body_limit(0);
        boost::system::error_code ec;
        const std::size_t used = parser.put(asio::buffer(first_read_.data(), got), ec);
        if (!ec && parser.is_done() && used == got) {
            reply_to(parser.get(), source, out, keep_alive);
            // Closing right after: MSG_MORE holds the reply back for the close, whose FIN
            // then leaves in the same segment (one packet, one wake-up of the client).
            const int flags = MSG_NOSIGNAL | (keep_alive ? 0 : MSG_MORE);
            const ssize_t sent = ::send(fd, out.data(), out.size(), flags);
            if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;
            out.erase(0, sent > 0 ? static_cast<std::size_t>(sent) : 0);
            // The request was read whole: the close (the guard's) sends the FIN.
            if (out.empty() && !keep_alive) return;
        } else {
            in.assign(first_read_.data(), got);  // serve() parses it again and goes on
            keep_alive = true;
        }
    } else {
        keep_alive = true;  // nothing yet: serve() waits for the request
    }

    tcp::socket sock(acceptor_.get_executor());
    boost::system::error_code ec;
    sock.assign(is_v6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) return;
    guard.fd = -1;  // the socket owns it now
    asio::co_spawn(
        acceptor_.get_executor(),
        [self = shared_from_this(), s = std::move(sock), source, in = std::move(in),
         out = std::move(out), keep_alive]() mutable {
            return self->serve(std::move(s), source, std::move(in), std::move(out), keep_alive);
        },
        asio::detached);
}

void HttpServer::reply_to(const http::request<http::empty_body>& req, const PeerEndpoint& source,
                          std::string& out, bool& keep_alive) {
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
    keep_alive = req.keep_alive() && status == 200;
    const unsigned version = req.version();
    out.clear();
    out.reserve(160 + body.size());
    out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    out.append(reason.data(), reason.size());
    out += "\r\nServer: piecewise-tracker\r\nContent-Type: ";
    out += type;
    if (version == 10 && keep_alive) out += "\r\nConnection: keep-alive";
    if (version != 10 && !keep_alive) out += "\r\nConnection: close";
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\n\r\n";
    out += body;
}

asio::awaitable<void> HttpServer::serve(tcp::socket sock, PeerEndpoint source, std::string in,
                                        std::string out, bool keep_alive) {
    auto self = shared_from_this();
    ++connections_;
    struct Release {
        std::size_t& n;
        ~Release() { --n; }
    } release{connections_};

    boost::system::error_code ec;
    beast::tcp_stream stream(std::move(sock));
    beast::flat_buffer buffer(limits_.max_header + 1024);
    if (!in.empty()) {
        const auto room = buffer.prepare(in.size());
        std::memcpy(room.data(), in.data(), in.size());
        buffer.commit(in.size());
    }
    if (!out.empty()) {
        stream.expires_after(limits_.read_timeout);
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), use_tuple);
        if (wec || !keep_alive) {
            stream.socket().shutdown(tcp::socket::shutdown_send, ec);
            co_return;
        }
    }
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
        reply_to(parser.get(), source, out, keep_alive);
        stream.expires_after(limits_.read_timeout);
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), use_tuple);
        if (wec || !keep_alive) break;
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
    sa.peer_ids = !a.compact && !a.no_peer_id;
    state_->announce(sa, Clock::now(), reply_);
    const StoreReply& r = reply_;
    if (!r.failure.empty()) return failure(r.failure);

    const std::int64_t interval = state_->interval().count();
    std::string out;
    out.reserve(160 + r.peers.size() * 18);
    out += 'd';
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
        // BEP 23 "peers" (6 bytes a peer) then BEP 7 "peers6" (18 bytes), each written
        // in place after its length prefix.
        std::size_t v6 = 0;
        for (const ReplyPeer& peer : r.peers) v6 += peer.endpoint.v6 ? 1 : 0;
        const std::size_t v4 = r.peers.size() - v6;
        out += std::to_string(v4 * 6);
        out += ':';
        for (const ReplyPeer& peer : r.peers)
            if (!peer.endpoint.v6) put_compact(out, peer.endpoint);
        if (v6 != 0) {
            bencode::put_string(out, "peers6");
            out += std::to_string(v6 * 18);
            out += ':';
            for (const ReplyPeer& peer : r.peers)
                if (peer.endpoint.v6) put_compact(out, peer.endpoint);
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
