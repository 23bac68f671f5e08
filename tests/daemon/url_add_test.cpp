// torrent-add by URL: an in-process HTTP server on 127.0.0.1 serves the .torrent, a 404, a
// redirect, a body over the limit and a server that never answers; the fetch is bounded
// and its failures are clear errors in both dialects.
#include <atomic>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <map>

#include "daemon/url_fetch.hpp"
#include "rpc_fixture.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers each GET by its path from `routes` (a whole HTTP response); a path it does not
// know gets no answer at all (the connection is held until the server stops).
class TinyHttp {
  public:
    explicit TinyHttp(std::map<std::string, std::string> routes)
        : routes_(std::move(routes)),
          acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        thread_ = std::thread([this] { serve(); });
    }
    ~TinyHttp() {
        stop_ = true;
        boost::system::error_code ec;
        // Wakes the accept with a connection of our own, then closes everything.
        tcp::socket s(io_);
        s.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
    }

  private:
    void serve() {
        std::vector<tcp::socket> held;
        while (!stop_) {
            tcp::socket s(io_);
            boost::system::error_code ec;
            acceptor_.accept(s, ec);
            if (ec || stop_) break;
            asio::streambuf buf;
            asio::read_until(s, buf, "\r\n\r\n", ec);
            if (ec) continue;
            std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
            auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
            auto path = head.substr(sp1 + 1, sp2 - sp1 - 1);
            auto it = routes_.find(path);
            if (it == routes_.end()) {
                held.push_back(std::move(s));  // never answered
                continue;
            }
            asio::write(s, asio::buffer(it->second), ec);
            s.shutdown(tcp::socket::shutdown_both, ec);
        }
    }
    std::map<std::string, std::string> routes_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string ok(const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/x-bittorrent\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

struct UrlAddTest : DaemonRpc {};

}  // namespace

TEST(UrlFetch, IsHttpUrl) {
    using pw::daemon::is_http_url;
    EXPECT_TRUE(is_http_url("http://127.0.0.1/x.torrent"));
    EXPECT_TRUE(is_http_url("HTTPS://127.0.0.1/x.torrent"));
    EXPECT_FALSE(is_http_url("/tmp/x.torrent"));
    EXPECT_FALSE(is_http_url("magnet:?xt=urn:btih:00"));
    EXPECT_FALSE(is_http_url("ftp://127.0.0.1/x"));
    EXPECT_FALSE(is_http_url("http:/"));
}

TEST_F(UrlAddTest, AddsFetchedTorrentInBothDialectsAndReportsHttpErrors) {
    std::string big(11u << 20, 'x');
    TinyHttp srv(
        {{"/t.torrent", ok(torrent_bytes)},
         {"/moved", "HTTP/1.1 302 Found\r\nLocation: /t.torrent\r\nContent-Length: 0\r\n\r\n"},
         {"/gone", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
         {"/big", ok(big)},
         {"/junk", ok("not a torrent")}});
    auto a = legacy("torrent-add", R"({"filename":")" + srv.url("/t.torrent") +
                                       R"(","download-dir":")" + (dir / "data").string() + R"("})");
    ASSERT_TRUE(a.contains("torrent-added")) << json::serialize(a);
    EXPECT_EQ(a.at("torrent-added").at("name"), "file.bin");
    ASSERT_TRUE(wait_status(6));  // the data is there: the fetched .torrent is the one
    // Through a redirect: the same torrent, a duplicate.
    auto d = jrpc("torrent_add", R"({"filename":")" + srv.url("/moved") + R"("})");
    EXPECT_TRUE(d.contains("torrent_duplicate")) << json::serialize(d);

    auto e404 = legacy_error("torrent-add", R"({"filename":")" + srv.url("/gone") + R"("})");
    EXPECT_NE(e404.find("HTTP 404 Not Found"), std::string::npos) << e404;
    EXPECT_NE(e404.find(srv.url("/gone")), std::string::npos) << e404;
    EXPECT_EQ(jrpc_error("torrent_add", R"({"filename":")" + srv.url("/gone") + R"("})"), 7);
    auto ebig = legacy_error("torrent-add", R"({"filename":")" + srv.url("/big") + R"("})");
    EXPECT_NE(ebig.find("larger than 10 MiB"), std::string::npos) << ebig;
    auto ejunk = legacy_error("torrent-add", R"({"filename":")" + srv.url("/junk") + R"("})");
    EXPECT_NE(ejunk.find("invalid or corrupt torrent"), std::string::npos) << ejunk;
    // Nothing listens on port 1 of 127.0.0.1 in the test's namespace.
    auto eref = legacy_error("torrent-add", R"({"filename":"http://127.0.0.1:1/x.torrent"})");
    EXPECT_NE(eref.find("connect"), std::string::npos) << eref;
    EXPECT_EQ(legacy("torrent-get", R"({"fields":["id"]})").at("torrents").as_array().size(), 1u);
}

TEST_F(UrlAddTest, AServerThatNeverAnswersTimesOut) {
    TinyHttp srv({});
    pw::daemon::UrlFetchOptions o;
    o.timeout = std::chrono::milliseconds(500);
    auto t0 = std::chrono::steady_clock::now();
    try {
        pw::daemon::fetch_torrent_url(srv.url("/silent"), o);
        ADD_FAILURE() << "no error";
    } catch (const piecewise::Error& e) {
        EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}
