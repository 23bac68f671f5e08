// Queues and bandwidth groups with real transfers on 127.0.0.x:
//  - the daemon with download-queue-size 1 and three torrents from one seeder (found
//    through an in-process tracker): one torrent downloads at a time, the next starts
//    when it finishes, in queue order (a torrent moved to the top goes next), and all
//    three arrive byte-identical;
//  - a bandwidth group's download limit caps two torrents' combined rate (engine API).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <thread>

#include "daemon/daemon.hpp"
#include "../swarm/swarm_util.hpp"
#include "tracker/server/tracker_server.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
using piecewise::TorrentId;
namespace asio = boost::asio;

namespace {

class Tracker {  // an in-process `piecewise tracker` (HTTP) on 127.0.0.1
  public:
    Tracker() {
        pw::tracker::TrackerOptions o;
        o.http = {asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        server_ = std::make_unique<pw::tracker::TrackerServer>(io_, o);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Tracker() {
        asio::post(io_, [this] { server_->stop(); });
        io_.stop();
        thread_.join();
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(server_->http_port()) + "/announce";
    }

  private:
    asio::io_context io_;
    std::unique_ptr<pw::tracker::TrackerServer> server_;
    std::thread thread_;
};

struct QueueSwarm : ::testing::Test {
    fs::path dir;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override { fs::remove_all(dir); }
    // Payload `name` (n bytes) in dir/src and its torrent; returns the torrent's path.
    fs::path payload(const std::string& name, std::size_t n, std::uint32_t seed,
                     std::vector<std::string> trackers = {}) {
        write_file(dir / "src" / name, random_bytes(n, seed));
        return make_torrent(dir / "src" / name, dir / (name + ".torrent"), 64 << 10,
                            std::move(trackers));
    }
};

}  // namespace

TEST_F(QueueSwarm, DaemonDownloadQueueOfOneRunsTorrentsOneAfterAnother) {
    Tracker tracker;
    const std::vector<std::string> names = {"one.bin", "two.bin", "three.bin"};
    std::vector<fs::path> torrents;
    for (std::size_t i = 0; i < names.size(); ++i)
        torrents.push_back(payload(names[i], 3 << 20, 40 + std::uint32_t(i), {tracker.url()}));
    // A seeder slow enough (3 MB/s) that each download lasts about a second.
    auto ss = loopback("127.0.0.2", dir / "seed-resume");
    ss.rate_limits.upload_rate_limit = 3'000'000;
    Session seeder(ss);
    for (auto& t : torrents) {
        AddTorrentParams p;
        p.torrent_file = t.string();
        p.save_path = (dir / "src").string();
        seeder.add_torrent(p);
    }
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto id : seeder.list())
                if (!complete(seeder, id)) return false;
            return true;
        },
        std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::seconds(1));  // its announces reach the tracker

    pw::daemon::DaemonConfig c;
    c.state_dir = (dir / "state").string();
    c.download_dir = (dir / "dl").string();
    c.settings = loopback("127.0.0.3", dir / "unused");
    c.settings.resume_dir.clear();  // under state_dir
    pw::daemon::Daemon daemon(c);
    auto qs = daemon.queue_settings();
    qs.download_size = 1;
    daemon.set_queue_settings(qs);
    std::vector<TorrentId> ids;
    for (auto& t : torrents) {
        pw::daemon::AddRequest a;
        a.metainfo = read_file(t);
        a.download_dir = (dir / "dl").string();
        ids.push_back(daemon.add(a).id);
    }
    daemon.queue_move(pw::daemon::QueueMove::top, {ids[2]});  // three goes before two
    EXPECT_EQ(daemon.queue_position(ids[2]), 0);

    std::vector<TorrentId> finished;
    std::map<TorrentId, std::int64_t> last;
    bool saw_queued = false;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (finished.size() < ids.size() && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        int active = 0;
        for (auto& [id, st] : daemon.status_all()) {
            bool done = st.num_pieces > 0 && st.pieces_have == st.num_pieces;
            // Received payload since the last look and still incomplete: downloading now.
            if (st.downloaded > last[id] && !done) ++active;
            last[id] = st.downloaded;
            saw_queued = saw_queued || st.queued;
            if (done && std::find(finished.begin(), finished.end(), id) == finished.end())
                finished.push_back(id);
        }
        EXPECT_LE(active, 1) << "more than one torrent downloading at once";
    }
    EXPECT_TRUE(saw_queued);
    ASSERT_EQ(finished, (std::vector<TorrentId>{ids[0], ids[2], ids[1]}));
    for (auto& n : names) EXPECT_EQ(read_file(dir / "dl" / n), read_file(dir / "src" / n)) << n;
}

TEST_F(QueueSwarm, GroupLimitCapsTwoTorrentsTogether) {
    auto ta = payload("a.bin", 6 << 20, 7);
    auto tb = payload("b.bin", 6 << 20, 8);
    Session seeder(loopback("127.0.0.2", dir / "seed-resume"));
    for (auto& t : {ta, tb}) {
        AddTorrentParams p;
        p.torrent_file = t.string();
        p.save_path = (dir / "src").string();
        seeder.add_torrent(p);
    }
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto id : seeder.list())
                if (!complete(seeder, id)) return false;
            return true;
        },
        std::chrono::seconds(30)));
    Session leecher(loopback("127.0.0.3", dir / "leech-resume"));
    constexpr std::int64_t cap = 500'000;
    ASSERT_TRUE(leecher.set_bandwidth_group({"g", cap, 0, true}));
    EXPECT_THROW(leecher.set_bandwidth_group({"", 1, 0, true}), piecewise::Error);
    EXPECT_THROW(leecher.set_bandwidth_group({"h", -1, 0, true}), piecewise::Error);
    AddTorrentParams pa;
    pa.torrent_file = ta.string();
    pa.save_path = (dir / "dl").string();
    pa.peers = {endpoint("127.0.0.2", seeder)};
    pa.bandwidth_group = "g";  // in the group from the start
    auto a = leecher.add_torrent(pa);
    auto pb = pa;
    pb.torrent_file = tb.string();
    pb.bandwidth_group.clear();
    auto b = leecher.add_torrent(pb);
    EXPECT_TRUE(leecher.set_torrent_group(b, "g"));  // and moved into it
    EXPECT_FALSE(leecher.set_torrent_group(999, "g"));
    auto got = [&](TorrentId id) { return leecher.status(id)->downloaded; };
    ASSERT_TRUE(wait_for([&] { return got(a) > 0 && got(b) > 0; }, std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::seconds(1));  // past the first burst
    auto a0 = got(a), b0 = got(b);
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double rate = double(got(a) - a0 + got(b) - b0) / secs;
    std::printf("group of two torrents capped at %lld B/s: %.0f B/s together\n",
                static_cast<long long>(cap), rate);
    EXPECT_LT(rate, cap * 1.3);  // payload only: protocol bytes also draw from the bucket
    EXPECT_GT(rate, cap * 0.4);
    EXPECT_GT(got(a), a0);  // both share it
    EXPECT_GT(got(b), b0);
    // The limit lifted: both finish quickly.
    ASSERT_TRUE(leecher.set_bandwidth_group({"g", 0, 0, true}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, a) && complete(leecher, b); },
                         std::chrono::seconds(60)));
    EXPECT_EQ(read_file(dir / "dl" / "a.bin"), read_file(dir / "src" / "a.bin"));
    EXPECT_EQ(read_file(dir / "dl" / "b.bin"), read_file(dir / "src" / "b.bin"));
}
