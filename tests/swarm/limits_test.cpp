// Session::set_trackers and Session::set_seed_limits in-process on 127.0.0.x: a torrent
// without trackers given one by set_trackers announces to it and finds its peer there
// (and keeps the list across pause/resume); a seed with a ratio limit of 1 stops itself
// once it uploaded the torrent's size, is reported once by take_seed_limit_stops and
// emits seed_limit_reached.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
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
    std::string http_url() const {
        return "http://127.0.0.1:" + std::to_string(server_->http_port()) + "/announce";
    }

  private:
    asio::io_context io_;
    std::unique_ptr<pw::tracker::TrackerServer> server_;
    std::thread thread_;
};

struct Limits : ::testing::Test {
    fs::path dir;
    std::string data;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(1 << 20, 31);
        write_file(dir / "src" / "payload.bin", data);
        make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);  // no tracker
    }
    void TearDown() override { fs::remove_all(dir); }
    AddTorrentParams params(const fs::path& save, std::vector<std::string> peers = {}) {
        AddTorrentParams p;
        p.torrent_file = (dir / "t.torrent").string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        return p;
    }
};

bool announced_ok(Session& s, piecewise::TorrentId id, std::size_t n) {
    auto st = s.status(id);
    if (!st || st->trackers.size() != n) return false;
    for (auto& t : st->trackers)
        if (!t.last_error.empty() || t.next_announce_s == 0) return false;
    return true;
}

}  // namespace

TEST_F(Limits, SetTrackersAnnouncesToTheNewListAndKeepsIt) {
    Tracker tracker;
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto sid = seed.add_torrent(params(dir / "src"));
    ASSERT_TRUE(wait_for(
        [&] { return seed.status(sid)->state == piecewise::TorrentState::seeding; }, limit));
    EXPECT_TRUE(seed.status(sid)->trackers.empty());
    EXPECT_THROW(seed.set_trackers(sid, {{"ftp://127.0.0.1/x"}}), piecewise::Error);
    EXPECT_FALSE(seed.set_trackers(99, {{tracker.http_url()}}));
    ASSERT_TRUE(seed.set_trackers(sid, {{tracker.http_url()}}));
    ASSERT_TRUE(wait_for([&] { return announced_ok(seed, sid, 1); }, limit));
    EXPECT_EQ(seed.status(sid)->trackers[0].url, tracker.http_url());
    // The leecher knows no peer: only the tracker set by set_trackers brings the seed.
    Session leecher(loopback("127.0.0.3", dir / "r-leech"));
    auto id = leecher.add_torrent(params(dir / "dl"));
    ASSERT_TRUE(leecher.set_trackers(id, {{tracker.http_url()}}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    // Kept across pause/resume (a new engine torrent is made from the kept params).
    ASSERT_TRUE(seed.pause(sid));
    ASSERT_TRUE(seed.resume(sid));
    ASSERT_TRUE(wait_for([&] { return announced_ok(seed, sid, 1); }, limit));
    // An empty list: no tracker any more.
    ASSERT_TRUE(seed.set_trackers(sid, {}));
    EXPECT_TRUE(seed.status(sid)->trackers.empty());
}

TEST_F(Limits, RatioLimitStopsTheSeedOnceItUploadedTheSize) {
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto sid = seed.add_torrent(params(dir / "src"));
    ASSERT_TRUE(seed.set_seed_limits(sid, 1.0, -1));
    EXPECT_FALSE(seed.set_seed_limits(99, 1.0, -1));
    ASSERT_TRUE(wait_for(
        [&] { return seed.status(sid)->state == piecewise::TorrentState::seeding; }, limit));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_TRUE(seed.take_seed_limit_stops().empty()) << "nothing uploaded yet";
    EXPECT_FALSE(seed.status(sid)->paused);
    Session leecher(loopback("127.0.0.3", dir / "r-leech"));
    auto id = leecher.add_torrent(params(dir / "dl", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    std::vector<piecewise::TorrentId> stopped;
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto x : seed.take_seed_limit_stops()) stopped.push_back(x);
            return !stopped.empty();
        },
        limit));
    EXPECT_EQ(stopped, std::vector<piecewise::TorrentId>{sid});
    auto st = seed.status(sid);
    EXPECT_TRUE(st->paused);
    EXPECT_TRUE(st->seed_ratio_reached);
    EXPECT_GE(st->uploaded, st->total_size);
    bool event = false;
    for (auto& e : seed.pop_events())
        event = event || (e.type == piecewise::EventType::seed_limit_reached && e.torrent == sid);
    EXPECT_TRUE(event);
    EXPECT_TRUE(seed.take_seed_limit_stops().empty()) << "reported once";
}
