// Peers over IPv6 on ::1: two sessions moving a torrent over TCP and over uTP (BEP 29);
// a session with two listeners (Settings::listen2, an IPv4 and an IPv6 address on one
// port) serving a leecher of each family; an in-process tracker reached over IPv6 that
// answers with compact peers6 (BEP 7); BEP 10's "ipv6" handshake value making the other
// address a known peer; PEX added6 (BEP 11); the listener pair's configuration errors; a
// lone [::] listener (dual-stack) seeing an IPv4 peer as its IPv4 address; the DHT over
// IPv6 (BEP 32), alone and on the second listener; a seed with two listeners announcing
// from each (BEP 7, live in tests/interop/bep7_netns_test.sh). Needs ::1 on lo (the test
// network namespace has it once lo is up).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "swarm_util.hpp"
#include "tracker/server/tracker_server.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
namespace asio = boost::asio;

namespace {

constexpr auto limit = std::chrono::seconds(60);

class Tracker6 {  // an in-process `piecewise tracker` (HTTP) on [::1]
  public:
    Tracker6() {
        pw::tracker::TrackerOptions o;
        o.http = {asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 0)};
        server_ = std::make_unique<pw::tracker::TrackerServer>(io_, o);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Tracker6() {
        asio::post(io_, [this] { server_->stop(); });
        io_.stop();
        thread_.join();
    }
    std::string http_url() const {
        return "http://[::1]:" + std::to_string(server_->http_port()) + "/announce";
    }

  private:
    asio::io_context io_;
    std::unique_ptr<pw::tracker::TrackerServer> server_;
    std::thread thread_;
};

// `piecewise tracker` on 127.0.0.1 and ::1 at one port (TrackerOptions with an address of
// each family over one swarm store), as a tracker host with both families.
class DualTracker {
  public:
    DualTracker() {
        pw::tracker::TrackerOptions o;
        o.http = {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 0)};
        server_ = std::make_unique<pw::tracker::TrackerServer>(io_, o);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~DualTracker() {
        asio::post(io_, [this] { server_->stop(); });
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->http_port(); }

  private:
    asio::io_context io_;
    std::unique_ptr<pw::tracker::TrackerServer> server_;
    std::thread thread_;
};

struct Ipv6 : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(3 << 20, 23);
        write_file(dir / "seed" / "payload.bin", data);
        torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    }
    void TearDown() override { fs::remove_all(dir); }

    piecewise::Settings settings(const std::string& listen, const std::string& name) {
        auto s = loopback("127.0.0.1", dir / ("r-" + name));
        s.listen = listen;
        return s;
    }
    AddTorrentParams params(const fs::path& save, std::vector<std::string> peers, bool upload_only,
                            const fs::path& t = {}) {
        AddTorrentParams p;
        p.torrent_file = (t.empty() ? torrent : t).string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }
    bool same_data(const std::string& sub) { return read_file(dir / sub / "payload.bin") == data; }
};

std::string v6_endpoint(const Session& s) { return "[::1]:" + std::to_string(s.listen_port()); }

// Every connected peer of `id` is at `address`, and there is one.
bool peers_at(const Session& s, piecewise::TorrentId id, const std::string& address) {
    auto st = s.status(id);
    if (!st || st->peer_list.empty()) return false;
    for (auto& p : st->peer_list)
        if (p.address != address) return false;
    return true;
}

}  // namespace

TEST_F(Ipv6, TcpOnLoopback) {
    auto seed_s = settings("[::1]:0", "seed");
    seed_s.utp = false;
    Session seed(seed_s);
    seed.add_torrent(params(dir / "seed", {}, true));
    auto leech_s = settings("[::1]:0", "leech");
    leech_s.utp = false;
    Session leech(leech_s);
    auto lid = leech.add_torrent(params(dir / "leech", {v6_endpoint(seed)}, false));
    // Both sessions have no address but ::1, so the data came over IPv6.
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
}

TEST_F(Ipv6, UtpOnlyOnLoopback) {
    auto seed_s = settings("[::1]:0", "seed");
    seed_s.tcp = false;
    Session seed(seed_s);
    seed.add_torrent(params(dir / "seed", {}, true));
    auto leech_s = settings("[::1]:0", "leech");
    leech_s.tcp = false;
    Session leech(leech_s);
    auto lid = leech.add_torrent(params(dir / "leech", {v6_endpoint(seed)}, false));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
}

// One seed listening on 127.0.0.2 and ::1 at one port: an IPv6 leecher (TCP) and an IPv4
// one (uTP only) each dial the address of their own family.
TEST_F(Ipv6, TwoListenersServeBothFamilies) {
    auto seed_s = settings("127.0.0.2:0", "seed");
    seed_s.listen2 = "[::1]:0";
    Session seed(seed_s);
    seed.add_torrent(params(dir / "seed", {}, true));
    auto l6_s = settings("[::1]:0", "l6");
    l6_s.utp = false;
    Session leech6(l6_s);
    auto l4_s = settings("127.0.0.3:0", "l4");
    l4_s.tcp = false;
    Session leech4(l4_s);
    auto id6 = leech6.add_torrent(params(dir / "l6", {v6_endpoint(seed)}, false));
    auto id4 = leech4.add_torrent(params(dir / "l4", {endpoint("127.0.0.2", seed)}, false));
    ASSERT_TRUE(wait_for([&] { return complete(leech6, id6) && complete(leech4, id4); }, limit));
    EXPECT_TRUE(same_data("l6"));
    EXPECT_TRUE(same_data("l4"));
}

// Both listeners: uTP on the IPv6 one too (its own UDP socket).
TEST_F(Ipv6, TwoListenersUtpOverIpv6) {
    auto seed_s = settings("[::1]:0", "seed");  // the IPv6 address first: the order is free
    seed_s.listen2 = "127.0.0.2:0";
    seed_s.tcp = false;
    Session seed(seed_s);
    seed.add_torrent(params(dir / "seed", {}, true));
    auto l_s = settings("[::1]:0", "l6");
    l_s.tcp = false;
    Session leech(l_s);
    auto id = leech.add_torrent(params(dir / "l6", {v6_endpoint(seed)}, false));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit));
    EXPECT_TRUE(same_data("l6"));
}

TEST_F(Ipv6, ListenerPairErrors) {
    auto s = settings("127.0.0.2:0", "a");
    s.listen2 = "127.0.0.3:0";
    EXPECT_THROW(Session{s}, piecewise::Error);  // two IPv4 addresses
    s.listen2 = "[::ffff:127.0.0.3]:0";
    EXPECT_THROW(Session{s}, piecewise::Error);  // an IPv4-mapped address is IPv4
    s.listen = "127.0.0.2:40001";
    s.listen2 = "[::1]:40002";
    EXPECT_THROW(Session{s}, piecewise::Error);  // two ports
    s.listen2 = "::1";
    EXPECT_THROW(Session{s}, piecewise::Error);  // no port
    s.listen2 = "[::1]:40001";
    Session ok(s);
    EXPECT_EQ(ok.listen_port(), 40001);
}

// A tracker on [::1]: the seed and the leecher (both on ::1) announce over IPv6, and the
// leecher finds the seed in the reply's peers6 (BEP 7).
TEST_F(Ipv6, TrackerPeers6) {
    Tracker6 tracker;
    auto t = make_torrent(dir / "seed" / "payload.bin", dir / "tr.torrent", 64 << 10, {tracker.http_url()});
    Session seed(settings("[::1]:0", "seed"));
    auto sid = seed.add_torrent(params(dir / "seed", {}, true, t));
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = seed.status(sid);
            return st && !st->trackers.empty() && st->trackers[0].seeders >= 1;
        },
        std::chrono::seconds(20)));
    Session leech(settings("[::1]:0", "leech"));
    auto lid = leech.add_torrent(params(dir / "leech", {}, false, t));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
    auto st = leech.status(lid);
    ASSERT_TRUE(st && !st->trackers.empty());
    EXPECT_GE(st->trackers[0].peers_returned, 1);
}

// The seed listens on 127.0.0.2 and ::1; a leecher with both families dials it over IPv4
// only. The seed's extension handshake carries "ipv6" (BEP 10), so the leecher knows the
// seed's IPv6 endpoint as a second peer address.
TEST_F(Ipv6, ExtHandshakeIpv6BecomesAPeer) {
    auto seed_s = settings("127.0.0.2:0", "seed");
    seed_s.listen2 = "[::1]:0";
    seed_s.utp = false;
    Session seed(seed_s);
    seed.add_torrent(params(dir / "seed", {}, true));
    auto l_s = settings("127.0.0.3:0", "leech");
    l_s.listen2 = "[::1]:0";
    l_s.utp = false;
    Session leech(l_s);
    auto lid = leech.add_torrent(params(dir / "leech", {endpoint("127.0.0.2", seed)}, false));
    EXPECT_TRUE(wait_for(
        [&] {
            auto st = leech.status(lid);
            return st && st->known_peers >= 2;
        },
        std::chrono::seconds(20)));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
}

// PEX over IPv6 (BEP 11 added6): two leechers on ::1 that each know only the seed learn
// of each other from the seed's first PEX message (about 5 s after they connect).
TEST_F(Ipv6, PexAdded6) {
    Session seed(settings("[::1]:0", "seed"));
    seed.add_torrent(params(dir / "seed", {}, true));
    auto a_s = settings("[::1]:0", "a");
    a_s.rate_limits.download_rate_limit = 64 << 10;  // both still leeching when PEX comes
    auto b_s = settings("[::1]:0", "b");
    b_s.rate_limits.download_rate_limit = 64 << 10;
    Session a(a_s), b(b_s);
    auto aid = a.add_torrent(params(dir / "a", {v6_endpoint(seed)}, false));
    auto bid = b.add_torrent(params(dir / "b", {v6_endpoint(seed)}, false));
    auto knows_two = [](const Session& s, piecewise::TorrentId id) {
        auto st = s.status(id);
        return st && st->known_peers >= 2;
    };
    EXPECT_TRUE(wait_for([&] { return knows_two(a, aid) && knows_two(b, bid); }, std::chrono::seconds(30)));
    // And they connect to each other: each has two peers, both at ::1.
    EXPECT_TRUE(wait_for(
        [&] {
            auto sa = a.status(aid);
            return sa && sa->peer_list.size() >= 2 && peers_at(a, aid, "::1");
        },
        std::chrono::seconds(20)));
}

// A single dual-stack listener ([::]) takes an IPv4 peer as its IPv4 address, not as
// ::ffff:127.0.0.3 (the per-address caps, the blocklist and known peers see one form).
TEST_F(Ipv6, DualStackWildcardUnmapsIpv4Peers) {
    auto seed_s = settings("[::]:0", "seed");
    seed_s.utp = false;
    seed_s.rate_limits.upload_rate_limit = 256 << 10;  // connected for a while
    Session seed(seed_s);
    auto sid = seed.add_torrent(params(dir / "seed", {}, true));
    auto l_s = settings("127.0.0.3:0", "leech");
    l_s.utp = false;
    Session leech(l_s);
    auto lid = leech.add_torrent(params(dir / "leech", {endpoint("127.0.0.1", seed)}, false));
    EXPECT_TRUE(wait_for([&] { return peers_at(seed, sid, "127.0.0.3"); }, std::chrono::seconds(20)));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
}

// The DHT over IPv6 only (BEP 32): three sessions listening on [::1] alone (so their DHT
// is the IPv6 one), bootstrapping from one of them by "[::1]:port". The seed announces
// over the IPv6 DHT; the leecher, holding only a magnet, finds it there, fetches the
// metadata and downloads.
TEST_F(Ipv6, DhtMagnetOverIpv6Only) {
    auto meta = pw::meta::load(torrent);
    auto dht_settings = [&](const std::string& name, std::vector<std::string> boot) {
        auto s = settings("[::1]:0", name);
        s.dht = true;
        s.dht_bootstrap = std::move(boot);
        return s;
    };
    Session boot(dht_settings("boot", {}));
    Session seed(dht_settings("seed", {v6_endpoint(boot)}));
    auto sid = seed.add_torrent(params(dir / "seed", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    ASSERT_TRUE(wait_for([&] { return seed.session_stats().dht_nodes >= 1; }, limit));
    std::this_thread::sleep_for(std::chrono::seconds(2));  // its first DHT announce
    Session leech(dht_settings("leech", {v6_endpoint(boot)}));
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:" + meta.info_hash.hex();
    p.save_path = (dir / "leech").string();
    auto lid = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
    EXPECT_GE(boot.session_stats().dht_queries_served, 2u);
}

// Two listeners each (127.0.0.x and ::1): the IPv6 DHT runs on the second listener's UDP
// socket, next to uTP. Only an IPv6 bootstrap address is given, so the IPv4 DHT stays
// empty and the seed can only be found through the IPv6 one; the leecher reaches it over
// uTP on that same socket (TCP off), so KRPC and uTP share it.
TEST_F(Ipv6, DhtOnTheSecondListenerBesideUtp) {
    auto meta = pw::meta::load(torrent);
    auto dht_settings = [&](const std::string& ip4, const std::string& name,
                            std::vector<std::string> boot) {
        auto s = settings(ip4 + ":0", name);
        s.listen2 = "[::1]:0";
        s.dht = true;
        s.dht_bootstrap = std::move(boot);
        return s;
    };
    Session boot(dht_settings("127.0.0.21", "boot", {}));
    Session seed(dht_settings("127.0.0.22", "seed", {v6_endpoint(boot)}));
    auto sid = seed.add_torrent(params(dir / "seed", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    ASSERT_TRUE(wait_for([&] { return seed.session_stats().dht_nodes >= 1; }, limit));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto ls = dht_settings("127.0.0.23", "leech", {v6_endpoint(boot)});
    ls.tcp = false;
    Session leech(ls);
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:" + meta.info_hash.hex();
    p.save_path = (dir / "leech").string();
    auto lid = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_TRUE(same_data("leech"));
}

// BEP 7 live (tests/interop/bep7_netns_test.sh runs it in a namespace of its own whose
// /etc/hosts gives "dual.tracker.test" both 127.0.0.1 and ::1; skipped where the name
// does not have both): a seed with two listeners announces from each of them, so the
// tracker, on both and reached by that name, records the seed's IPv4 and IPv6 endpoints.
// A leecher with only an IPv4 listener finds the seed through the tracker alone, and is
// given both endpoints; a leecher with only IPv6 finds it too.
TEST_F(Ipv6, Bep7LiveTwoListenersAnnounceFromEach) {
    constexpr const char* host = "dual.tracker.test";
    asio::io_context io;
    boost::system::error_code ec;
    auto found = asio::ip::tcp::resolver(io).resolve(host, "", ec);
    bool v4 = false, v6 = false;
    if (!ec)
        for (auto& e : found) (e.endpoint().address().is_v4() ? v4 : v6) = true;
    if (!v4 || !v6) GTEST_SKIP() << host << " does not resolve to both families here";

    DualTracker tracker;
    auto url = std::string("http://") + host + ":" + std::to_string(tracker.port()) + "/announce";
    auto t = make_torrent(dir / "seed" / "payload.bin", dir / "dual.torrent", 64 << 10, {url});
    auto seed_s = settings("127.0.0.1:0", "seed");
    seed_s.listen2 = "[::1]:0";
    Session seed(seed_s);
    auto sid = seed.add_torrent(params(dir / "seed", {}, true, t));
    // Both announces are made before the tracker's status shows the reply.
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = seed.status(sid);
            return st && !st->trackers.empty() && st->trackers[0].seeders >= 1 &&
                   st->trackers[0].last_error.empty();
        },
        std::chrono::seconds(20)));

    auto l4_s = settings("127.0.0.2:0", "l4");
    Session leech4(l4_s);
    auto id4 = leech4.add_torrent(params(dir / "l4", {}, false, t));
    ASSERT_TRUE(wait_for([&] { return complete(leech4, id4); }, limit));
    EXPECT_TRUE(same_data("l4"));
    auto st4 = leech4.status(id4);
    ASSERT_TRUE(st4 && !st4->trackers.empty());
    EXPECT_EQ(st4->trackers[0].peers_returned, 2) << "the seed's IPv4 and IPv6 endpoints";

    Session leech6(settings("[::1]:0", "l6"));
    auto id6 = leech6.add_torrent(params(dir / "l6", {}, false, t));
    ASSERT_TRUE(wait_for([&] { return complete(leech6, id6); }, limit));
    EXPECT_TRUE(same_data("l6"));
}
