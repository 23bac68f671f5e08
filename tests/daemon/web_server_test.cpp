// The web UI's endpoints over real sockets on 127.0.0.1: the page and its security
// headers, the access checks, /metrics, and the /events stream (snapshot, then an update
// when a torrent is added; no engine ticks while nobody listens; the client limit).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "daemon/daemon.hpp"
#include "daemon/http/server.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct WebServerTest : ::testing::Test {
    fs::path dir;
    std::unique_ptr<pw::daemon::Daemon> daemon;
    std::unique_ptr<pw::daemon::rpc::Methods> methods;
    std::unique_ptr<pw::daemon::http::Server> server;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-web-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data");
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
    void serve(std::optional<std::string> auth = {}, bool per_torrent = false) {
        pw::daemon::http::ServerConfig sc;
        sc.listen = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        sc.auth = auth;
        sc.allow = {asio::ip::make_address("127.0.0.1")};
        sc.metrics_per_torrent = per_torrent;
        server = std::make_unique<pw::daemon::http::Server>(sc, *methods, [] {});
    }
    bhttp::response<bhttp::string_body> get(std::string target, std::string host = "127.0.0.1",
                                            bhttp::verb verb = bhttp::verb::get) {
        asio::io_context io;
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
        bhttp::request<bhttp::string_body> r{verb, target, 11};
        r.set(bhttp::field::host, host);
        bhttp::write(s, r);
        boost::beast::flat_buffer buf;
        bhttp::response_parser<bhttp::string_body> p;
        p.skip(verb == bhttp::verb::head);
        bhttp::read(s, buf, p);
        return p.release();
    }
    std::string add_torrent(const std::string& name) {
        std::mt19937 rng(7);
        std::string payload(50000, '\0');
        for (auto& c : payload) c = static_cast<char>(rng());
        auto file = dir / "data" / name;
        std::ofstream(file, std::ios::binary) << payload;
        pw::meta::CreateOptions o;
        o.piece_size = 16 << 10;
        pw::daemon::AddRequest a;
        a.metainfo = pw::meta::create_torrent(file, o);
        a.download_dir = (dir / "data").string();
        a.paused = true;
        return daemon->add(a).name;
    }
};

// An open /events stream read with a deadline.
struct EventStream {
    asio::io_context io;
    tcp::socket s{io};
    std::string got;
    explicit EventStream(std::uint16_t port) {
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        std::string req = "GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n";
        asio::write(s, asio::buffer(req));
    }
    // Reads until `what` arrived (true) or `timeout` passed.
    bool wait_for(const std::string& what, std::chrono::milliseconds timeout) {
        auto until = std::chrono::steady_clock::now() + timeout;
        s.non_blocking(true);
        while (got.find(what) == std::string::npos) {
            if (std::chrono::steady_clock::now() > until) return false;
            char buf[65536];
            boost::system::error_code ec;
            auto n = s.read_some(asio::buffer(buf), ec);
            if (ec == asio::error::would_block) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            if (ec) return false;
            got.append(buf, n);
        }
        return true;
    }
};

}  // namespace

TEST_F(WebServerTest, PageWithSecurityHeaders) {
    serve();
    auto r = get("/");
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r[bhttp::field::content_type], "text/html; charset=utf-8");
    auto csp = std::string(r["Content-Security-Policy"]);
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
    EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
    EXPECT_NE(r.body().find("/js/app.js"), std::string::npos);
    auto js = get("/js/app.js");
    EXPECT_EQ(js.result(), bhttp::status::ok);
    EXPECT_EQ(js[bhttp::field::content_type], "text/javascript; charset=utf-8");
    auto head = get("/app.css", "localhost", bhttp::verb::head);
    EXPECT_EQ(head.result(), bhttp::status::ok);
    EXPECT_GT(std::stoul(std::string(head[bhttp::field::content_length])), 100u);
    EXPECT_EQ(get("/nothing.js").result(), bhttp::status::not_found);
    auto events_head = get("/events", "localhost", bhttp::verb::head);  // answered, not streamed
    EXPECT_EQ(events_head.result(), bhttp::status::ok);
    EXPECT_EQ(events_head[bhttp::field::content_type], "text/event-stream; charset=utf-8");
    EXPECT_EQ(get("/", "evil.example").result(), bhttp::status::misdirected_request);
    EXPECT_EQ(get("/events", "evil.example").result(), bhttp::status::misdirected_request);
    EXPECT_EQ(get("/", "127.0.0.1", bhttp::verb::post).result(), bhttp::status::method_not_allowed);
}

TEST_F(WebServerTest, EverythingNeedsTheCredentials) {
    serve(std::string("alice:s3cret"));
    for (auto t : {"/", "/js/app.js", "/events", "/metrics"})
        EXPECT_EQ(get(t).result(), bhttp::status::unauthorized) << t;
}

TEST_F(WebServerTest, Metrics) {
    serve({}, true);
    add_torrent("one.bin");
    auto r = get("/metrics");
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body().find("piecewise_torrents{state=\"stopped\"} 1\n"), std::string::npos)
        << r.body();
    EXPECT_NE(r.body().find("piecewise_torrent_size_bytes{info_hash=\""), std::string::npos);
    EXPECT_NE(r.body().find(",name=\"one.bin\"} 50000\n"), std::string::npos);
}

TEST_F(WebServerTest, EventsSnapshotThenUpdates) {
    serve();
    add_torrent("<img src=x onerror=alert(1)>");
    // Nobody listens: the feed does not ask the engine anything.
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    EXPECT_EQ(server->event_ticks(), 0u);
    EventStream es(server->port());
    ASSERT_TRUE(es.wait_for("event: snapshot\n", std::chrono::seconds(5))) << es.got;
    EXPECT_NE(es.got.find("Content-Type: text/event-stream"), std::string::npos);
    ASSERT_TRUE(es.wait_for("\n\n", std::chrono::seconds(5)));
    // The name travels as a JSON string (the page puts it into textContent).
    EXPECT_NE(es.got.find(R"("name":"<img src=x onerror=alert(1)>")"), std::string::npos) << es.got;
    add_torrent("second.bin");
    ASSERT_TRUE(es.wait_for("event: update\n", std::chrono::seconds(5))) << es.got;
    ASSERT_TRUE(es.wait_for(R"("name":"second.bin")", std::chrono::seconds(5))) << es.got;
    EXPECT_GT(server->event_ticks(), 0u);
}

TEST_F(WebServerTest, EventClientsAreLimited) {
    serve();
    std::vector<std::unique_ptr<EventStream>> streams;
    for (int i = 0; i < 16; ++i) {
        streams.push_back(std::make_unique<EventStream>(server->port()));
        ASSERT_TRUE(streams.back()->wait_for("event: snapshot", std::chrono::seconds(5))) << i;
    }
    EventStream extra(server->port());
    ASSERT_TRUE(extra.wait_for("\r\n\r\n", std::chrono::seconds(5)));
    EXPECT_EQ(extra.got.rfind("HTTP/1.1 503", 0), 0u) << extra.got;
    streams.pop_back();  // one leaves: room again
    bool admitted = false;
    for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
        EventStream again(server->port());
        admitted = again.wait_for("event: snapshot", std::chrono::seconds(2));
        if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(admitted);
}
