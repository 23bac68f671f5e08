// Files changed behind a seeder's back (truncated, rewritten in place, deleted): the
// torrent stops with one line naming the file, never sends bytes it could not read, and
// recovers: a recheck, or a restart (Session::resume, the daemon's torrent-start) that
// hashes the changed file again, finds the damaged pieces missing and fetches them from a
// peer that has them.
#include <gtest/gtest.h>

#include <fstream>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::EventType;
using piecewise::Session;
using piecewise::TorrentState;

namespace {

constexpr auto limit = std::chrono::seconds(60);
constexpr std::int64_t piece = 64 << 10;
constexpr std::size_t size = 2 << 20;

struct ChangedFiles : ::testing::Test {
    fs::path dir;
    std::string data = random_bytes(size, 51);
    fs::path torrent;
    fs::path seed_file;
    std::unique_ptr<Session> seed, peer;
    piecewise::TorrentId sid = -1, pid = -1;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        seed_file = dir / "seed" / "payload.bin";
        write_file(seed_file, data);
        torrent = make_torrent(seed_file, dir / "t.torrent", piece);
    }
    void TearDown() override {
        seed.reset();
        peer.reset();
        fs::remove_all(dir);
    }

    AddTorrentParams params(const fs::path& save, std::vector<std::string> peers) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        return p;
    }

    // Without MSE, blocks are uploaded by splice (session/torrent_upload.cpp); with it
    // (the default, `prefer`, picks RC4 between two sessions), read into a buffer.
    bool plaintext = false;
    piecewise::Settings settings(const std::string& ip, const fs::path& resume) const {
        auto s = loopback(ip, resume);
        if (plaintext) s.encryption = piecewise::Encryption::disable;
        return s;
    }

    // The seeder, and a peer that downloads everything from it (and can give it back).
    void start_swarm() {
        seed = std::make_unique<Session>(settings("127.0.15.2", dir / "r-seed"));
        peer = std::make_unique<Session>(settings("127.0.15.3", dir / "r-peer"));
        sid = seed->add_torrent(params(dir / "seed", {endpoint("127.0.15.3", *peer)}));
        pid = peer->add_torrent(params(dir / "peer", {endpoint("127.0.15.2", *seed)}));
        ASSERT_TRUE(wait_for([&] { return complete(*peer, pid); }, limit));
        // The seeder's file watch stamps its settled files within a few seconds of start.
        std::this_thread::sleep_for(std::chrono::seconds(3));
    }

    std::string wait_error() {
        bool stopped = wait_for(
            [&] {
                auto st = seed->status(sid);
                return st && st->state == TorrentState::error;
            },
            std::chrono::seconds(20));
        return stopped ? seed->status(sid)->error : std::string("(no error)");
    }

    int storage_errors() {
        int n = 0;
        for (auto& e : seed->pop_events()) n += e.type == EventType::storage_error;
        return n;
    }

    void expect_recovered() {
        // The errored torrent still says it has every piece: wait for the new one to
        // check, fetch what is missing and seed again.
        ASSERT_TRUE(wait_for(
            [&] {
                auto st = seed->status(sid);
                return st && st->state == TorrentState::seeding && complete(*seed, sid);
            },
            limit));
        EXPECT_TRUE(read_file(seed_file) == data);
    }

    void truncated_then_recheck();
};

}  // namespace

// Truncated to half: the seeder stops (the watch sees the size, or a read comes back
// short: either way nothing is sent that was not read), a leecher arriving meanwhile gets
// no bad piece, and a recheck finds the second half missing and fetches only that.
TEST_F(ChangedFiles, TruncatedThenRecheck) { truncated_then_recheck(); }
TEST_F(ChangedFiles, TruncatedThenRecheckUploadingBySplice) {
    plaintext = true;
    truncated_then_recheck();
}
void ChangedFiles::truncated_then_recheck() {
    start_swarm();
    fs::resize_file(seed_file, size / 2);
    Session late(settings("127.0.15.4", dir / "r-late"));
    auto lid = late.add_torrent(params(dir / "late", {endpoint("127.0.15.2", *seed)}));
    std::string why = wait_error();
    EXPECT_NE(why.find(seed_file.string()), std::string::npos) << why;
    EXPECT_TRUE(why == "file changed on disk: " + seed_file.string() +
                           ": truncated to 1048576 of 2097152 bytes" ||
                why == "read " + seed_file.string() + ": unexpected end of file")
        << why;
    EXPECT_EQ(storage_errors(), 1);
    EXPECT_EQ(seed->status(sid)->peers, 0);
    ASSERT_TRUE(seed->recheck(sid));
    expect_recovered();
    EXPECT_GE(seed->status(sid)->downloaded, std::int64_t(size / 2));
    EXPECT_LE(seed->status(sid)->downloaded, std::int64_t(size / 2) + 8 * 16384);
    // The late leecher never got a bad piece, and completes from the two seeds.
    ASSERT_TRUE(wait_for([&] { return complete(late, lid); }, limit));
    EXPECT_EQ(late.status(lid)->hash_failures, 0);
    EXPECT_TRUE(read_file(dir / "late" / "payload.bin") == data);
}

// Rewritten in place, same size: only the modification time tells. The seeder stops; a
// restart (torrent-start) hashes that file again and fetches the two damaged pieces.
TEST_F(ChangedFiles, ReplacedThenRestart) {
    start_swarm();
    {
        std::fstream f(seed_file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(5 * piece + 100);
        std::string junk = random_bytes(piece, 52);
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    EXPECT_EQ(wait_error(), "file changed on disk: " + seed_file.string() + ": modified");
    EXPECT_EQ(storage_errors(), 1);
    ASSERT_TRUE(seed->resume(sid));
    expect_recovered();
    EXPECT_EQ(seed->status(sid)->downloaded, 2 * piece);
}

// Deleted (while its descriptor may still be open): the seeder stops; torrent-start finds
// the file gone and downloads it all again.
TEST_F(ChangedFiles, DeletedThenRestart) {
    start_swarm();
    fs::remove(seed_file);
    EXPECT_EQ(wait_error(), "file changed on disk: " + seed_file.string() + ": deleted");
    EXPECT_EQ(storage_errors(), 1);
    ASSERT_TRUE(seed->resume(sid));
    expect_recovered();
    EXPECT_GE(seed->status(sid)->downloaded, std::int64_t(size));
}
