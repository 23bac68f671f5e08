// blocklist-update, blocklist-url/-enabled/-size, pex-enabled and torrent-add's cookies:
// an HTTP server on 127.0.0.1 run by the test serves the lists; a peer on 127.0.0.1 is
// closed once the downloaded list blocks it; the list survives a restart.
#include <atomic>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <map>
#include <poll.h>
#include <mutex>

#include "rpc_fixture.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers each GET by its path from `routes` (a body, sent with 200; unknown: 404) and
// records the request heads.
class ListServer {
  public:
    explicit ListServer(std::map<std::string, std::string> routes)
        : routes_(std::move(routes)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        thread_ = std::thread([this] { serve(); });
    }
    ~ListServer() {
        stop_ = true;
        boost::system::error_code ec;
        tcp::socket s(io_);
        s.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
    }
    std::string last_head() {
        std::lock_guard lk(mu_);
        return last_head_;
    }

  private:
    void serve() {
        while (!stop_) {
            tcp::socket s(io_);
            boost::system::error_code ec;
            acceptor_.accept(s, ec);
            if (ec || stop_) break;
            asio::streambuf buf;
            asio::read_until(s, buf, "\r\n\r\n", ec);
            if (ec) continue;
            std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
            {
                std::lock_guard lk(mu_);
                last_head_ = head;
            }
            auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
            auto it = routes_.find(head.substr(sp1 + 1, sp2 - sp1 - 1));
            std::string body = it == routes_.end() ? "" : it->second;
            std::string res = (it == routes_.end() ? "HTTP/1.1 404 Not Found\r\n" : "HTTP/1.1 200 OK\r\n") +
                              std::string("Content-Length: ") + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
            asio::write(s, asio::buffer(res), ec);
            s.shutdown(tcp::socket::shutdown_both, ec);
        }
    }
    std::map<std::string, std::string> routes_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::string last_head_;
};

struct BlocklistTest : DaemonRpc {};

// Reads from `s` until the other end closes it or `seconds` pass without it doing so
// (poll bounds every wait: asio's blocking reads would ignore SO_RCVTIMEO); returns the
// read's error, or timed_out.
boost::system::error_code read_until_closed(tcp::socket& s, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    char buf[4096];
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return asio::error::timed_out;
        pollfd pfd{s.native_handle(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
        boost::system::error_code ec;
        s.read_some(asio::buffer(buf), ec);
        if (ec) return ec;
    }
}

const char* loopback_list = "# test\nloopback:127.0.0.1-127.0.0.1\nother:127.1.0.0-127.1.0.255\n";
const char* other_list = "001.002.003.000 - 001.002.003.255 , 000 , far away\n";

}  // namespace

TEST_F(BlocklistTest, UpdateFetchesParsesReportsAndSurvivesRestart) {
    ListServer srv({{"/lo.p2p", loopback_list}, {"/other.dat", other_list}, {"/junk", "nothing here\n"}});
    auto s0 = legacy("session-get", R"({"fields":["blocklist-url","blocklist-enabled","blocklist-size"]})");
    EXPECT_EQ(s0.at("blocklist-enabled"), false);
    EXPECT_EQ(s0.at("blocklist-size"), 0);
    // No URL yet: a clear error.
    EXPECT_NE(legacy_error("blocklist-update", "{}").find("blocklist-url is not set"), std::string::npos);
    EXPECT_NE(legacy_error("session-set", R"({"blocklist-url":"ftp://x/y"})").find("blocklist-url"),
              std::string::npos);
    legacy("session-set", R"({"blocklist-url":")" + srv.url("/other.dat") + R"(","blocklist-enabled":true})");
    auto u = legacy("blocklist-update");
    EXPECT_EQ(u.at("blocklist-size"), 1);
    auto j = jrpc("blocklist_update");
    EXPECT_EQ(j.at("blocklist_size"), 1);
    // A 404 and a list without ranges: errors, the old list stays in force.
    legacy("session-set", R"({"blocklist-url":")" + srv.url("/missing") + R"("})");
    EXPECT_NE(legacy_error("blocklist-update", "{}").find("HTTP 404"), std::string::npos);
    legacy("session-set", R"({"blocklist-url":")" + srv.url("/junk") + R"("})");
    EXPECT_NE(legacy_error("blocklist-update", "{}").find("no IP range"), std::string::npos);
    EXPECT_EQ(legacy("session-get").at("blocklist-size"), 1);
    restart();
    auto s1 = jrpc("session_get", R"({"fields":["blocklist_url","blocklist_enabled","blocklist_size"]})");
    EXPECT_EQ(s1.at("blocklist_url").as_string(), srv.url("/junk"));
    EXPECT_EQ(s1.at("blocklist_enabled"), true);
    EXPECT_EQ(s1.at("blocklist_size"), 1);
    legacy("session-set", R"({"blocklist-enabled":false})");
    EXPECT_EQ(legacy("session-get").at("blocklist-size"), 0);
    restart();
    EXPECT_EQ(legacy("session-get").at("blocklist-enabled"), false);
}

TEST_F(BlocklistTest, ABlockedPeerIsClosed) {
    ListServer srv(std::map<std::string, std::string>{{"/lo.p2p", loopback_list}});
    add_file();
    ASSERT_TRUE(wait_status(6));
    std::string ih(get1(R"(["hashString"])").at("hashString").as_string());
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon->peer_port()));
    std::string hs = "\x13" "BitTorrent protocol" + std::string(8, '\0');
    for (std::size_t i = 0; i < 40; i += 2) hs += static_cast<char>(std::stoi(ih.substr(i, 2), nullptr, 16));
    hs += "-XX0001-abcdefghijkl";
    asio::write(s, asio::buffer(hs));
    std::string reply(68, '\0');
    asio::read(s, asio::buffer(reply));
    EXPECT_EQ(reply.substr(28, 20), hs.substr(28, 20));
    legacy("session-set", R"({"blocklist-url":")" + srv.url("/lo.p2p") + R"(","blocklist-enabled":true})");
    EXPECT_EQ(legacy("blocklist-update").at("blocklist-size"), 2);
    // The daemon closes the connection: reads end in EOF.
    auto ec = read_until_closed(s, 10);
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
    // A new connection from 127.0.0.1 is refused as it comes.
    tcp::socket s2(io);
    s2.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon->peer_port()));
    asio::write(s2, asio::buffer(hs), ec);
    ec = read_until_closed(s2, 10);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(BlocklistTest, AMagnetFetchsPeerIsClosedOnceBlocked) {
    ListServer srv(std::map<std::string, std::string>{{"/lo.p2p", loopback_list}});
    const std::string ih = "0123456789abcdef0123456789abcdef01234567";
    legacy("torrent-add", R"({"filename":"magnet:?xt=urn:btih:)" + ih + R"(&dn=m"})");
    // A peer connects to the magnet's fetch (BEP 10 bit set) and gets its handshake back.
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon->peer_port()));
    std::string hs = "\x13" "BitTorrent protocol" + std::string(5, '\0') + "\x10" + std::string(2, '\0');
    for (std::size_t i = 0; i < 40; i += 2) hs += static_cast<char>(std::stoi(ih.substr(i, 2), nullptr, 16));
    hs += "-XX0001-abcdefghijkl";
    asio::write(s, asio::buffer(hs));
    std::string reply(68, '\0');
    boost::system::error_code ec;
    asio::read(s, asio::buffer(reply), ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(reply.substr(28, 20), hs.substr(28, 20));
    legacy("session-set", R"({"blocklist-url":")" + srv.url("/lo.p2p") + R"(","blocklist-enabled":true})");
    EXPECT_EQ(legacy("blocklist-update").at("blocklist-size"), 2);
    // The fetch closes it: reads end in EOF.
    ec = read_until_closed(s, 10);
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
}

TEST_F(BlocklistTest, CookiesAreSentAndChecked) {
    ListServer srv(std::map<std::string, std::string>{{"/t.torrent", torrent_bytes}});
    auto a = legacy("torrent-add", R"({"filename":")" + srv.url("/t.torrent") +
                                       R"(","cookies":"sid=abc; x=1","download-dir":")" +
                                       (dir / "data").string() + R"("})");
    EXPECT_TRUE(a.contains("torrent-added"));
    EXPECT_NE(srv.last_head().find("Cookie: sid=abc; x=1\r\n"), std::string::npos) << srv.last_head();
    EXPECT_NE(legacy_error("torrent-add", R"({"filename":")" + srv.url("/t.torrent") +
                                              R"(","cookies":"a=b\r\nX-Evil: 1"})")
                  .find("CR, LF"),
              std::string::npos);
    EXPECT_NE(legacy_error("torrent-add", R"({"filename":")" + srv.url("/t.torrent") + R"(","cookies":")" +
                                              std::string(9000, 'a') + R"("})")
                  .find("longer than"),
              std::string::npos);
}

TEST_F(BlocklistTest, PexEnabledIsLiveAndStored) {
    EXPECT_EQ(legacy("session-get").at("pex-enabled"), true);
    legacy("session-set", R"({"pex-enabled":false})");
    EXPECT_EQ(legacy("session-get").at("pex-enabled"), false);
    restart();
    EXPECT_EQ(jrpc("session_get").at("pex_enabled"), false);
    legacy("session-set", R"({"pex-enabled":true})");
    restart();
    EXPECT_EQ(legacy("session-get").at("pex-enabled"), true);
}
