// The daemon's HTTP server over real sockets on 127.0.0.1: session-id handshake, Host
// check, Basic auth, allow-list, body limit, keep-alive across a 409.
#include "daemon/http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <random>

#include "daemon/daemon.hpp"
#include "daemon/rpc/methods.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct ServerTest : ::testing::Test {
    fs::path dir;
    std::unique_ptr<pw::daemon::Daemon> daemon;
    std::unique_ptr<pw::daemon::rpc::Methods> methods;
    std::unique_ptr<pw::daemon::http::Server> server;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-http-" + std::to_string(std::random_device{}()));
        pw::daemon::DaemonConfig c;
        c.state_dir = (dir / "state").string();
        c.download_dir = (dir / "dl").string();
        c.settings.listen = "127.0.0.1:0";
        c.settings.dht = false;
        daemon = std::make_unique<pw::daemon::Daemon>(c);
        methods = std::make_unique<pw::daemon::rpc::Methods>(*daemon);
    }
    void TearDown() override {
        server.reset();
        methods.reset();
        daemon.reset();
        fs::remove_all(dir);
    }
    void serve(std::optional<std::string> auth = {}, std::string allow = "127.0.0.1") {
        pw::daemon::http::ServerConfig sc;
        sc.listen = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        sc.auth = auth;
        sc.allow = {asio::ip::make_address(allow)};
        server = std::make_unique<pw::daemon::http::Server>(sc, *methods, [] {});
    }

    // One connection; sends the requests in order and returns their responses.
    std::vector<bhttp::response<bhttp::string_body>> exchange(
        std::vector<bhttp::request<bhttp::string_body>> reqs) {
        asio::io_context io;
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
        boost::beast::flat_buffer buf;
        std::vector<bhttp::response<bhttp::string_body>> out;
        for (auto& r : reqs) {
            r.prepare_payload();
            boost::system::error_code ec;
            bhttp::write(s, r, ec);
            bhttp::response<bhttp::string_body> res;
            bhttp::read(s, buf, res, ec);
            if (ec) break;
            out.push_back(std::move(res));
        }
        return out;
    }
    bhttp::request<bhttp::string_body> post(std::string body, std::string sid = "",
                                            std::string host = "127.0.0.1") {
        bhttp::request<bhttp::string_body> r{bhttp::verb::post, "/transmission/rpc/", 11};
        r.set(bhttp::field::host, host);
        r.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
        if (!sid.empty()) r.set("X-Transmission-Session-Id", sid);
        r.body() = std::move(body);
        return r;
    }
};

const std::string stats = R"({"method":"session-stats"})";

}  // namespace

TEST_F(ServerTest, SessionIdHandshakeThenAnswerOnTheSameConnection) {
    serve();
    auto res = exchange({post(stats), post(stats, server->session_id()), post(stats, "stale")});
    ASSERT_EQ(res.size(), 3u);
    EXPECT_EQ(res[0].result(), bhttp::status::conflict);
    EXPECT_EQ(res[0]["X-Transmission-Session-Id"], server->session_id());
    EXPECT_EQ(res[1].result(), bhttp::status::ok);
    EXPECT_NE(res[1].body().find("\"result\":\"success\""), std::string::npos);
    EXPECT_EQ(res[2].result(), bhttp::status::conflict);
}

TEST_F(ServerTest, HostPathAndMethodChecks) {
    serve();
    auto sid = server->session_id();
    EXPECT_EQ(exchange({post(stats, sid, "evil.example:9091")}).at(0).result(),
              bhttp::status::misdirected_request);
    EXPECT_EQ(exchange({post(stats, sid, "localhost:9091")}).at(0).result(), bhttp::status::ok);
    auto other = post(stats, sid);
    other.target("/other");
    EXPECT_EQ(exchange({other}).at(0).result(), bhttp::status::not_found);
    auto get = post("", sid);
    get.method(bhttp::verb::get);
    EXPECT_EQ(exchange({get}).at(0).result(), bhttp::status::method_not_allowed);
}

TEST_F(ServerTest, BasicAuth) {
    serve(std::string("alice:s3cret"));
    auto sid = server->session_id();
    auto r = exchange({post(stats, sid)});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result(), bhttp::status::unauthorized);
    EXPECT_NE(r[0][bhttp::field::www_authenticate].find("Basic"), std::string::npos);
    auto ok = post(stats, sid);
    ok.set(bhttp::field::authorization, "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
    EXPECT_EQ(exchange({ok}).at(0).result(), bhttp::status::ok);
    auto bad = post(stats, sid);
    bad.set(bhttp::field::authorization, "Basic YWxpY2U6czNjcmVU");  // alice:s3creT
    EXPECT_EQ(exchange({bad}).at(0).result(), bhttp::status::unauthorized);
}

TEST_F(ServerTest, ClientNotOnTheAllowListIsForbidden) {
    serve({}, "127.0.0.9");
    auto r = exchange({post(stats, server->session_id())});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result(), bhttp::status::forbidden);
}

TEST_F(ServerTest, BodyOverTheLimitIs413) {
    serve();
    auto r = exchange({post(std::string(11u << 20, ' '), server->session_id())});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result(), bhttp::status::payload_too_large);
}

TEST_F(ServerTest, NotificationIs204) {
    serve();
    auto r =
        exchange({post(R"({"jsonrpc":"2.0","method":"session_stats"})", server->session_id())});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].result(), bhttp::status::no_content);
}
