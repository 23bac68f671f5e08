// Selective download over 127.0.0.x: only the chosen files of a multi-file torrent are
// fetched and created; boundary bytes of skipped files wait in the parts file and land in
// the right place when those files are chosen later; a restart trusts the resume data.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
using piecewise::TorrentState;

namespace {

constexpr auto limit = std::chrono::seconds(20);

struct FileSel : ::testing::Test {
    fs::path dir;
    // Sizes chosen so that every file boundary falls inside a 32 KiB piece.
    std::vector<std::pair<std::string, std::string>> files = {
        {"a.bin", random_bytes(100 << 10, 1)},
        {"b.bin", random_bytes(70 << 10, 2)},
        {"sub/c.bin", random_bytes(50 << 10, 3)},
        {"d.bin", random_bytes(130 << 10, 4)},
    };
    fs::path torrent;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        for (auto& [name, data] : files) write_file(dir / "seed" / "multi" / name, data);
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
};

bool finished(const Session& s, piecewise::TorrentId id) {
    auto st = s.status(id);
    return st && st->state == TorrentState::seeding && st->left_until_done == 0;
}

}  // namespace

TEST_F(FileSel, OnlyChosenFilesThenTheRest) {
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    seed.add_torrent(params(dir / "seed"));
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto p = params(dir / "leech", {endpoint("127.0.0.2", seed)});
    // Metainfo order is sorted by path: a.bin, b.bin, d.bin, sub/c.bin.
    p.file_priorities = {4, 0, 0, 7};
    auto id = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return finished(leech, id); }, limit));
    auto st = leech.status(id);
    ASSERT_EQ(st->files.size(), 4u);
    EXPECT_EQ(st->files[0].path, "multi/a.bin");
    EXPECT_EQ(st->files[3].path, "multi/sub/c.bin");
    EXPECT_EQ(st->files[1].priority, 0);
    EXPECT_EQ(st->files[3].priority, 7);
    EXPECT_LT(st->pieces_have, st->num_pieces);
    // a.bin: pieces 0..3 (the 4th shared with b.bin); c.bin: 300K..350K = pieces 9..10.
    EXPECT_EQ(st->size_when_done, 5 * (32 << 10) + (30 << 10));  // the last piece is 30 KiB
    EXPECT_EQ(st->files[0].bytes_done, 100 << 10);
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "a.bin"), files[0].second);
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "sub" / "c.bin"), files[2].second);
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "b.bin"));
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "d.bin"));
    auto info_hash = st->info_hash;
    fs::path parts = dir / "leech" / ("." + info_hash + ".parts");
    EXPECT_TRUE(fs::exists(parts));

    // b.bin wanted too: its first bytes (in piece 3, already had) come from the parts file.
    ASSERT_TRUE(leech.set_file_priorities(id, {4, 4, 0, 7}));
    ASSERT_TRUE(wait_for([&] { return finished(leech, id); }, limit));
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "b.bin"), files[1].second);
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "d.bin"));

    // A restart with the same selection trusts the resume data: nothing is fetched again.
    leech.stop();
    Session again(loopback("127.0.0.4", dir / "r-leech"));
    auto p2 = params(dir / "leech", {endpoint("127.0.0.2", seed)});
    p2.file_priorities = {4, 4, 0, 7};
    auto id2 = again.add_torrent(p2);
    ASSERT_TRUE(wait_for([&] { return finished(again, id2); }, limit));
    bool from_resume = false;
    for (auto& e : again.pop_events())
        if (e.message.find("(resume data)") != std::string::npos) from_resume = true;
    EXPECT_TRUE(from_resume);
    EXPECT_EQ(again.status(id2)->downloaded, 0);

    // Everything: d.bin's boundary bytes (piece 6, shared with b.bin) come from the parts
    // file, the rest from the seed; the parts file is gone once nothing uses it.
    ASSERT_TRUE(again.set_file_priorities(id2, {}));
    ASSERT_TRUE(wait_for([&] { return complete(again, id2) && finished(again, id2); }, limit));
    for (auto& [name, data] : files)
        EXPECT_EQ(read_file(dir / "leech" / "multi" / name), data) << name;
    EXPECT_TRUE(wait_for([&] { return !fs::exists(parts); }, std::chrono::seconds(10)));
    EXPECT_LT(again.status(id2)->downloaded, 350 << 10);  // not the whole torrent again
}

TEST_F(FileSel, SequentialAndAMagnetSelectOnly) {
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto sid = seed.add_torrent(params(dir / "seed"));
    ASSERT_TRUE(wait_for([&] { return finished(seed, sid); }, limit));
    auto ih = seed.status(sid)->info_hash;
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    AddTorrentParams p;
    p.magnet =
        "magnet:?xt=urn:btih:" + ih + "&so=2&x.pe=" + endpoint("127.0.0.2", seed);  // d.bin only
    p.save_path = (dir / "leech").string();
    p.sequential = true;
    auto id = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return finished(leech, id); }, limit)) << [&] {
        auto s = leech.status(id);
        std::string out =
            s ? fmt::format("state {} have {}/{} left {} peers {}", int(s->state), s->pieces_have,
                            s->num_pieces, s->left_until_done, s->peers)
              : "none";
        for (auto& e : leech.pop_events()) out += "\n" + e.message;
        return out;
    }();
    auto st = leech.status(id);
    EXPECT_TRUE(st->sequential);
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "d.bin"), files[3].second);
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "a.bin"));
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "b.bin"));
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "sub"));
    ASSERT_TRUE(leech.set_sequential(id, false));
    EXPECT_FALSE(leech.status(id)->sequential);
}

TEST_F(FileSel, ChosenWhilePausedThenResumed) {
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    seed.add_torrent(params(dir / "seed"));
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto p = params(dir / "leech", {endpoint("127.0.0.2", seed)});
    p.paused = true;
    auto id = leech.add_torrent(p);
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = leech.status(id);
            return st && st->state == TorrentState::stopped;
        },
        limit));
    ASSERT_TRUE(leech.set_file_priorities(id, {4, 4, 0, 4}));
    EXPECT_EQ(leech.status(id)->files[2].priority, 0);
    ASSERT_TRUE(leech.resume(id));
    ASSERT_TRUE(wait_for([&] { return finished(leech, id); }, limit));
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "d.bin"));
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "b.bin"), files[1].second);
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "sub" / "c.bin"), files[2].second);
}

// A recheck hashes boundary pieces through the parts file and finds the skipped files absent
// without failing: the same pieces are present afterwards.
TEST_F(FileSel, RecheckWithSkippedFilesKeepsWhatIsThere) {
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    seed.add_torrent(params(dir / "seed"));
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto p = params(dir / "leech", {endpoint("127.0.0.2", seed)});
    p.file_priorities = {0, 4, 0, 0};  // b.bin only: pieces 3..5, boundaries with a and d
    auto id = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return finished(leech, id); }, limit));
    int have = leech.status(id)->pieces_have;
    EXPECT_EQ(have, 3);
    seed.stop();  // nothing can be fetched again: what the recheck finds is what was on disk
    ASSERT_TRUE(leech.recheck(id));
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = leech.status(id);
            return st && st->state == TorrentState::seeding && st->pieces_have == have;
        },
        limit));
    EXPECT_EQ(leech.status(id)->left_until_done, 0);
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "a.bin"));
    EXPECT_FALSE(fs::exists(dir / "leech" / "multi" / "d.bin"));
    EXPECT_EQ(read_file(dir / "leech" / "multi" / "b.bin"), files[1].second);
}
