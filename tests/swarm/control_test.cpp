// Session control calls (list, pause, resume, recheck, reannounce, remove) on real
// sessions over 127.0.0.x.
#include <gtest/gtest.h>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
using piecewise::TorrentState;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct Control : ::testing::Test {
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
    return st && st->state == want;
}

int peers_of(const Session& s, piecewise::TorrentId id) {
    auto st = s.status(id);
    return st ? st->peers : -1;
}

bool saw(Session& s, std::vector<piecewise::Event>& log, const std::string& text) {
    for (auto& e : s.pop_events()) log.push_back(e);
    for (auto& e : log)
        if (e.message.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_F(Control, PausedServesNobodyAndResumeContinuesFromResumeData) {
    std::string data = random_bytes(2 << 20, 7);
    write_file(dir / "seed" / "p.bin", data);
    auto torrent = make_torrent(dir / "seed" / "p.bin", dir / "t.torrent", 32 << 10);
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    seed.add_torrent(params(torrent, dir / "seed"));
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto lid = leech.add_torrent(params(torrent, dir / "leech", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    // The download just ended: its rate still covers it until the torrent is paused.
    ASSERT_GT(leech.status(lid)->down_rate, 0);

    std::vector<piecewise::Event> log;
    ASSERT_TRUE(leech.pause(lid));
    ASSERT_TRUE(wait_for([&] { return state_is(leech, lid, TorrentState::stopped); }, limit));
    auto st = leech.status(lid);
    EXPECT_TRUE(st->paused);
    EXPECT_EQ(st->pieces_have, st->num_pieces);
    EXPECT_EQ(st->down_rate, 0);
    EXPECT_EQ(st->up_rate, 0);
    EXPECT_TRUE(wait_for([&] { return peers_of(leech, lid) == 0; }, limit));

    // A newcomer that knows only the paused peer gets nothing from it.
    Session late(loopback("127.0.0.4", dir / "r-late"));
    auto nid = late.add_torrent(params(torrent, dir / "late", {endpoint("127.0.0.3", leech)}));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    EXPECT_EQ(late.status(nid)->pieces_have, 0);
    EXPECT_EQ(peers_of(leech, lid), 0);
    saw(leech, log, "");
    log.clear();

    ASSERT_TRUE(leech.resume(lid));
    ASSERT_TRUE(wait_for([&] { return state_is(leech, lid, TorrentState::seeding); }, limit));
    EXPECT_FALSE(leech.status(lid)->paused);
    EXPECT_TRUE(saw(leech, log, "(resume data)"));  // not hashed again
    EXPECT_FALSE(saw(leech, log, "(checked)"));
    // Resumed, it serves again: the newcomer (retrying with back-off) completes from it.
    ASSERT_TRUE(wait_for([&] { return complete(late, nid); }, limit));
    EXPECT_EQ(read_file(dir / "late" / "p.bin"), data);
}

TEST_F(Control, AddedPausedConnectsToNobodyUntilResumed) {
    std::string data = random_bytes(1 << 20, 8);
    write_file(dir / "seed" / "p.bin", data);
    auto torrent = make_torrent(dir / "seed" / "p.bin", dir / "t.torrent", 32 << 10);
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto sid = seed.add_torrent(params(torrent, dir / "seed"));
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto p = params(torrent, dir / "leech", {endpoint("127.0.0.2", seed)});
    p.paused = true;
    auto lid = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return state_is(leech, lid, TorrentState::stopped); }, limit));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto st = leech.status(lid);
    EXPECT_TRUE(st->paused);
    EXPECT_EQ(st->pieces_have, 0);
    EXPECT_EQ(st->peers, 0);
    EXPECT_EQ(peers_of(seed, sid), 0);
    EXPECT_GT(st->added_time, 0);
    ASSERT_EQ(st->files.size(), 1u);
    EXPECT_EQ(st->files[0].size, 1 << 20);
    EXPECT_EQ(st->files[0].bytes_done, 0);

    ASSERT_TRUE(leech.resume(lid));
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    EXPECT_EQ(read_file(dir / "leech" / "p.bin"), data);
    st = leech.status(lid);
    EXPECT_EQ(st->files[0].bytes_done, 1 << 20);
}

TEST_F(Control, RecheckFindsADamagedPieceAndPausedStaysPaused) {
    std::string data = random_bytes(1 << 20, 9);
    write_file(dir / "seed" / "p.bin", data);
    auto torrent = make_torrent(dir / "seed" / "p.bin", dir / "t.torrent", 64 << 10);
    Session s(loopback("127.0.0.2", dir / "r"));
    auto id = s.add_torrent(params(torrent, dir / "seed"));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::seeding); }, limit));
    {
        std::fstream f(dir / "seed" / "p.bin", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put(static_cast<char>(~data[100]));
    }
    ASSERT_TRUE(s.recheck(id));
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = s.status(id);
            return st && st->state == TorrentState::downloading && st->pieces_have == 15;
        },
        limit));
    auto st = s.status(id);
    EXPECT_EQ(st->files[0].bytes_done, (1 << 20) - (64 << 10));

    ASSERT_TRUE(s.pause(id));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::stopped); }, limit));
    write_file(dir / "seed" / "p.bin", data);  // repaired by hand
    ASSERT_TRUE(s.recheck(id));
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = s.status(id);
            return st && st->state == TorrentState::stopped && st->pieces_have == 16;
        },
        limit));
    EXPECT_TRUE(s.status(id)->paused);
}

TEST_F(Control, RemoveForgetsTheTorrentAndDeletesOnlyItsOwnFiles) {
    write_file(dir / "save" / "album" / "a.bin", random_bytes(100000, 1));
    write_file(dir / "save" / "album" / "sub" / "b.bin", random_bytes(70000, 2));
    auto torrent = make_torrent(dir / "save" / "album", dir / "t.torrent", 32 << 10);
    write_file(dir / "save" / "album" / "mine.txt", "not the torrent's");
    write_file(dir / "save" / "other.txt", "neighbour");
    Session s(loopback("127.0.0.2", dir / "r"));
    auto id = s.add_torrent(params(torrent, dir / "save"));
    auto id2 = s.add_torrent(params(
        make_torrent(dir / "save" / "other.txt", dir / "o.torrent", 16 << 10), dir / "save"));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id, TorrentState::seeding); }, limit));
    ASSERT_TRUE(wait_for([&] { return state_is(s, id2, TorrentState::seeding); }, limit));
    EXPECT_EQ(s.list(), (std::vector<piecewise::TorrentId>{id, id2}));
    auto resume = dir / "r" / (s.status(id)->info_hash + ".resume");
    ASSERT_TRUE(wait_for([&] { return fs::exists(resume); }, limit));

    ASSERT_TRUE(s.remove_torrent(id, true));
    EXPECT_EQ(s.list(), (std::vector<piecewise::TorrentId>{id2}));
    EXPECT_FALSE(s.status(id));
    ASSERT_TRUE(wait_for([&] { return !fs::exists(dir / "save" / "album" / "a.bin"); }, limit));
    EXPECT_TRUE(wait_for([&] { return !fs::exists(dir / "save" / "album" / "sub"); }, limit));
    EXPECT_TRUE(wait_for([&] { return !fs::exists(resume); }, limit));
    EXPECT_EQ(read_file(dir / "save" / "album" / "mine.txt"), "not the torrent's");
    EXPECT_EQ(read_file(dir / "save" / "other.txt"), "neighbour");

    ASSERT_TRUE(s.remove_torrent(id2, false));  // keeps the data
    EXPECT_TRUE(s.list().empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(read_file(dir / "save" / "other.txt"), "neighbour");
}

TEST_F(Control, UnknownIdsAreRefused) {
    Session s(loopback("127.0.0.2", dir / "r"));
    EXPECT_FALSE(s.pause(7));
    EXPECT_FALSE(s.resume(7));
    EXPECT_FALSE(s.recheck(7));
    EXPECT_FALSE(s.reannounce(7));
    EXPECT_FALSE(s.remove_torrent(7, false));
    EXPECT_TRUE(s.list().empty());
}
