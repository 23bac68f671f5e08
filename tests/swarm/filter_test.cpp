// IP blocklists and binding to a network interface, in-process on 127.0.0.x: a blocked
// peer is never dialled (from --peer or from a tracker's reply) and is closed as it dials
// in, while the unblocked seed completes the transfer; `bind_interface = "lo"` carries
// peers, HTTP and UDP trackers and the DHT; a missing interface or an unusable blocklist
// stops the session from starting.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "fake_peer.hpp"
#include "swarm_util.hpp"
#include "tracker/server/tracker_server.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
namespace asio = boost::asio;

namespace {

constexpr auto limit = std::chrono::seconds(60);

// An in-process `piecewise tracker` (HTTP and UDP) on 127.0.0.1, on its own thread.
class Tracker {
  public:
    Tracker() {
        pw::tracker::TrackerOptions o;
        o.http = {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        o.udp = {asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        server_ = std::make_unique<pw::tracker::TrackerServer>(io_, o);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Tracker() {
        asio::post(io_, [this] { server_->stop(); });
        io_.stop();
        thread_.join();
    }
    std::string http_url() const {
        return "http://127.0.0.1:" + std::to_string(server_->http_port()) + "/announce";
    }
    std::string udp_url() const { return "udp://127.0.0.1:" + std::to_string(server_->udp_port()); }

  private:
    asio::io_context io_;
    std::unique_ptr<pw::tracker::TrackerServer> server_;
    std::thread thread_;
};

struct Filter : ::testing::Test {
    fs::path dir;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override { fs::remove_all(dir); }

    AddTorrentParams params(const fs::path& torrent, const fs::path& save,
                            std::vector<std::string> peers = {}, bool upload_only = false) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }
};

// What a peer dialling from `from_ip` gets back after sending a handshake for `ih`:
// the number of bytes before the connection closed or 3 s passed, and whether it closed.
struct DialResult {
    std::size_t received = 0;
    bool closed = false;
};

DialResult dial_in(const std::string& from_ip, const std::string& to_ip, std::uint16_t port,
                   const pw::Sha1Digest& ih) {
    DialResult out;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, from_ip.c_str(), &a.sin_addr);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, to_ip.c_str(), &to.sin_addr);
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        out.closed = true;
        return out;
    }
    pw::wire::Handshake h;
    h.info_hash = ih;
    std::string id = "-XX0001-dialin000000";
    std::memcpy(h.peer_id.data(), id.data(), 20);
    std::string hs = pw::wire::encode_handshake(h);
    (void)::send(fd, hs.data(), hs.size(), MSG_NOSIGNAL);  // may fail: closed already
    char buf[256];
    while (out.received < pw::wire::handshake_size) {
        ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            out.received += static_cast<std::size_t>(r);
            continue;
        }
        out.closed = r == 0 || errno == ECONNRESET;
        break;
    }
    ::close(fd);
    return out;
}

bool has_event(std::vector<piecewise::Event>& log, Session& s, piecewise::EventType t,
               const std::string& text) {
    for (auto& e : s.pop_events()) log.push_back(e);
    for (auto& e : log)
        if (e.type == t && e.message.find(text) != std::string::npos) return true;
    return false;
}

bool announced(Session& s, piecewise::TorrentId id) {
    auto st = s.status(id);
    if (!st || st->trackers.empty()) return false;
    for (auto& t : st->trackers)
        if (!t.last_error.empty() || t.next_announce_s == 0) return false;
    return true;
}

}  // namespace

TEST_F(Filter, BlockedPeersAreNeitherDialledNorAccepted) {
    Tracker tracker;
    std::string data = random_bytes(3 << 20, 11);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10,
                                {tracker.http_url()});
    auto meta = pw::meta::load(torrent);

    // Blocked: a scripted seed given by --peer, and a real seed the tracker returns.
    FakePeer fake("127.0.0.5", meta, data, {});
    Session blocked_seed(loopback("127.0.0.9", dir / "r-blocked"));
    auto bid = blocked_seed.add_torrent(params(torrent, dir / "src", {}, true));
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto sid = seed.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(
        wait_for([&] { return announced(blocked_seed, bid) && announced(seed, sid); }, limit));

    write_file(dir / "blocklist.p2p",
               "# test list: both formats\n"
               "fake peer:127.0.0.5-127.0.0.5\n"
               "127.000.000.009 - 127.000.000.009 , 000 , blocked seed\n"
               "127.000.000.007 - 127.000.000.007 , 200 , allowed by its level\n"
               "not a range\n");
    auto s = loopback("127.0.0.3", dir / "r-leech");
    s.blocklist_file = (dir / "blocklist.p2p").string();
    Session leecher(s);
    std::vector<piecewise::Event> log;
    EXPECT_TRUE(has_event(log, leecher, piecewise::EventType::blocklist_loaded,
                          "blocklist: 2 ranges from " + s.blocklist_file + " (1 lines skipped)"));
    auto id = leecher.add_torrent(
        params(torrent, dir / "dl", {"127.0.0.5:" + std::to_string(fake.port())}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);

    auto st = leecher.status(id);
    ASSERT_TRUE(st);
    ASSERT_EQ(st->trackers.size(), 1u);
    EXPECT_EQ(st->trackers[0].peers_returned, 2) << "the tracker returns both seeds";
    EXPECT_EQ(st->known_peers, 1) << "only the unblocked seed enters the peer list";
    EXPECT_EQ(fake.connections(), 0);
    EXPECT_EQ(blocked_seed.status(bid)->uploaded, 0);
    EXPECT_GT(seed.status(sid)->uploaded, 0);

    // Dialling in: a blocked address is closed before its handshake is answered; an
    // address outside the list (or allowed by its DAT level) gets the handshake.
    auto port = leecher.listen_port();
    auto blocked = dial_in("127.0.0.5", "127.0.0.3", port, meta.info_hash);
    EXPECT_EQ(blocked.received, 0u);
    EXPECT_TRUE(blocked.closed);
    auto allowed = dial_in("127.0.0.7", "127.0.0.3", port, meta.info_hash);
    EXPECT_GE(allowed.received, pw::wire::handshake_size);
    auto other = dial_in("127.0.0.8", "127.0.0.3", port, meta.info_hash);
    EXPECT_GE(other.received, pw::wire::handshake_size);
}

TEST_F(Filter, UnusableBlocklistIsASettingsError) {
    auto expect_error = [&](const std::string& path, const std::string& text) {
        auto s = loopback("127.0.0.3", dir / "r");
        s.blocklist_file = path;
        try {
            Session session(s);
            ADD_FAILURE() << path << " was accepted";
        } catch (const piecewise::SettingsError& e) {
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    };
    expect_error((dir / "missing.p2p").string(), "cannot read blocklist");
    expect_error(dir.string(), "is a directory");
    write_file(dir / "garbage.p2p", "# nothing usable\nhello\nname:1.2.3.4\n");
    expect_error((dir / "garbage.p2p").string(), "no IP range in it (2 of 2 lines skipped)");
    write_file(dir / "empty.p2p", "");
    expect_error((dir / "empty.p2p").string(), "no IP range in it");
    write_file(dir / "broken.gz", std::string("\x1f\x8b\x08\x00garbage", 11));
    expect_error((dir / "broken.gz").string(), "gzip:");
}

TEST_F(Filter, BindingToLoopbackCarriesPeersTrackersAndTheDht) {
    Tracker tracker;
    std::string data = random_bytes(2 << 20, 12);
    write_file(dir / "src" / "payload.bin", data);
    // One tier each: with announce_to_all_tiers both the HTTP and the UDP tracker are used.
    pw::meta::CreateOptions o;
    o.piece_size = 64 << 10;
    o.trackers = {tracker.http_url(), tracker.udp_url()};
    o.creation_date = 0;
    write_file(dir / "t.torrent", pw::meta::create_torrent(dir / "src" / "payload.bin", o));
    auto torrent = dir / "t.torrent";

    auto bound = [&](const std::string& ip, const std::string& name) {
        auto s = loopback(ip, dir / name);
        s.bind_interface = "lo";
        s.announce_to_all_tiers = true;
        s.dht = true;
        s.dht_bootstrap = {};
        s.dht_state_file = (dir / (name + ".dht")).string();
        return s;
    };
    Session seed(bound("127.0.0.2", "r-seed"));
    auto sid = seed.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(wait_for([&] { return announced(seed, sid); }, limit));
    auto ls = bound("127.0.0.3", "r-leech");
    ls.dht_bootstrap = {endpoint("127.0.0.2", seed)};  // the seed's DHT node, same port
    Session leecher(ls);
    auto id = leecher.add_torrent(params(torrent, dir / "dl"));  // peers from the trackers only
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    auto st = leecher.status(id);
    ASSERT_EQ(st->trackers.size(), 2u);
    for (auto& t : st->trackers) EXPECT_EQ(t.last_error, "") << t.url;
}

TEST_F(Filter, MissingInterfaceIsAnErrorNamingIt) {
    for (std::string name : {"pw-no-such0", "a-name-longer-than-ifnamsiz"}) {
        auto s = loopback("127.0.0.3", dir / "r");
        s.bind_interface = name;
        try {
            Session session(s);
            ADD_FAILURE() << name << " was accepted";
        } catch (const piecewise::Error& e) {
            EXPECT_NE(std::string(e.what()).find("'" + name + "'"), std::string::npos) << e.what();
        }
    }
}
