// Connection floods and resource bounds (issue 14): the session-wide connection cap, the
// per-IP cap, eviction of connections that have not sent their handshake, and eviction of
// peers that handshook and then said nothing, so that an honest leecher still gets in.
// Every connection comes from its own 127.x address unless the test is about one address.
// The IPv6 per-/64 test needs addresses of 2001:db8:64::/64 and 2001:db8:65::/64 on lo: it
// adds them itself inside a namespace of its own (PW_NETNS=1), and skips when it cannot
// bind them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "script_peer.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

// A plain TCP connection from `local_ip` that sends nothing.
struct MuteConnection {
    int fd = -1;
    bool ok = false;
    MuteConnection(const std::string& local_ip, const std::string& ip, std::uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        set_rcv_timeout(fd);
        sockaddr_in l{};
        l.sin_family = AF_INET;
        ::inet_pton(AF_INET, local_ip.c_str(), &l.sin_addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&l), sizeof l) != 0) return;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    // From an IPv6 address to [ip]:port.
    MuteConnection(const std::string& local_ip6, const std::string& ip6, std::uint16_t port, bool) {
        fd = ::socket(AF_INET6, SOCK_STREAM, 0);
        set_rcv_timeout(fd);
        sockaddr_in6 l{};
        l.sin6_family = AF_INET6;
        ::inet_pton(AF_INET6, local_ip6.c_str(), &l.sin6_addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&l), sizeof l) != 0) return;
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        ::inet_pton(AF_INET6, ip6.c_str(), &a.sin6_addr);
        ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~MuteConnection() { ::close(fd); }
    MuteConnection(const MuteConnection&) = delete;
    MuteConnection& operator=(const MuteConnection&) = delete;
    // True when the session closed it within `limit` (what it sent before is skipped).
    bool closed(std::chrono::milliseconds limit) {
        char buf[4096];
        auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0) return true;
            if (n < 0 && errno != EAGAIN && errno != EINTR) return errno == ECONNRESET;
            if (n > 0) continue;
            if (std::chrono::steady_clock::now() >= end) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    // Sends a BitTorrent handshake (peer id unique per local address) and reads the answer.
    bool handshake(const pw::Sha1Digest& ih, const std::string& local_ip) {
        pw::wire::Handshake h;
        h.info_hash = ih;
        std::string id = "-XX0001-" + local_ip;
        id.resize(20, '.');
        std::memcpy(h.peer_id.data(), id.data(), 20);
        if (!send_all(fd, pw::wire::encode_handshake(h))) return false;
        char in[pw::wire::handshake_size];
        return read_exact(fd, in, sizeof in,
                          std::chrono::steady_clock::now() + std::chrono::seconds(5)) &&
               pw::wire::decode_handshake(std::string_view(in, sizeof in)).has_value();
    }
};

struct ConnCap : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    pw::meta::Metainfo meta;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(3 << 20, 77);
        write_file(dir / "seed" / "payload.bin", data);
        torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
        meta = pw::meta::load(torrent);
    }
    void TearDown() override { fs::remove_all(dir); }

    std::unique_ptr<Session> seeder(const std::string& ip, const piecewise::Settings& s) {
        auto sess = std::make_unique<Session>(s);
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "seed").string();
        p.upload_only = true;
        auto id = sess->add_torrent(p);
        EXPECT_TRUE(wait_for([&] { return complete(*sess, id); }, std::chrono::seconds(20)));
        (void)ip;
        return sess;
    }
};

std::string addr(int a, int b) {
    return "127.50." + std::to_string(a) + "." + std::to_string(b);
}

}  // namespace

// Peers that send a valid handshake and then nothing fill every slot of the seeder's
// torrent; a leecher arriving later must still be let in at once (one of them is evicted:
// the leecher talks, they have been silent for more than 1 s).
TEST_F(ConnCap, SilentHandshakersDoNotLockOutALeecher) {
    auto s = loopback("127.50.0.1", dir / "resume-seed");
    s.max_peers_per_torrent = 4;  // incoming peers: up to 14
    auto seed = seeder("127.50.0.1", s);
    std::vector<std::unique_ptr<MuteConnection>> silent;
    for (int i = 0; i < 14; ++i) {
        silent.push_back(
            std::make_unique<MuteConnection>(addr(1, i + 1), "127.50.0.1", seed->listen_port()));
        ASSERT_TRUE(silent.back()->ok);
        ASSERT_TRUE(silent.back()->handshake(meta.info_hash, addr(1, i + 1))) << i;
    }
    ASSERT_TRUE(wait_for([&] { return seed->status(1)->peers == 14; }, std::chrono::seconds(10)));
    MuteConnection early(addr(2, 1), "127.50.0.1", seed->listen_port());
    ASSERT_TRUE(early.ok);
    // Full, and no occupant silent long enough: a newcomer gets our handshake but must
    // talk within 2 s to take a slot; one that does not is closed.
    EXPECT_TRUE(early.handshake(meta.info_hash, addr(2, 1)));
    EXPECT_TRUE(early.closed(std::chrono::seconds(3)));
    EXPECT_EQ(seed->status(1)->peers, 14);
    auto ls = loopback("127.50.0.2", dir / "resume-leech");
    Session leecher(ls);
    AddTorrentParams p;
    p.torrent_file = torrent.string();
    p.save_path = (dir / "dl").string();
    p.peers = {endpoint("127.50.0.1", *seed)};
    auto id = leecher.add_torrent(p);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(30)));
    // Let in at its first attempt (a refused dial is retried only after 5 s).
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    int evicted = 0;
    for (auto& c : silent)
        if (c->closed(std::chrono::milliseconds(100))) ++evicted;
    EXPECT_GE(evicted, 1);
    EXPECT_LE(evicted, 2);                  // only as many as newcomers needed
    EXPECT_LE(seed->status(1)->peers, 14);  // never more than its slots
}

// A torrent's own peer limit (Transmission's peer-limit): no slack for incoming peers
// beyond it, and lowering it closes the peers over it.
TEST_F(ConnCap, TorrentPeerLimitCapsAndLoweringClosesPeers) {
    auto seed = seeder("127.50.0.1", loopback("127.50.0.1", dir / "resume-seed"));
    ASSERT_TRUE(seed->set_peer_limit(1, 6));
    EXPECT_EQ(seed->status(1)->max_peers, 6);
    std::vector<std::unique_ptr<MuteConnection>> peers;
    for (int i = 0; i < 8; ++i) {
        peers.push_back(
            std::make_unique<MuteConnection>(addr(1, i + 1), "127.50.0.1", seed->listen_port()));
        ASSERT_TRUE(peers.back()->ok);
        peers.back()->handshake(meta.info_hash, addr(1, i + 1));
    }
    ASSERT_TRUE(wait_for([&] { return seed->status(1)->peers == 6; }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(seed->status(1)->peers, 6);  // the two beyond the limit are not taken
    ASSERT_TRUE(seed->set_peer_limit(1, 2));
    ASSERT_TRUE(wait_for([&] { return seed->status(1)->peers == 2; }, std::chrono::seconds(5)));
    // Four closed by the lower limit; the two that were never taken are closed when their
    // 2 s chance to talk (and take an idle peer's slot) runs out.
    int closed = 0;
    for (auto& c : peers)
        if (c->closed(std::chrono::milliseconds(2500))) ++closed;
    EXPECT_EQ(closed, 6);
    // Back to the session's default.
    ASSERT_TRUE(seed->set_peer_limit(1, 0));
    EXPECT_EQ(seed->status(1)->max_peers, piecewise::Settings{}.max_peers_per_torrent);
    EXPECT_FALSE(seed->set_peer_limit(99, 3));
}

// The session's limits (Transmission's peer-limit-per-torrent and peer-limit-global),
// lowered while peers are connected: the peers over either are closed.
TEST_F(ConnCap, SessionPeerLimitsLoweredCloseThePeersOverThem) {
    auto seed = seeder("127.50.0.5", loopback("127.50.0.5", dir / "resume-seed"));
    std::vector<std::unique_ptr<MuteConnection>> peers;
    for (int i = 0; i < 12; ++i) {
        peers.push_back(
            std::make_unique<MuteConnection>(addr(5, i + 1), "127.50.0.5", seed->listen_port()));
        ASSERT_TRUE(peers.back()->ok);
        ASSERT_TRUE(peers.back()->handshake(meta.info_hash, addr(5, i + 1))) << i;
    }
    ASSERT_TRUE(wait_for([&] { return seed->status(1)->peers == 12; }, std::chrono::seconds(10)));
    ASSERT_TRUE(seed->set_peer_limits(0, 10));
    EXPECT_EQ(seed->status(1)->max_peers, 10);
    ASSERT_TRUE(wait_for([&] { return seed->status(1)->peers == 10; }, std::chrono::seconds(5)));
    ASSERT_TRUE(seed->set_peer_limits(8, 0));
    ASSERT_TRUE(wait_for([&] { return seed->status(1)->peers == 8; }, std::chrono::seconds(5)));
    int closed = 0;
    for (auto& c : peers)
        if (c->closed(std::chrono::milliseconds(500))) ++closed;
    EXPECT_EQ(closed, 4);
    // At the cap (8 is the least it takes) a newcomer is refused.
    MuteConnection refused(addr(5, 20), "127.50.0.5", seed->listen_port());
    ASSERT_TRUE(refused.ok);
    EXPECT_FALSE(refused.handshake(meta.info_hash, addr(5, 20)));
}

// The session-wide cap: beyond it a newcomer takes the place of the oldest connection
// that has sent nothing (after 50 ms, its first bytes are not merely waiting to be read;
// after 0.5 s it is the oldest such that goes, however many are younger).
TEST_F(ConnCap, GlobalCapEvictsTheOldestMuteConnection) {
    auto s = loopback("127.50.0.3", dir / "resume-seed");
    s.max_connections = 10;
    auto seed = seeder("127.50.0.3", s);
    std::vector<std::unique_ptr<MuteConnection>> mute;
    for (int i = 0; i < 10; ++i) {
        mute.push_back(
            std::make_unique<MuteConnection>(addr(3, i + 1), "127.50.0.3", seed->listen_port()));
        ASSERT_TRUE(mute.back()->ok);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // all accepted, mute 0.1 s
    for (auto& m : mute) EXPECT_FALSE(m->closed(std::chrono::milliseconds(10)));
    MuteConnection admitted(addr(4, 2), "127.50.0.3", seed->listen_port());
    ASSERT_TRUE(admitted.ok);
    EXPECT_TRUE(admitted.handshake(meta.info_hash, addr(4, 2)));
    EXPECT_TRUE(mute[0]->closed(std::chrono::milliseconds(500)));  // the oldest made room
    for (std::size_t i = 1; i < mute.size(); ++i)
        EXPECT_FALSE(mute[i]->closed(std::chrono::milliseconds(10))) << i;
    // Mute connections are closed by the handshake timeout (5 s) anyway.
    EXPECT_TRUE(mute[1]->closed(std::chrono::seconds(6)));
}

// Connections that have begun their handshake keep their places for 2 s (4 x the 0.5 s
// grace): a newcomer meanwhile is closed without an answer; after that the oldest gives
// way.
TEST_F(ConnCap, GlobalCapRefusesWhileEveryPlaceIsSpeaking) {
    auto s = loopback("127.50.0.3", dir / "resume-seed");
    s.max_connections = 10;
    auto seed = seeder("127.50.0.3", s);
    std::vector<std::unique_ptr<MuteConnection>> speaking;
    const std::string start = "\023BitTorrent protocol";  // then nothing
    for (int i = 0; i < 10; ++i) {
        speaking.push_back(
            std::make_unique<MuteConnection>(addr(3, i + 1), "127.50.0.3", seed->listen_port()));
        ASSERT_TRUE(speaking.back()->ok);
        ASSERT_TRUE(send_all(speaking.back()->fd, start));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted and read
    MuteConnection refused(addr(4, 1), "127.50.0.3", seed->listen_port());
    ASSERT_TRUE(refused.ok);
    EXPECT_FALSE(refused.handshake(meta.info_hash, addr(4, 1)));  // closed without an answer
    for (auto& m : speaking) EXPECT_FALSE(m->closed(std::chrono::milliseconds(10)));

    std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // 2.3 s since they spoke
    MuteConnection admitted(addr(4, 2), "127.50.0.3", seed->listen_port());
    ASSERT_TRUE(admitted.ok);
    EXPECT_TRUE(admitted.handshake(meta.info_hash, addr(4, 2)));
    EXPECT_TRUE(speaking[0]->closed(std::chrono::milliseconds(500)));  // the oldest made room
}

// One address holds at most max_connections_per_ip connections.
TEST_F(ConnCap, PerIpCap) {
    auto s = loopback("127.50.0.4", dir / "resume-seed");
    s.max_connections_per_ip = 3;
    auto seed = seeder("127.50.0.4", s);
    std::vector<std::unique_ptr<MuteConnection>> from_one;
    for (int i = 0; i < 3; ++i) {
        from_one.push_back(
            std::make_unique<MuteConnection>("127.50.5.1", "127.50.0.4", seed->listen_port()));
        ASSERT_TRUE(from_one.back()->ok);
    }
    MuteConnection fourth("127.50.5.1", "127.50.0.4", seed->listen_port());
    ASSERT_TRUE(fourth.ok);
    EXPECT_TRUE(fourth.closed(std::chrono::seconds(2)));
    for (auto& m : from_one) EXPECT_FALSE(m->closed(std::chrono::milliseconds(10)));
    MuteConnection other("127.50.5.2", "127.50.0.4", seed->listen_port());
    EXPECT_TRUE(other.handshake(meta.info_hash, "127.50.5.2"));
    EXPECT_FALSE(fourth.handshake(meta.info_hash, "127.50.5.1"));
}

namespace {
// Whether this IPv6 address can be bound (it is on an interface).
bool can_bind6(const std::string& ip6) {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 l{};
    l.sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, ip6.c_str(), &l.sin6_addr);
    bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&l), sizeof l) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}
// The test's addresses: the seeder's, four of its /64 and one of the next /64.
const char* const v6_addresses[] = {"2001:db8:64::1",        "2001:db8:64::a", "2001:db8:64::b",
                                    "2001:db8:64::c:d",      "2001:db8:64:0:ffff::1",
                                    "2001:db8:65::1"};
bool have_v6_addresses() {
    auto all = [] {
        for (const char* a : v6_addresses)
            if (!can_bind6(a)) return false;
        return true;
    };
    if (all()) return true;
    // Only in a network namespace of the test run's own (scripts/test sets PW_NETNS).
    if (!std::getenv("PW_NETNS")) return false;
    for (const char* a : v6_addresses)
        if (!can_bind6(a) &&
            std::system(("ip -6 addr add " + std::string(a) + "/64 dev lo nodad 2>/dev/null").c_str()) != 0)
            return false;
    return all();
}
}  // namespace

// IPv6 peers are capped per /64: three connections from three addresses of one /64 fill a
// cap of 3, a fourth from yet another address of it is closed, another /64 gets in.
TEST_F(ConnCap, PerIpCapCountsIpv6PerSlash64) {
    if (!have_v6_addresses()) GTEST_SKIP() << "the test's 2001:db8:64::/64 and :65::/64 addresses are not on lo";
    auto s = loopback("127.50.0.5", dir / "resume-seed");
    s.listen = "[2001:db8:64::1]:0";
    s.max_connections_per_ip = 3;
    auto seed = seeder("127.50.0.5", s);
    std::vector<std::unique_ptr<MuteConnection>> from_one;
    for (const char* src : {"2001:db8:64::a", "2001:db8:64::b", "2001:db8:64::c:d"}) {
        from_one.push_back(std::make_unique<MuteConnection>(src, "2001:db8:64::1", seed->listen_port(), true));
        ASSERT_TRUE(from_one.back()->ok) << src;
    }
    MuteConnection fourth("2001:db8:64:0:ffff::1", "2001:db8:64::1", seed->listen_port(), true);
    ASSERT_TRUE(fourth.ok);
    EXPECT_TRUE(fourth.closed(std::chrono::seconds(2)));
    for (auto& m : from_one) EXPECT_FALSE(m->closed(std::chrono::milliseconds(10)));
    MuteConnection other("2001:db8:65::1", "2001:db8:64::1", seed->listen_port(), true);
    ASSERT_TRUE(other.ok);
    EXPECT_TRUE(other.handshake(meta.info_hash, "2001:db8:65::1"));
}
