// HTTP tracker announce over Beast, against a tiny HTTP server on 127.0.0.1 that runs
// in the same io_context. Every run of the io_context is bounded by run_for.
#include "tracker/http_announce.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace pw::tracker;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
}

std::string http_reply(std::string_view status, std::string_view body,
                       std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::string(status) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extra_headers) + "Connection: close\r\n\r\n" + std::string(body);
}

// Answers each request with what `respond` returns for its head; an empty answer
// means "never answer" (the connection is held open).
struct ServerState {
    explicit ServerState(asio::io_context& ioc)
        : acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {}
    tcp::acceptor acceptor;
    std::function<std::string(const std::string& head)> respond;
    std::vector<std::string> heads;
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

asio::awaitable<void> serve_one(std::shared_ptr<ServerState> st, tcp::socket sock) {
    std::string head;
    auto [ec, n] = co_await asio::async_read_until(sock, asio::dynamic_buffer(head, 64 * 1024),
                                                   "\r\n\r\n", use_tuple);
    if (ec) co_return;
    head.resize(n);
    st->heads.push_back(head);
    std::string reply = st->respond(head);
    if (reply.empty()) {
        asio::steady_timer hold(sock.get_executor(), 60s);
        co_await hold.async_wait(use_tuple);
        co_return;
    }
    co_await asio::async_write(sock, asio::buffer(reply), use_tuple);
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> serve(std::shared_ptr<ServerState> st) {
    for (;;) {
        auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
        if (ec) co_return;
        asio::co_spawn(st->acceptor.get_executor(), serve_one(st, std::move(sock)), asio::detached);
    }
}

class HttpAnnounce : public ::testing::Test {
  protected:
    void start_server(std::function<std::string(const std::string&)> respond) {
        server = std::make_shared<ServerState>(ioc);
        server->respond = std::move(respond);
        asio::co_spawn(ioc, serve(server), asio::detached);
    }

    std::string base() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

    AnnounceRequest request(std::string url) const {
        AnnounceRequest r;
        r.url = std::move(url);
        r.info_hash.bytes.fill(0xaa);
        r.peer_id.fill('p');
        r.port = 6881;
        r.left = 100;
        r.key = "abc";
        return r;
    }

    // Runs one announce to completion, bounded well above its own timeout.
    AnnounceResponse announce(AnnounceRequest req, std::chrono::milliseconds timeout = 3s) {
        std::optional<AnnounceResponse> out;
        bool threw = false;
        asio::co_spawn(ioc, announce_http(std::move(req), timeout),
                       [&](std::exception_ptr e, AnnounceResponse r) {
                           if (e)
                               threw = true;
                           else
                               out = std::move(r);
                           ioc.stop();
                       });
        ioc.restart();
        ioc.run_for(timeout + 5s);
        EXPECT_FALSE(threw) << "announce_http threw";
        EXPECT_TRUE(out) << "announce_http did not finish";
        if (out) return *out;
        AnnounceResponse none;
        none.failure_reason = "no result";
        return none;
    }

    asio::io_context ioc;
    std::shared_ptr<ServerState> server;
};

std::string compact_body() {
    std::string peers = bytes({127, 0, 0, 2, 0x1a, 0xe1, 127, 0, 0, 3, 0x1a, 0xe2});
    return "d8:intervali900e5:peers12:" + peers + "e";
}

}  // namespace

TEST_F(HttpAnnounce, CompactPeerList) {
    start_server([](const std::string&) { return http_reply("200 OK", compact_body()); });
    AnnounceResponse r = announce(request(base() + "/announce"));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.interval, 900);
    ASSERT_EQ(r.peers.size(), 2u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"127.0.0.2", 6881}));
    EXPECT_EQ(r.peers[1], (PeerAddress{"127.0.0.3", 6882}));

    ASSERT_EQ(server->heads.size(), 1u);
    const std::string& head = server->heads[0];
    EXPECT_TRUE(head.starts_with("GET /announce?info_hash=%AA%AA")) << head;
    EXPECT_NE(head.find("&peer_id=pppppppppppppppppppp&port=6881&"), std::string::npos) << head;
    EXPECT_NE(head.find("&compact=1"), std::string::npos);
    EXPECT_NE(head.find(" HTTP/1.1\r\n"), std::string::npos);
    EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(server->port()) + "\r\n"),
              std::string::npos)
        << head;
    EXPECT_NE(head.find("User-Agent: Piecewise/" PW_VERSION "\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("Accept-Encoding: identity\r\n"), std::string::npos) << head;
}

TEST_F(HttpAnnounce, ChunkedReplyIsRead) {
    start_server([](const std::string&) {
        std::string body = compact_body();
        std::string half1 = body.substr(0, 10), half2 = body.substr(10);
        auto hex = [](std::size_t n) {
            char b[16];
            std::snprintf(b, sizeof b, "%zx", n);
            return std::string(b);
        };
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
               hex(half1.size()) + "\r\n" + half1 + "\r\n" + hex(half2.size()) + "\r\n" + half2 +
               "\r\n0\r\n\r\n";
    });
    AnnounceResponse r = announce(request(base() + "/announce"));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 2u);
}

TEST_F(HttpAnnounce, FollowsRelativeAndAbsoluteRedirects) {
    start_server([this](const std::string& head) {
        if (head.starts_with("GET /first?"))
            return http_reply("302 Found", "", "Location: /second?x=1\r\n");
        if (head.starts_with("GET /second?x=1 "))
            return http_reply("301 Moved Permanently", "",
                              "Location: " + base() + "/third/announce?y=2\r\n");
        if (head.starts_with("GET /third/announce?y=2 "))
            return http_reply("307 Temporary Redirect", "", "Location: final?z=3\r\n");
        if (head.starts_with("GET /third/final?z=3 ")) return http_reply("200 OK", compact_body());
        return http_reply("404 Not Found", "");
    });
    AnnounceResponse r = announce(request(base() + "/first"));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 2u);
    EXPECT_EQ(server->heads.size(), 4u);
}

TEST_F(HttpAnnounce, RedirectLoopStopsAfterFive) {
    start_server(
        [](const std::string&) { return http_reply("302 Found", "", "Location: /again\r\n"); });
    AnnounceResponse r = announce(request(base() + "/announce"));
    EXPECT_EQ(r.failure_reason, "too many redirects");
    EXPECT_EQ(server->heads.size(), 6u);  // the original request and five redirects
}

TEST_F(HttpAnnounce, RedirectWithoutLocationOrToAnotherSchemeFails) {
    start_server([](const std::string& head) {
        if (head.starts_with("GET /nolocation")) return http_reply("302 Found", "");
        return http_reply("302 Found", "", "Location: ftp://127.0.0.1/announce\r\n");
    });
    EXPECT_EQ(announce(request(base() + "/nolocation")).failure_reason,
              "HTTP 302 redirect without a Location");
    EXPECT_EQ(announce(request(base() + "/ftp")).failure_reason,
              "unsupported tracker URL scheme 'ftp'");
}

TEST_F(HttpAnnounce, NotFoundStatusIsTheReason) {
    start_server([](const std::string&) { return http_reply("404 Not Found", "<h1>nope</h1>"); });
    EXPECT_EQ(announce(request(base() + "/announce")).failure_reason, "HTTP 404 Not Found");
}

TEST_F(HttpAnnounce, ErrorStatusWithBencodedFailureUsesTrackersWords) {
    start_server([](const std::string&) {
        return http_reply("403 Forbidden", "d14:failure reason20:unregistered torrente");
    });
    EXPECT_EQ(announce(request(base() + "/announce")).failure_reason, "unregistered torrent");
}

TEST_F(HttpAnnounce, GarbageBodyIsTrackerReplyFailure) {
    start_server([](const std::string&) { return http_reply("200 OK", "<html>hi</html>"); });
    EXPECT_TRUE(
        announce(request(base() + "/announce")).failure_reason.starts_with("tracker reply: "));
}

TEST_F(HttpAnnounce, OversizedBodyIsRefused) {
    start_server([](const std::string&) {
        // Announces 3 MiB but sends none of it: the limit is checked on the header.
        return "HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\nConnection: close\r\n\r\n";
    });
    AnnounceResponse r = announce(request(base() + "/announce"));
    EXPECT_TRUE(r.failure_reason.starts_with("read: ")) << r.failure_reason;
    EXPECT_TRUE(r.peers.empty());
}

TEST_F(HttpAnnounce, CompressedReplyIsRefused) {
    start_server([](const std::string&) {
        return http_reply("200 OK", "\x1f\x8b", "Content-Encoding: gzip\r\n");
    });
    EXPECT_EQ(announce(request(base() + "/announce")).failure_reason,
              "tracker reply: unsupported content encoding 'gzip'");
}

TEST_F(HttpAnnounce, SilentServerTimesOutWithinTheBound) {
    start_server([](const std::string&) { return std::string(); });
    auto t0 = std::chrono::steady_clock::now();
    AnnounceResponse r = announce(request(base() + "/announce"), 300ms);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.failure_reason, "read: timed out");
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 2s);
}

TEST_F(HttpAnnounce, ConnectionRefused) {
    std::uint16_t port;
    {
        tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }  // closed: nothing listens there now
    AnnounceResponse r = announce(request("http://127.0.0.1:" + std::to_string(port) + "/a"));
    EXPECT_EQ(r.failure_reason, "connect: Connection refused");
}

TEST_F(HttpAnnounce, UnsupportedUrls) {
    EXPECT_EQ(announce(request("ftp://127.0.0.1/announce")).failure_reason,
              "unsupported tracker URL scheme 'ftp'");
    EXPECT_EQ(announce(request("udp://127.0.0.1:6969/announce")).failure_reason,
              "unsupported tracker URL scheme 'udp'");
    EXPECT_TRUE(announce(request("not a url")).failure_reason.starts_with("invalid tracker URL"));
    EXPECT_EQ(announce(request("http://127.0.0.1:99999/announce")).failure_reason,
              "tracker URL has an invalid port");
    EXPECT_EQ(announce(request("http://127.0.0.1:0/announce")).failure_reason,
              "tracker URL has an invalid port");
    EXPECT_EQ(announce(request("http:///announce")).failure_reason, "tracker URL has no host");
}

TEST_F(HttpAnnounce, Ipv6LiteralHost) {
    boost::system::error_code ec;
    tcp::acceptor acc(ioc);
    acc.open(tcp::v6(), ec);
    if (!ec) acc.bind({asio::ip::make_address("::1"), 0}, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
    std::string head;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto [aec, sock] = co_await acc.async_accept(use_tuple);
            if (aec) co_return;
            auto [rec, n] = co_await asio::async_read_until(
                sock, asio::dynamic_buffer(head, 64 * 1024), "\r\n\r\n", use_tuple);
            if (rec) co_return;
            head.resize(n);
            std::string reply = http_reply("200 OK", compact_body());
            co_await asio::async_write(sock, asio::buffer(reply), use_tuple);
        },
        asio::detached);
    std::string port = std::to_string(acc.local_endpoint().port());
    AnnounceResponse r = announce(request("http://[::1]:" + port + "/announce"));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 2u);
    EXPECT_NE(head.find("Host: [::1]:" + port + "\r\n"), std::string::npos) << head;
}
