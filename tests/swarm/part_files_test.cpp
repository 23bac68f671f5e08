// Partial names (Settings::part_files, Transmission's rename-partial-files) on real
// sessions over 127.0.0.x: files are "<name>.part" while they download and have their own
// names before the torrent is reported complete; a complete file left with the suffix is
// renamed by the check; removal with data and a move mid-download take the partial files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::EventType;
using piecewise::Session;

namespace {

constexpr auto limit = std::chrono::seconds(30);

struct PartFiles : ::testing::Test {
    using Settings = piecewise::Settings;
    fs::path dir;
    std::string a = random_bytes(100 << 10, 21), b = random_bytes(300 << 10, 22);
    fs::path torrent;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        write_file(dir / "seed" / "multi" / "a.bin", a);
        write_file(dir / "seed" / "multi" / "b.bin", b);
        torrent = make_torrent(dir / "seed" / "multi", dir / "t.torrent", 32 << 10);
    }
    void TearDown() override { fs::remove_all(dir); }
    AddTorrentParams params(const fs::path& save, std::vector<std::string> peers = {}) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        return p;
    }
    // A seeder sending `rate` bytes/s, so that the leecher can be watched mid-download.
    std::unique_ptr<Session> slow_seed(std::int64_t rate) {
        auto s = std::make_unique<Session>(loopback("127.0.0.2", dir / "r-seed"));
        piecewise::RateLimits l;
        l.upload_rate_limit = rate;
        s->set_rate_limits(l);
        s->add_torrent(params(dir / "seed"));
        return s;
    }
    Settings leech_settings(bool part_files) {
        auto s = loopback("127.0.0.3", dir / "r-leech");
        s.part_files = part_files;
        return s;
    }
};

}  // namespace

TEST_F(PartFiles, FilesHaveTheirOwnNamesBeforeTheTorrentIsComplete) {
    auto seed = slow_seed(160 << 10);
    Session leech(leech_settings(true));
    auto p = params(dir / "leech", {endpoint("127.0.0.2", *seed)});
    p.sequential = true;  // a.bin first
    auto id = leech.add_torrent(p);
    fs::path m = dir / "leech" / "multi";
    // a.bin done, b.bin still downloading under its partial name.
    bool seen = wait_for(
        [&] {
            return !complete(leech, id) && fs::exists(m / "a.bin") && fs::exists(m / "b.bin.part") &&
                   !fs::exists(m / "b.bin");
        },
        limit);
    EXPECT_TRUE(seen);
    EXPECT_FALSE(fs::exists(m / "a.bin.part"));
    EXPECT_EQ(read_file(m / "a.bin"), a);
    // The moment the torrent reports every piece, both files have their own names.
    auto end = std::chrono::steady_clock::now() + limit;
    while (!complete(leech, id) && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(complete(leech, id));
    EXPECT_TRUE(fs::exists(m / "b.bin"));
    EXPECT_FALSE(fs::exists(m / "b.bin.part"));
    EXPECT_EQ(read_file(m / "b.bin"), b);
    bool finished = false;
    for (auto& e : leech.pop_events()) finished = finished || e.type == EventType::torrent_finished;
    EXPECT_TRUE(finished);
}

TEST_F(PartFiles, OffMeansOwnNamesFromTheStart) {
    auto seed = slow_seed(160 << 10);
    Session leech(leech_settings(false));
    auto id = leech.add_torrent(params(dir / "leech", {endpoint("127.0.0.2", *seed)}));
    fs::path m = dir / "leech" / "multi";
    ASSERT_TRUE(wait_for([&] { return fs::exists(m / "b.bin") || fs::exists(m / "a.bin"); }, limit));
    EXPECT_FALSE(fs::exists(m / "a.bin.part"));
    EXPECT_FALSE(fs::exists(m / "b.bin.part"));
    // Turned on mid-download: the files already there keep their names.
    ASSERT_TRUE(leech.set_part_files(true));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit));
    EXPECT_EQ(read_file(m / "a.bin"), a);
    EXPECT_EQ(read_file(m / "b.bin"), b);
    EXPECT_FALSE(fs::exists(m / "b.bin.part"));
}

TEST_F(PartFiles, ACompleteFileLeftWithTheSuffixIsRenamedByTheCheck) {
    // As after a kill between a file's last piece and its rename.
    write_file(dir / "leech" / "multi" / "a.bin.part", a);
    write_file(dir / "leech" / "multi" / "b.bin.part", b.substr(0, 100 << 10));
    Session leech(leech_settings(false));
    auto id = leech.add_torrent(params(dir / "leech"));
    fs::path m = dir / "leech" / "multi";
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = leech.status(id);
            return st && st->state != piecewise::TorrentState::checking && fs::exists(m / "a.bin");
        },
        limit));
    EXPECT_FALSE(fs::exists(m / "a.bin.part"));
    EXPECT_EQ(read_file(m / "a.bin"), a);
    EXPECT_TRUE(fs::exists(m / "b.bin.part"));  // not complete: keeps the suffix
    auto st = leech.status(id);
    EXPECT_EQ(st->files[0].bytes_done, 100 << 10);
    EXPECT_GT(st->pieces_have, 3);  // a.bin's pieces and b.bin's first ones
    // The rest from a seeder, into the partial file.
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    seed.add_torrent(params(dir / "seed"));
    Session again(leech_settings(false));
    leech.remove_torrent(id, false);
    ASSERT_TRUE(wait_for([&] { return !leech.status(id); }, limit));
    auto id2 = again.add_torrent(params(dir / "leech", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(again, id2); }, limit));
    EXPECT_EQ(read_file(m / "b.bin"), b);
    EXPECT_FALSE(fs::exists(m / "b.bin.part"));
}

TEST_F(PartFiles, RemovalWithDataTakesThePartialFiles) {
    auto seed = slow_seed(64 << 10);
    Session leech(leech_settings(true));
    auto id = leech.add_torrent(params(dir / "leech", {endpoint("127.0.0.2", *seed)}));
    fs::path m = dir / "leech" / "multi";
    ASSERT_TRUE(wait_for([&] { return fs::exists(m / "b.bin.part") || fs::exists(m / "a.bin.part"); },
                         limit));
    ASSERT_TRUE(leech.remove_torrent(id, true));
    EXPECT_TRUE(wait_for([&] { return !fs::exists(m); }, limit));
    EXPECT_TRUE(fs::exists(dir / "seed" / "multi" / "a.bin"));  // only the leecher's
}

TEST_F(PartFiles, AMoveMidDownloadTakesThePartialFiles) {
    auto seed = slow_seed(160 << 10);
    Session leech(leech_settings(true));
    auto id = leech.add_torrent(params(dir / "leech", {endpoint("127.0.0.2", *seed)}));
    ASSERT_TRUE(wait_for([&] { return fs::exists(dir / "leech" / "multi" / "b.bin.part"); }, limit));
    ASSERT_FALSE(complete(leech, id));
    ASSERT_TRUE(leech.move_storage(id, (dir / "moved").string(), true));
    fs::path m = dir / "moved" / "multi";
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = leech.status(id);
            return st && st->save_path == (dir / "moved").string() && complete(leech, id);
        },
        limit));
    EXPECT_EQ(read_file(m / "a.bin"), a);
    EXPECT_EQ(read_file(m / "b.bin"), b);
    EXPECT_FALSE(fs::exists(m / "b.bin.part"));
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi"));
}
