// Rate limits on real loopback connections: a seeder's global upload limit shared by
// its leechers, a torrent's own limit nested under the global one, bandwidth priority
// between two torrents under it, a download limit
// changed while the transfer runs, and the data still arrives intact. Rates are
// measured at the receiving side over a few seconds, after a warm-up.
#include <gtest/gtest.h>

#include <iostream>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
using namespace std::chrono_literals;

namespace {

struct RateLimit : ::testing::Test {
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
    // PEX off: leechers only ever talk to the seeder, so what they receive is what it sent.
    piecewise::Settings settings(const std::string& ip, const std::string& name) {
        auto s = loopback(ip, dir / name);
        s.pex = false;
        return s;
    }
};

std::int64_t received(const Session& s, piecewise::TorrentId id) {
    auto st = s.status(id);
    return st ? st->downloaded : 0;
}

// Bytes per second of `bytes()` over `window`, after `warm_up`.
double measure(const std::function<std::int64_t()>& bytes, std::chrono::milliseconds warm_up,
               std::chrono::milliseconds window) {
    std::this_thread::sleep_for(warm_up);
    auto b0 = bytes();
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(window);
    auto b1 = bytes();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return double(b1 - b0) / s;
}

TEST_F(RateLimit, SeederUploadLimitSharedByItsLeechers) {
    std::string data = random_bytes(24 << 20, 11);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    auto ss = settings("127.0.0.2", "rs");
    ss.rate_limits.upload_rate_limit = 1'000'000;
    Session seed(ss);
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    Session l1(settings("127.0.0.3", "r1")), l2(settings("127.0.0.4", "r2"));
    auto i1 = l1.add_torrent(params(torrent, dir / "l1", {endpoint("127.0.0.2", seed)}));
    auto i2 = l2.add_torrent(params(torrent, dir / "l2", {endpoint("127.0.0.2", seed)}));
    std::int64_t a0 = 0, b0 = 0;
    double rate = measure(
        [&] {
            a0 = received(l1, i1);
            b0 = received(l2, i2);
            return a0 + b0;
        },
        1500ms, 4000ms);
    std::cout << "seeder limited to 1 MB/s: leechers received " << rate << " B/s (" << a0 << " / "
              << b0 << ")\n";
    EXPECT_NEAR(rate, 1'000'000, 250'000);
    // Both leechers got a fair part of it.
    EXPECT_GT(a0, b0 / 3);
    EXPECT_GT(b0, a0 / 3);
    EXPECT_EQ(seed.rate_limits().upload_rate_limit, 1'000'000);
}

TEST_F(RateLimit, TorrentLimitUnderTheGlobalOne) {
    std::string da = random_bytes(20 << 20, 12), db = random_bytes(20 << 20, 13);
    write_file(dir / "seed" / "a.bin", da);
    write_file(dir / "seed" / "b.bin", db);
    auto ta = make_torrent(dir / "seed" / "a.bin", dir / "a.torrent", 64 << 10);
    auto tb = make_torrent(dir / "seed" / "b.bin", dir / "b.torrent", 64 << 10);
    auto ss = settings("127.0.0.2", "rs");
    ss.rate_limits.upload_rate_limit = 2'000'000;
    Session seed(ss);
    auto pa = params(ta, dir / "seed", {}, true);
    pa.upload_limit = 500'000;  // torrent A: its own limit, inside the global one
    auto sa = seed.add_torrent(pa);
    seed.add_torrent(params(tb, dir / "seed", {}, true));
    EXPECT_EQ(seed.status(sa)->upload_limit, 500'000);
    Session la(settings("127.0.0.3", "ra")), lb(settings("127.0.0.4", "rb"));
    auto ia = la.add_torrent(params(ta, dir / "la", {endpoint("127.0.0.2", seed)}));
    auto ib = lb.add_torrent(params(tb, dir / "lb", {endpoint("127.0.0.2", seed)}));
    std::int64_t a = 0, b = 0, a0 = 0, b0 = 0;
    std::this_thread::sleep_for(1500ms);
    a0 = received(la, ia);
    b0 = received(lb, ib);
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(4000ms);
    a = received(la, ia) - a0;
    b = received(lb, ib) - b0;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "torrent A (500 kB/s) " << double(a) / s << " B/s, B (global 2 MB/s) "
              << double(b) / s << " B/s\n";
    EXPECT_NEAR(double(a) / s, 500'000, 125'000);
    EXPECT_NEAR(double(b) / s, 1'500'000, 375'000);  // what the global limit leaves
    // Torrent A no longer honours the session's limit and loses its own: B alone is held
    // to the global 2 MB/s, A runs free.
    ASSERT_TRUE(seed.set_torrent_limits(sa, 0, 0, false));
    auto st = seed.status(sa);
    EXPECT_EQ(st->upload_limit, 0);
    EXPECT_FALSE(st->honors_session_limits);
    double rb = measure([&] { return received(lb, ib); }, 1000ms, 2000ms);
    std::cout << "B alone " << rb << " B/s\n";
    EXPECT_NEAR(rb, 2'000'000, 500'000);
    ASSERT_TRUE(wait_for([&] { return complete(la, ia); }, 30s));
    EXPECT_EQ(read_file(dir / "la" / "a.bin"), da);
}

TEST_F(RateLimit, HighPriorityTorrentGetsTheBandwidthFirst) {
    std::string da = random_bytes(20 << 20, 15), db = random_bytes(20 << 20, 16);
    write_file(dir / "seed" / "a.bin", da);
    write_file(dir / "seed" / "b.bin", db);
    auto ta = make_torrent(dir / "seed" / "a.bin", dir / "a.torrent", 64 << 10);
    auto tb = make_torrent(dir / "seed" / "b.bin", dir / "b.torrent", 64 << 10);
    auto ss = settings("127.0.0.2", "rs");
    ss.rate_limits.upload_rate_limit = 1'500'000;
    Session seed(ss);
    auto pa = params(ta, dir / "seed", {}, true);
    pa.bandwidth_priority = 1;  // torrent A: high
    auto sa = seed.add_torrent(pa);
    auto sb = seed.add_torrent(params(tb, dir / "seed", {}, true));
    EXPECT_EQ(seed.status(sa)->bandwidth_priority, 1);
    EXPECT_EQ(seed.status(sb)->bandwidth_priority, 0);
    Session la(settings("127.0.0.3", "ra")), lb(settings("127.0.0.4", "rb"));
    auto ia = la.add_torrent(params(ta, dir / "la", {endpoint("127.0.0.2", seed)}));
    auto ib = lb.add_torrent(params(tb, dir / "lb", {endpoint("127.0.0.2", seed)}));
    auto rates = [&] {
        std::this_thread::sleep_for(1500ms);
        auto a0 = received(la, ia), b0 = received(lb, ib);
        auto t0 = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(3000ms);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return std::pair{double(received(la, ia) - a0) / s, double(received(lb, ib) - b0) / s};
    };
    auto [a, b] = rates();
    std::cout << "A high " << a << " B/s, B normal " << b << " B/s\n";
    EXPECT_GT(a, 3 * b);
    EXPECT_NEAR(a + b, 1'500'000, 375'000);  // nothing of the limit left unused
    // A set to low: now B comes first.
    ASSERT_TRUE(seed.set_bandwidth_priority(sa, -1));
    EXPECT_EQ(seed.status(sa)->bandwidth_priority, -1);
    std::tie(a, b) = rates();
    std::cout << "A low " << a << " B/s, B normal " << b << " B/s\n";
    EXPECT_GT(b, 3 * a);
    EXPECT_FALSE(seed.set_bandwidth_priority(12345, 1));
    ASSERT_TRUE(seed.set_torrent_limits(sa, 0, 0, false));  // A runs free to finish the check
    ASSERT_TRUE(wait_for([&] { return complete(la, ia); }, 30s));
    EXPECT_EQ(read_file(dir / "la" / "a.bin"), da);
}

TEST_F(RateLimit, DownloadLimitChangedWhileRunning) {
    std::string data = random_bytes(24 << 20, 14);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    Session seed(settings("127.0.0.2", "rs"));
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    auto ls = settings("127.0.0.3", "rl");
    ls.rate_limits.download_rate_limit = 800'000;
    Session leech(ls);
    auto id = leech.add_torrent(params(torrent, dir / "dl", {endpoint("127.0.0.2", seed)}));
    double slow = measure([&] { return received(leech, id); }, 1500ms, 3000ms);
    EXPECT_NEAR(slow, 800'000, 200'000);
    auto rl = leech.rate_limits();
    rl.download_rate_limit = 2'500'000;
    ASSERT_TRUE(leech.set_rate_limits(rl));
    double fast = measure([&] { return received(leech, id); }, 1000ms, 2000ms);
    std::cout << "download limit 800 kB/s: " << slow << " B/s; 2.5 MB/s: " << fast << " B/s\n";
    EXPECT_NEAR(fast, 2'500'000, 625'000);
    // Alt speed by hand: its limit replaces the normal one, and rate_limits() says so.
    rl.alt_download_rate_limit = 600'000;
    rl.alt_speed_enabled = true;
    ASSERT_TRUE(leech.set_rate_limits(rl));
    EXPECT_TRUE(leech.rate_limits().alt_speed_enabled);
    double alt = measure([&] { return received(leech, id); }, 1000ms, 2500ms);
    std::cout << "alt speed 600 kB/s: " << alt << " B/s\n";
    EXPECT_NEAR(alt, 600'000, 150'000);
    rl.alt_speed_enabled = false;
    rl.download_rate_limit = 0;
    ASSERT_TRUE(leech.set_rate_limits(rl));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, 30s));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    rl.alt_speed_time_begin = 1440;
    EXPECT_THROW(leech.set_rate_limits(rl), piecewise::Error);
}

// Encrypted connections (RC4) under a limit: writes are cut inside encrypted segments and
// reads are granted in pieces; the data must still arrive intact, at the limit.
TEST_F(RateLimit, EncryptedTransferUnderLimitsIsIntact) {
    std::string data = random_bytes(6 << 20, 15);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    auto ss = settings("127.0.0.2", "rs");
    ss.encryption = piecewise::Encryption::require;
    ss.rate_limits.upload_rate_limit = 3'000'000;
    Session seed(ss);
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    auto ls = settings("127.0.0.3", "rl");
    ls.encryption = piecewise::Encryption::require;
    ls.rate_limits.download_rate_limit = 2'000'000;
    Session leech(ls);
    auto t0 = std::chrono::steady_clock::now();
    auto id = leech.add_torrent(params(torrent, dir / "dl", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, 30s));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "6 MiB encrypted at 2 MB/s: " << s << " s\n";
    EXPECT_GT(s, double(data.size()) / 2'000'000 * 0.75);
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
}

}  // namespace
