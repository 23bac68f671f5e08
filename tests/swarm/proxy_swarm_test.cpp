// Downloads through a SOCKS5 proxy (Settings::proxy), against the in-process test server
// (tests/support/socks5_server.hpp) on 127.0.0.9 and an in-process tracker on 127.0.0.1.
// The leecher's torrent names its tracker "tracker.test", which only the proxy can
// resolve (no DNS in the test's namespace), so an announce that works went through the
// proxy with the name. The seeder (127.0.0.2, no proxy) must see its peer at 127.0.0.9.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "../support/socks5_server.hpp"
#include "swarm_util.hpp"
#include "tracker/server/tracker_server.hpp"

using namespace swarm_test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using piecewise::EventType;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct Tracker {
    asio::io_context io;
    std::unique_ptr<pw::tracker::TrackerServer> server;
    std::thread thread;
    Tracker() {
        pw::tracker::TrackerOptions o;
        o.http = {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        o.udp = {asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        o.interval = std::chrono::seconds(30);
        server = std::make_unique<pw::tracker::TrackerServer>(io, o);
        server->start();
        thread = std::thread([this] { io.run(); });
    }
    ~Tracker() {
        asio::post(io, [this] { server->stop(); });
        io.stop();
        thread.join();
    }
};

bool has(const std::vector<piecewise::Event>& log, EventType t, const std::string& text) {
    for (auto& e : log)
        if (e.type == t && e.message.find(text) != std::string::npos) return true;
    return false;
}

class Proxy : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = temp_dir("proxy");
        data_ = random_bytes(3 * 1024 * 1024 + 1234, 77);
        write_file(dir_ / "seed" / "file.bin", data_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // The seeder's torrent announces to 127.0.0.1, the leecher's to the name the proxy
    // knows; the info-hash is the same (the tracker URL is outside the info dictionary).
    fs::path torrent(const std::string& name, const std::string& url) {
        return make_torrent(dir_ / "seed" / "file.bin", dir_ / name, 256 * 1024, {url});
    }

    std::unique_ptr<piecewise::Session> seeder(const fs::path& t, piecewise::TorrentId& id) {
        auto s = std::make_unique<piecewise::Session>(loopback("127.0.0.2", dir_ / "r-seed"));
        piecewise::AddTorrentParams p;
        p.torrent_file = t.string();
        p.save_path = (dir_ / "seed").string();
        p.upload_only = true;
        id = s->add_torrent(p);
        return s;
    }

    piecewise::Settings leecher_settings(const std::string& proxy_url) {
        auto s = loopback("127.0.0.3", dir_ / "r-leech");
        s.proxy = proxy_url;
        return s;
    }

    piecewise::TorrentId leech(piecewise::Session& s, const fs::path& t,
                               std::vector<std::string> peers = {}) {
        piecewise::AddTorrentParams p;
        p.torrent_file = t.string();
        p.save_path = (dir_ / "get").string();
        p.peers = std::move(peers);
        return s.add_torrent(p);
    }

    // Waits until the seeder's first announce was answered.
    static void wait_announced(piecewise::Session& s, std::vector<piecewise::Event>& log) {
        ASSERT_TRUE(wait_for(
            [&] {
                for (auto& e : s.pop_events()) log.push_back(e);
                return has(log, EventType::tracker_reply, "");
            },
            limit));
    }

    // Every connection the seeder saw came from the proxy's address.
    static void expect_only_proxy_peers(piecewise::Session& seed,
                                        std::vector<piecewise::Event>& log) {
        ASSERT_TRUE(wait_for(
            [&] {
                for (auto& e : seed.pop_events()) log.push_back(e);
                return has(log, EventType::peer_disconnected, "");
            },
            limit));
        for (auto& e : log) {
            if (e.type != EventType::peer_disconnected) continue;
            EXPECT_EQ(e.message.rfind("127.0.0.9:", 0), 0u) << e.message;
        }
    }

    fs::path dir_;
    std::string data_;
};

}  // namespace

TEST_F(Proxy, HttpTrackerAndPeerThroughProxy) {
    Tracker tracker;
    const auto port = std::to_string(tracker.server->http_port());
    socks5_test::Socks5Server proxy({"127.0.0.9", "", "", {{"tracker.test", "127.0.0.1"}}});
    piecewise::TorrentId sid;
    auto seed = seeder(torrent("direct.torrent", "http://127.0.0.1:" + port + "/announce"), sid);
    std::vector<piecewise::Event> seed_log;
    wait_announced(*seed, seed_log);

    auto s = leecher_settings(proxy.url());
    s.dht = true;  // asked for, but off with a proxy (the bootstrap list is never used)
    s.dht_bootstrap = {"127.0.0.1:1"};
    {
        piecewise::Session leecher(s);
        auto id =
            leech(leecher, torrent("named.torrent", "http://tracker.test:" + port + "/announce"));
        ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
        EXPECT_EQ(read_file(dir_ / "get" / "file.bin"), data_);
        leecher.stop();
        // Its own events name the peer it dialled, not the proxy in between.
        auto log = leecher.pop_events();
        EXPECT_TRUE(has(log, EventType::peer_disconnected, endpoint("127.0.0.2", *seed) + " ("));
        EXPECT_FALSE(has(log, EventType::peer_disconnected, "127.0.0.9:"));
    }
    EXPECT_TRUE(proxy.asked_for("tracker.test:" + port));
    EXPECT_TRUE(proxy.asked_for("127.0.0.2:" + std::to_string(seed->listen_port())));
    EXPECT_GE(proxy.connects_ok.load(), 2);  // the tracker (started, stopped...) and the seeder
    EXPECT_GE(proxy.bytes_relayed.load(), static_cast<long long>(data_.size()));
    for (auto& t : proxy.targets())
        EXPECT_TRUE(t.rfind("tracker.test:", 0) == 0 || t.rfind("127.0.0.2:", 0) == 0) << t;
    expect_only_proxy_peers(*seed, seed_log);
}

TEST_F(Proxy, UdpTrackerThroughAssociation) {
    Tracker tracker;
    const auto port = std::to_string(tracker.server->udp_port());
    socks5_test::Socks5Server proxy({"127.0.0.9", "", "", {{"tracker.test", "127.0.0.1"}}});
    piecewise::TorrentId sid;
    auto seed = seeder(torrent("direct.torrent", "udp://127.0.0.1:" + port + "/announce"), sid);
    std::vector<piecewise::Event> seed_log;
    wait_announced(*seed, seed_log);
    {
        piecewise::Session leecher(leecher_settings(proxy.url()));
        auto id = leech(leecher, torrent("named.torrent", "udp://tracker.test:" + port));
        ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
        EXPECT_EQ(read_file(dir_ / "get" / "file.bin"), data_);
        leecher.stop();
    }
    EXPECT_GE(proxy.associations.load(), 1);
    EXPECT_GE(proxy.datagrams_out.load(), 2);  // connect, announce
    EXPECT_GE(proxy.datagrams_in.load(), 2);
    EXPECT_TRUE(proxy.asked_for("tracker.test:" + port));
    EXPECT_GE(proxy.bytes_relayed.load(), static_cast<long long>(data_.size()));
    expect_only_proxy_peers(*seed, seed_log);
}

TEST_F(Proxy, AuthFailureIsClearAndNothingGoesDirect) {
    Tracker tracker;
    const auto port = std::to_string(tracker.server->http_port());
    socks5_test::Socks5Server proxy(
        {"127.0.0.9", "alice", "right", {{"tracker.test", "127.0.0.1"}}});
    piecewise::TorrentId sid;
    auto seed = seeder(torrent("direct.torrent", "http://127.0.0.1:" + port + "/announce"), sid);
    const std::string url = "socks5://alice:wrong@127.0.0.9:" + std::to_string(proxy.port());
    piecewise::Session leecher(leecher_settings(url));
    const auto seed_ep = endpoint("127.0.0.2", *seed);
    auto id = leech(leecher, torrent("named.torrent", "http://tracker.test:" + port + "/announce"),
                    {seed_ep});
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto& e : leecher.pop_events()) log.push_back(e);
            return has(log, EventType::tracker_error, "proxy: authentication refused") &&
                   has(log, EventType::peer_disconnected,
                       seed_ep + ": proxy: authentication refused");
        },
        limit));
    EXPECT_GE(proxy.auth_failures.load(), 2);
    EXPECT_EQ(proxy.connects.load(), 0);
    EXPECT_EQ(leecher.status(id)->pieces_have, 0);
    EXPECT_EQ(seed->status(sid)->peers, 0);  // no direct connection instead
    leecher.stop(std::chrono::milliseconds(0));
}

TEST_F(Proxy, UnreachableProxyFailsWithoutGoingDirect) {
    Tracker tracker;
    const auto port = std::to_string(tracker.server->http_port());
    std::uint16_t dead_port;
    {
        asio::io_context io;
        asio::ip::tcp::acceptor a(io,
                                  asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.9"), 0));
        dead_port = a.local_endpoint().port();
    }
    piecewise::TorrentId sid;
    auto seed = seeder(torrent("direct.torrent", "http://127.0.0.1:" + port + "/announce"), sid);
    piecewise::Session leecher(leecher_settings("socks5://127.0.0.9:" + std::to_string(dead_port)));
    const auto seed_ep = endpoint("127.0.0.2", *seed);
    auto id = leech(leecher, torrent("direct2.torrent", "http://127.0.0.1:" + port + "/announce"),
                    {seed_ep});
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto& e : leecher.pop_events()) log.push_back(e);
            return has(log, EventType::tracker_error, "proxy: cannot reach 127.0.0.9:") &&
                   has(log, EventType::peer_disconnected, seed_ep + ": proxy: cannot reach");
        },
        limit));
    EXPECT_EQ(leecher.status(id)->pieces_have, 0);
    EXPECT_EQ(seed->status(sid)->peers, 0);
    leecher.stop(std::chrono::milliseconds(0));
}

TEST_F(Proxy, MalformedProxyIsRefused) {
    auto s = leecher_settings("socks5://127.0.0.9");
    try {
        piecewise::Session bad(s);
        FAIL() << "accepted a proxy URL without a port";
    } catch (const piecewise::Error& e) {
        EXPECT_NE(std::string(e.what()).find("bad proxy: proxy URL has no port"), std::string::npos)
            << e.what();
    }
}

// With a proxy the DHT is off: a bootstrap node on loopback hears nothing. Without the
// proxy the same settings make it hear a query (so the check can fail).
TEST_F(Proxy, DhtIsOffWithAProxy) {
    for (bool with_proxy : {true, false}) {
        asio::io_context io;
        asio::ip::udp::socket node(io,
                                   asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.7"), 0));
        node.non_blocking(true);
        auto s = leecher_settings(with_proxy ? "socks5://127.0.0.9:1080" : "");
        s.dht = true;
        s.dht_bootstrap = {"127.0.0.7:" + std::to_string(node.local_endpoint().port())};
        s.dht_state_file = (dir_ / ("dht" + std::to_string(with_proxy))).string();
        piecewise::Session session(s);
        const bool heard = wait_for(
            [&] {
                char buf[1500];
                boost::system::error_code ec;
                asio::ip::udp::endpoint from;
                node.receive_from(asio::buffer(buf), from, 0, ec);
                return !ec;
            },
            std::chrono::seconds(3));
        EXPECT_EQ(heard, !with_proxy)
            << (with_proxy ? "DHT traffic with a proxy" : "control: no DHT traffic");
        session.stop(std::chrono::milliseconds(0));
    }
}
