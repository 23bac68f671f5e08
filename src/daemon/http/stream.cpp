#include "daemon/http/stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>

#include "daemon/http/media.hpp"
#include "daemon/parse/http_range.hpp"

namespace pw::daemon::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using piecewise::StreamRead;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

void IoGate::post(std::function<void()> fn) {
    std::lock_guard lk(mu_);
    if (io_) asio::post(*io_, std::move(fn));
}

void IoGate::close() {
    std::lock_guard lk(mu_);
    io_ = nullptr;
}

namespace {

// What the coroutine waits on: a read's result, the client going away, or the deadline.
// `timer` is set only while the coroutine waits, and touched only on the server thread.
struct Waiter {
    std::mutex mu;
    std::optional<StreamRead> result;  // guarded by mu (set on an engine thread)
    bool readable = false;             // the client's socket became readable (or failed)
    asio::steady_timer* timer = nullptr;
    void wake() {
        if (timer) timer->cancel();
    }
};

std::string head(bhttp::status st, bool keep_alive) {
    std::string h = "HTTP/1.1 " + std::to_string(static_cast<int>(st)) + " " +
                    std::string(bhttp::obsolete_reason(st)) +
                    "\r\nServer: piecewise/" PW_VERSION "\r\nX-Content-Type-Options: nosniff\r\n";
    if (!keep_alive) h += "Connection: close\r\n";
    return h;
}

// A short text answer (errors, 416).
std::string small_reply(bhttp::status st, bool keep_alive, std::string_view text,
                        std::string extra = {}) {
    std::string body = std::string(text) + "\n";
    return head(st, keep_alive) + extra + "Content-Type: text/plain; charset=utf-8\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

awaitable<bool> serve_stream(beast::tcp_stream& stream,
                             const bhttp::request<bhttp::string_body>& req, Daemon& daemon,
                             asio::thread_pool& pool, std::shared_ptr<IoGate> gate,
                             const StreamConfig& cfg) {
    auto ex = co_await asio::this_coro::executor;
    bool keep = req.keep_alive();
    bool is_head = req.method() == bhttp::verb::head;
    auto send = [&](std::string text) -> awaitable<bool> {
        if (is_head) text.erase(text.find("\r\n\r\n") + 4);
        stream.expires_after(cfg.wait);
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(text), use_nothrow);
        co_return !ec;
    };
    auto target = parse::parse_stream_target(req.target());
    if (!target)
        co_return co_await send(
            small_reply(bhttp::status::not_found, keep, "404: no such stream")) &&
            keep;

    co_await asio::post(pool, asio::use_awaitable);  // stream_open waits for the engine
    auto info = daemon.open_stream(target->info_hash, target->file_index);
    co_await asio::post(ex, asio::use_awaitable);
    using Status = piecewise::StreamInfo::Status;
    if (info.status == Status::no_torrent || info.status == Status::no_file)
        co_return co_await send(
            small_reply(bhttp::status::not_found, keep, "404: no such torrent or file")) &&
            keep;
    if (info.status == Status::no_metadata)
        co_return co_await send(small_reply(bhttp::status::service_unavailable, keep,
                                            "503: the torrent's metadata has not arrived yet",
                                            "Retry-After: 5\r\n")) &&
            keep;
    auto& session = daemon.session();
    struct Closer {
        piecewise::Session& s;
        piecewise::StreamId id;
        ~Closer() { s.stream_close(id); }  // the reader's priority goes with it
    } closer{session, info.id};

    // A representation of a torrent's file never changes: its ETag is its name.
    std::string etag = "\"" + target->info_hash + "-" + std::to_string(target->file_index) + "\"";
    std::string_view range_hdr = req[bhttp::field::range];
    if (req.count(bhttp::field::if_range) && req[bhttp::field::if_range] != etag) range_hdr = {};
    auto ans = parse::resolve_range(range_hdr, info.size);
    if (ans.kind == parse::RangeAnswer::unsatisfiable)
        co_return co_await send(
            small_reply(bhttp::status::range_not_satisfiable, keep, "416: range not satisfiable",
                        "Content-Range: bytes */" + std::to_string(info.size) + "\r\n")) &&
            keep;

    bool partial = ans.kind == parse::RangeAnswer::partial;
    std::int64_t first = std::max<std::int64_t>(ans.range.first, 0);
    std::int64_t count = std::max<std::int64_t>(ans.range.size(), 0);
    auto type = stream_content_type(info.path);
    std::string headers = head(partial ? bhttp::status::partial_content : bhttp::status::ok, keep);
    headers += "Accept-Ranges: bytes\r\nContent-Type: " + std::string(type) + "\r\n";
    headers += "Content-Length: " + std::to_string(count) + "\r\n";
    if (partial)
        headers += "Content-Range: bytes " + std::to_string(first) + "-" +
                   std::to_string(ans.range.last) + "/" + std::to_string(info.size) + "\r\n";
    headers += "Content-Disposition: " + content_disposition(info.path) + "\r\n";
    headers += "ETag: " + etag + "\r\nCache-Control: private\r\n";
    // Torrent content must not act as a page of the web UI's origin (a PDF viewer needs
    // to run, so only PDFs go without the sandbox).
    headers += type == "application/pdf"
                   ? "Content-Security-Policy: default-src 'none'\r\n"
                   : "Content-Security-Policy: default-src 'none'; sandbox\r\n";
    headers += "\r\n";
    if (is_head || count == 0) co_return co_await send(std::move(headers)) && keep;

    // The client going away while we wait: its socket turns readable with nothing to read.
    auto w = std::make_shared<Waiter>();
    auto& sock = stream.socket();
    sock.async_wait(asio::ip::tcp::socket::wait_read, [w](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted) return;
        w->readable = true;
        w->wake();
    });
    struct Unwatch {
        asio::ip::tcp::socket& s;
        ~Unwatch() {
            boost::system::error_code e;
            s.cancel(e);
        }
    } unwatch{sock};
    bool watching = true;
    auto client_gone = [&] {
        if (!watching || !w->readable) return false;
        boost::system::error_code e;
        auto avail = sock.available(e);
        if (!e && avail > 0) {
            watching = false;  // a pipelined request, not a close: stop watching
            return false;
        }
        return true;
    };

    // One read in flight while the previous chunk is written.
    auto issue = [&](std::int64_t pos, std::int64_t left) {
        {
            std::lock_guard lk(w->mu);
            w->result.reset();
        }
        auto len = static_cast<std::size_t>(
            std::min<std::int64_t>(left, static_cast<std::int64_t>(cfg.chunk)));
        session.stream_read(info.id, pos, len, [w, gate](StreamRead r) {
            {
                std::lock_guard lk(w->mu);
                w->result = std::move(r);
            }
            gate->post([w] { w->wake(); });
        });
    };
    // The result, or nullopt: no result within cfg.wait, or the client went away.
    auto await_result = [&]() -> awaitable<std::optional<StreamRead>> {
        asio::steady_timer t(ex);
        t.expires_after(cfg.wait);
        for (;;) {
            {
                std::lock_guard lk(w->mu);
                if (w->result) co_return std::exchange(w->result, std::nullopt);
            }
            if (client_gone()) co_return std::nullopt;
            w->timer = &t;
            auto [ec] = co_await t.async_wait(use_nothrow);
            w->timer = nullptr;
            if (!ec) co_return std::nullopt;  // deadline
        }
    };

    std::int64_t pos = first, left = count;
    bool headers_sent = false;
    issue(pos, left);
    while (left > 0) {
        auto r = co_await await_result();
        if (!r || r->status != StreamRead::Status::ok || r->data.empty()) {
            if (headers_sent || (!r && client_gone())) co_return false;
            if (!r)
                co_await send(small_reply(bhttp::status::gateway_timeout, false,
                                          "504: the pieces did not arrive in time"));
            else if (r->status == StreamRead::Status::not_wanted)
                co_await send(small_reply(bhttp::status::conflict, false,
                                          "409: the file is not selected for download"));
            else
                co_await send(small_reply(
                    bhttp::status::internal_server_error, false,
                    "500: " + (r->error.empty() ? std::string("read failed") : r->error)));
            co_return false;
        }
        std::string data = std::move(r->data);
        if (static_cast<std::int64_t>(data.size()) > left)
            data.resize(static_cast<std::size_t>(left));
        pos += static_cast<std::int64_t>(data.size());
        left -= static_cast<std::int64_t>(data.size());
        if (left > 0) issue(pos, left);
        std::array<asio::const_buffer, 2> bufs{asio::buffer(headers), asio::buffer(data)};
        stream.expires_after(cfg.wait);
        auto [ec, n] = headers_sent
                           ? co_await asio::async_write(stream, asio::buffer(data), use_nothrow)
                           : co_await asio::async_write(stream, bufs, use_nothrow);
        if (ec) co_return false;  // the client went away: the Closer drops the priority
        headers_sent = true;
    }
    co_return keep;
}

}  // namespace pw::daemon::http
