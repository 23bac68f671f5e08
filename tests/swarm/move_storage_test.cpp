// Session::move_storage and rename_path on real sessions over 127.0.0.x: a seeding
// torrent moves to another directory (same file system and across to tmpfs), keeps
// seeding from there without hashing again, and a leecher that arrives afterwards gets
// every byte; a multi-file torrent renamed while it seeds still serves its data.
#include <gtest/gtest.h>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::EventType;
using piecewise::Session;
using piecewise::TorrentState;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct MoveStorage : ::testing::Test {
    fs::path dir;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override { fs::remove_all(dir); }

    AddTorrentParams params(const fs::path& torrent, const fs::path& save,
                            std::vector<std::string> peers = {}) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        return p;
    }
};

bool state_is(const Session& s, piecewise::TorrentId id, TorrentState want) {
    auto st = s.status(id);
    return st && st->state == want && !st->moving;
}

// Collects events until one of `type` arrives (or the limit); returns its message.
std::optional<std::string> wait_event(Session& s, EventType type,
                                      std::vector<piecewise::Event>& log) {
    std::optional<std::string> found;
    wait_for(
        [&] {
            for (auto& e : s.pop_events()) {
                log.push_back(e);
                if (e.type == type && !found) found = e.message;
            }
            return found.has_value();
        },
        limit);
    return found;
}

bool logged(const std::vector<piecewise::Event>& log, const std::string& text) {
    for (auto& e : log)
        if (e.message.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

void move_and_serve(MoveStorage& f, const fs::path& target) {
    const fs::path& dir = f.dir;
    std::string data = random_bytes(3 << 20, 21);
    write_file(dir / "seed" / "p.bin", data);
    auto torrent = make_torrent(dir / "seed" / "p.bin", dir / "t.torrent", 32 << 10);
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto id = seed.add_torrent(f.params(torrent, dir / "seed"));
    ASSERT_TRUE(wait_for([&] { return state_is(seed, id, TorrentState::seeding); }, limit));
    std::vector<piecewise::Event> log;
    seed.pop_events();

    ASSERT_TRUE(seed.move_storage(id, target.string(), true));
    auto msg = wait_event(seed, EventType::storage_moved, log);
    ASSERT_TRUE(msg) << (log.empty() ? "no event" : log.back().message);
    EXPECT_EQ(*msg, target.string());
    ASSERT_TRUE(wait_for([&] { return state_is(seed, id, TorrentState::seeding); }, limit));
    EXPECT_EQ(read_file(target / "p.bin"), data);
    EXPECT_FALSE(fs::exists(dir / "seed" / "p.bin"));
    auto st = seed.status(id);
    EXPECT_EQ(st->save_path, target.string());
    EXPECT_EQ(st->pieces_have, st->num_pieces);
    EXPECT_TRUE(st->move_error.empty());
    if (!logged(log, "pieces present")) wait_event(seed, EventType::torrent_checked, log);
    EXPECT_TRUE(logged(log, "(resume data)"));  // not hashed again
    EXPECT_FALSE(logged(log, "(checked)"));

    // A leecher that knows only the moved seeder gets every byte from the new place.
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto lid = leech.add_torrent(f.params(torrent, dir / "leech", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_EQ(read_file(dir / "leech" / "p.bin"), data);
}

TEST_F(MoveStorage, SeedingTorrentMovesAndKeepsSeeding) {
    move_and_serve(*this, dir / "moved" / "deeper");
}

TEST_F(MoveStorage, AcrossFileSystemsToTmpfs) {
    if (!fs::exists("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
    auto target = fs::path("/dev/shm") / dir.filename();
    move_and_serve(*this, target);
    fs::remove_all(target);
}

TEST_F(MoveStorage, AFailedMoveLeavesTheDataAndTheTorrentRunning) {
    std::string data = random_bytes(1 << 20, 22);
    write_file(dir / "seed" / "p.bin", data);
    auto torrent = make_torrent(dir / "seed" / "p.bin", dir / "t.torrent", 32 << 10);
    write_file(dir / "taken" / "p.bin", "someone else's");
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto id = seed.add_torrent(params(torrent, dir / "seed"));
    ASSERT_TRUE(wait_for([&] { return state_is(seed, id, TorrentState::seeding); }, limit));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(seed.move_storage(id, (dir / "taken").string(), true));
    auto why = wait_event(seed, EventType::storage_move_failed, log);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("already exists"), std::string::npos) << *why;
    ASSERT_TRUE(wait_for([&] { return state_is(seed, id, TorrentState::seeding); }, limit));
    EXPECT_EQ(read_file(dir / "taken" / "p.bin"), "someone else's");
    EXPECT_EQ(read_file(dir / "seed" / "p.bin"), data);
    auto st = seed.status(id);
    EXPECT_EQ(st->save_path, (dir / "seed").string());
    EXPECT_NE(st->move_error.find("already exists"), std::string::npos);

    EXPECT_THROW(seed.move_storage(id, "relative", true), piecewise::Error);
    EXPECT_FALSE(seed.move_storage(99, (dir / "x").string(), true));
}

TEST_F(MoveStorage, PausedStaysPausedAndPauseDuringAMoveHolds) {
    std::string data = random_bytes(1 << 20, 23);
    write_file(dir / "seed" / "p.bin", data);
    auto torrent = make_torrent(dir / "seed" / "p.bin", dir / "t.torrent", 32 << 10);
    Session s(loopback("127.0.0.2", dir / "r"));
    auto id = s.add_torrent(params(torrent, dir / "seed"));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::seeding); }, limit));
    ASSERT_TRUE(s.pause(id));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::stopped); }, limit));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(s.move_storage(id, (dir / "a").string(), true));
    ASSERT_TRUE(wait_event(s, EventType::storage_moved, log));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::stopped); }, limit));
    EXPECT_TRUE(s.status(id)->paused);
    EXPECT_EQ(s.status(id)->pieces_have, s.status(id)->num_pieces);
    EXPECT_EQ(read_file(dir / "a" / "p.bin"), data);

    ASSERT_TRUE(s.resume(id));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::seeding); }, limit));
    ASSERT_TRUE(s.move_storage(id, (dir / "b").string(), true));
    ASSERT_TRUE(s.pause(id));  // while it moves: it comes back paused
    ASSERT_TRUE(wait_event(s, EventType::storage_moved, log));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::stopped); }, limit));
    EXPECT_TRUE(s.status(id)->paused);
    EXPECT_EQ(read_file(dir / "b" / "p.bin"), data);
}

TEST_F(MoveStorage, RenamedFilesAreServedUnderTheirNewNames) {
    std::string one = random_bytes(700 << 10, 24), two = random_bytes(500 << 10, 25);
    write_file(dir / "seed" / "Album" / "sub" / "one.bin", one);
    write_file(dir / "seed" / "Album" / "two.bin", two);
    auto torrent = make_torrent(dir / "seed" / "Album", dir / "t.torrent", 32 << 10);
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto id = seed.add_torrent(params(torrent, dir / "seed"));
    ASSERT_TRUE(wait_for([&] { return state_is(seed, id, TorrentState::seeding); }, limit));
    EXPECT_TRUE(seed.rename_path(id, "Album/sub/one.bin", "uno.bin"));
    EXPECT_TRUE(seed.rename_path(id, "Album/sub", "Disc 1"));
    EXPECT_TRUE(seed.rename_path(id, "Album", "Renamed"));
    EXPECT_EQ(read_file(dir / "seed" / "Renamed" / "Disc 1" / "uno.bin"), one);
    auto st = seed.status(id);
    EXPECT_EQ(st->name, "Renamed");
    std::vector<std::string> paths;
    for (auto& f : st->files) paths.push_back(f.path);
    EXPECT_NE(std::find(paths.begin(), paths.end(), "Renamed/Disc 1/uno.bin"), paths.end());
    EXPECT_THROW(seed.rename_path(id, "Renamed/two.bin", "a/b"), piecewise::Error);
    EXPECT_THROW(seed.rename_path(id, "Album/two.bin", "x"), piecewise::Error);  // old name
    EXPECT_FALSE(seed.rename_path(99, "x", "y"));

    // The leecher uses the metainfo's names; the seeder reads from the renamed files.
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto lid = leech.add_torrent(params(torrent, dir / "leech", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_EQ(read_file(dir / "leech" / "Album" / "sub" / "one.bin"), one);
    EXPECT_EQ(read_file(dir / "leech" / "Album" / "two.bin"), two);

    // A restart given the renames (as the daemon stores them) finds the data: no download.
    auto p = params(torrent, dir / "seed");
    p.renames = {{"Album/sub/one.bin", "uno.bin"}, {"Album/sub", "Disc 1"}, {"Album", "Renamed"}};
    Session again(loopback("127.0.0.4", dir / "r-seed2"));
    auto aid = again.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return state_is(again, aid, TorrentState::seeding); }, limit));
    EXPECT_EQ(again.status(aid)->name, "Renamed");
    p.renames = {{"Album/nope", "x"}};
    EXPECT_THROW(again.add_torrent(p), piecewise::Error);
}
