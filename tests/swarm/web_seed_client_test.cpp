// The web seed HTTP client (peer/web_seed_client.hpp) against hostile and odd servers on
// 127.0.0.1: keep-alive reuse, a server without range support, redirects and a redirect
// loop, a wrong Content-Range, a short body, an endless body, 1 byte/s, and 503.
#include "peer/web_seed_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include "http_file_server.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using pw::peer::WebSeedClient;
using pw::peer::WebSeedLimits;
using pw::peer::WebSeedResult;
using Request = HttpFileServer::Request;
using tcp = boost::asio::ip::tcp;

namespace {

struct Fetch {
    WebSeedResult result;
    std::string body;
    std::chrono::milliseconds took{};
};

// Runs fetches of `ranges` on one client, in order, on a private io_context.
std::vector<Fetch> run(const std::string& url, std::int64_t file_size,
                       std::vector<std::pair<std::int64_t, std::int64_t>> ranges,
                       WebSeedLimits lim = {}) {
    boost::asio::io_context io;
    std::vector<Fetch> out;
    WebSeedClient client(io.get_executor(), {}, lim);
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            for (auto [off, len] : ranges) {
                Fetch f;
                auto start = std::chrono::steady_clock::now();
                f.result = co_await client.fetch(url, off, len, file_size,
                                                 [&](const char* d, std::size_t n) {
                                                     f.body.append(d, n);
                                                     return true;
                                                 });
                f.took = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start);
                out.push_back(std::move(f));
            }
            client.close();
        },
        boost::asio::detached);
    io.run_for(std::chrono::seconds(30));
    return out;
}

std::string raw(tcp::socket& s, const std::string& text) {
    boost::system::error_code ec;
    boost::asio::write(s, boost::asio::buffer(text), ec);
    return text;
}

struct WebSeedClientTest : ::testing::Test {
    fs::path dir;
    std::string data = random_bytes(200000, 5);
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        write_file(dir / "f.bin", data);
    }
    void TearDown() override { fs::remove_all(dir); }
};

}  // namespace

TEST_F(WebSeedClientTest, RangesOverOneKeptAliveConnection) {
    std::atomic<int> connections{0};
    std::set<const void*> sockets;
    std::mutex mu;
    HttpFileServer server(dir, [&](tcp::socket& s, const Request& req) {
        {
            std::lock_guard lk(mu);
            if (sockets.insert(&s).second) ++connections;
        }
        return HttpFileServer::serve_file(dir, s, req);
    });
    auto r = run(server.url("/f.bin"), 200000, {{0, 1000}, {150000, 50000}, {7, 1}});
    ASSERT_EQ(r.size(), 3u);
    for (auto& f : r) EXPECT_EQ(f.result.kind, WebSeedResult::ok) << f.result.why;
    EXPECT_EQ(r[0].body, data.substr(0, 1000));
    EXPECT_EQ(r[1].body, data.substr(150000, 50000));
    EXPECT_EQ(r[2].body, data.substr(7, 1));
    EXPECT_EQ(connections, 1);
}

TEST_F(WebSeedClientTest, ServerWithoutRanges) {
    HttpFileServer server(dir, [&](tcp::socket& s, const Request& req) {
        return HttpFileServer::reply(s, "200 OK", "", data, req.keep_alive());
    });
    auto r = run(server.url("/f.bin"), 200000, {{1000, 5000}, {0, 200000}});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].result.kind, WebSeedResult::ok);
    EXPECT_EQ(r[0].body, data.substr(1000, 5000));
    EXPECT_EQ(r[1].body, data);
}

TEST_F(WebSeedClientTest, RedirectFollowedAndLoopBounded) {
    HttpFileServer server(dir, [&](tcp::socket& s, const Request& req) {
        if (req.target() == "/old")
            return HttpFileServer::reply(s, "302 Found", "Location: /f.bin\r\n", "", true);
        if (req.target() == "/loop")
            return HttpFileServer::reply(s, "301 Moved", "Location: /loop\r\n", "", true);
        return HttpFileServer::serve_file(dir, s, req);
    });
    auto ok = run(server.url("/old"), 200000, {{10, 10}});
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].result.kind, WebSeedResult::ok);
    EXPECT_EQ(ok[0].body, data.substr(10, 10));
    int before = server.requests();
    auto loop = run(server.url("/loop"), 200000, {{10, 10}});
    ASSERT_EQ(loop.size(), 1u);
    EXPECT_EQ(loop[0].result.kind, WebSeedResult::error);
    EXPECT_EQ(loop[0].result.why, "too many redirects");
    EXPECT_EQ(server.requests() - before, 6);  // the first request and 5 redirects
}

TEST_F(WebSeedClientTest, WrongContentRangeRefused) {
    HttpFileServer server(dir, [&](tcp::socket& s, const Request& req) {
        return HttpFileServer::reply(s, "206 Partial Content",
                                     "Content-Range: bytes 0-9/200000\r\n", data.substr(0, 10),
                                     req.keep_alive());
    });
    auto r = run(server.url("/f.bin"), 200000, {{100, 10}});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result.kind, WebSeedResult::error);
    EXPECT_TRUE(r[0].body.empty());
}

TEST_F(WebSeedClientTest, ShortBodyIsAnError) {
    HttpFileServer server(dir, [&](tcp::socket& s, const Request&) {
        raw(s,
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-999/200000\r\n"
            "Content-Length: 1000\r\n\r\n" +
                data.substr(0, 400));
        return false;
    });
    auto r = run(server.url("/f.bin"), 200000, {{0, 1000}});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result.kind, WebSeedResult::error);
    EXPECT_EQ(r[0].body, data.substr(0, 400));  // what came is handed on; the rest is re-asked
}

TEST_F(WebSeedClientTest, EndlessBodyIsCutAtTheRange) {
    // A close-delimited 200 that never ends: the client takes its range and hangs up.
    HttpFileServer server(dir, [&](tcp::socket& s, const Request&) {
        raw(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        boost::system::error_code ec;
        std::string junk(65536, 'x');
        for (int i = 0; i < 100000 && !ec; ++i)
            boost::asio::write(s, boost::asio::buffer(junk), ec);
        return false;
    });
    auto r = run(server.url("/f.bin"), 200000, {{0, 1000}});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result.kind, WebSeedResult::ok);
    EXPECT_EQ(r[0].body, std::string(1000, 'x'));  // wrong data: the piece hash catches it
    EXPECT_LT(r[0].took, std::chrono::seconds(5));
}

TEST_F(WebSeedClientTest, OneBytePerSecondTimesOut) {
    HttpFileServer server(dir, [&](tcp::socket& s, const Request&) {
        raw(s,
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99999/200000\r\n"
            "Content-Length: 100000\r\n\r\n");
        for (int i = 0; i < 30; ++i) {
            boost::system::error_code ec;
            boost::asio::write(s, boost::asio::buffer(data.data() + i, 1), ec);
            if (ec) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
        return false;
    });
    WebSeedLimits lim;
    lim.idle = std::chrono::milliseconds(1000);
    lim.min_rate = 50000;  // 100000 bytes: 2 s plus the idle second
    auto r = run(server.url("/f.bin"), 200000, {{0, 100000}}, lim);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result.kind, WebSeedResult::error);
    EXPECT_GE(r[0].took, std::chrono::milliseconds(2500));
    EXPECT_LT(r[0].took, std::chrono::milliseconds(5000));
}

TEST_F(WebSeedClientTest, BusyAndNotFound) {
    HttpFileServer server(dir, [&](tcp::socket& s, const Request& req) {
        if (req.target() == "/busy")
            return HttpFileServer::reply(s, "503 Service Unavailable", "Retry-After: 42\r\n", "",
                                         true);
        return HttpFileServer::reply(s, "404 Not Found", "", "", true);
    });
    auto busy = run(server.url("/busy"), 200000, {{0, 10}});
    ASSERT_EQ(busy.size(), 1u);
    EXPECT_EQ(busy[0].result.kind, WebSeedResult::busy);
    EXPECT_EQ(busy[0].result.retry_after, 42);
    auto missing = run(server.url("/gone"), 200000, {{0, 10}});
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing[0].result.kind, WebSeedResult::not_found);
}
