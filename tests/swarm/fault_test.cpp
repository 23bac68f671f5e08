// Disk faults under a live swarm, injected through the storage seam (FileIo,
// tests/support/fault_io.hpp): a failed write stops the torrent with one clear error and
// loses nothing verified; a rerun after the fault clears completes byte-identical; short
// writes and reads are completed, writes of nothing are errors; a slow disk stalls neither
// the network thread nor the other torrents, and piece memory stays within the cache.
#include <gtest/gtest.h>

#include <cstring>

#include "../support/fault_io.hpp"
#include "crypto/sha1.hpp"
#include "storage/resume.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::EventType;
using piecewise::Session;
using piecewise::TorrentState;
using pw::test::FaultIo;

namespace {

constexpr auto limit = std::chrono::seconds(60);
constexpr std::int64_t piece = 64 << 10;

struct Faults : ::testing::Test {
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
    // Every torrent of the test's sessions does its file calls through `io`; the rules
    // tell the sessions apart by their download directories.
    std::shared_ptr<FaultIo> io = std::make_shared<FaultIo>();
    pw::test::ScopedFileIo scoped{io};
};

// The storage_error events so far (appended to `log`).
std::vector<std::string> storage_errors(Session& s, std::vector<piecewise::Event>& log) {
    for (auto& e : s.pop_events()) log.push_back(e);
    std::vector<std::string> out;
    for (auto& e : log)
        if (e.type == EventType::storage_error) out.push_back(e.message);
    return out;
}

bool errored(const Session& s, piecewise::TorrentId id) {
    auto st = s.status(id);
    return st && st->state == TorrentState::error;
}

// Pieces the resume record lists; each must hash right on disk (checked here).
int verified_in_resume(const fs::path& resume_dir, const pw::meta::Metainfo& m,
                       const fs::path& file) {
    auto r =
        pw::storage::load_resume_file(resume_dir / (m.info_hash.hex() + ".resume"), m.num_pieces());
    if (!r) return -1;
    std::string disk = read_file(file);
    int n = 0;
    for (int p = 0; p < m.num_pieces(); ++p) {
        if (!r->have[static_cast<std::size_t>(p)]) continue;
        auto begin = static_cast<std::size_t>(p * m.piece_length);
        if (disk.size() < begin + static_cast<std::size_t>(m.piece_size(p))) return -2;
        auto got = pw::crypto::sha1(
            std::string_view(disk).substr(begin, static_cast<std::size_t>(m.piece_size(p))));
        if (got != m.piece_hashes[static_cast<std::size_t>(p)]) return -3;
        ++n;
    }
    return n;
}

}  // namespace

// ENOSPC from the 20th write on (the disk stays full): one error line naming the file,
// the operation and the errno; the record lists exactly the 19 pieces written; with the
// fault gone, a rerun fetches only the rest and ends byte-identical.
TEST_F(Faults, WriteFailureStopsTorrentAndRerunCompletes) {
    std::string data = random_bytes(4 << 20, 41);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", piece);
    auto meta = pw::meta::load(torrent);

    Session seed(loopback("127.0.14.2", dir / "r-seed"));
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    auto rule = io->add({.op = FaultIo::Op::write,
                         .path_contains = "/leech/",
                         .nth = 20,
                         .count = -1,
                         .error = ENOSPC});
    const auto file = dir / "leech" / "payload.bin";
    {
        Session leech(loopback("127.0.14.3", dir / "r-leech"));
        auto id = leech.add_torrent(params(torrent, dir / "leech", {endpoint("127.0.14.2", seed)}));
        ASSERT_TRUE(wait_for([&] { return errored(leech, id); }, limit));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // writes in flight end
        std::vector<piecewise::Event> log;
        auto errors = storage_errors(leech, log);
        ASSERT_EQ(errors.size(), 1u);
        const std::string line = "write " + file.string() + ": " + std::strerror(ENOSPC);
        EXPECT_EQ(errors[0], line);
        auto st = leech.status(id);
        EXPECT_EQ(st->error, line);
        EXPECT_EQ(st->peers, 0);  // the torrent stopped: its peers were closed
        EXPECT_EQ(st->pieces_have, 19);
    }  // the session stops: resume data saved
    EXPECT_GE(io->fired(rule), 1);
    EXPECT_EQ(verified_in_resume(dir / "r-leech", meta, file), 19);

    io->clear();
    Session leech(loopback("127.0.14.3", dir / "r-leech"));
    auto id = leech.add_torrent(params(torrent, dir / "leech", {endpoint("127.0.14.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit));
    EXPECT_TRUE(read_file(file) == data);
    // Only the 45 missing pieces came again (endgame may duplicate a few blocks).
    EXPECT_LE(leech.status(id)->downloaded, std::int64_t(data.size()) - 19 * piece + 8 * 16384);
    std::vector<piecewise::Event> log;
    EXPECT_TRUE(storage_errors(leech, log).empty());
}

// Every errno of a failing disk gives the same kind of line, the file and the error named.
TEST_F(Faults, EachErrnoIsReportedByName) {
    std::string data = random_bytes(1 << 20, 42);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", piece);
    Session seed(loopback("127.0.14.2", dir / "r-seed"));
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    int round = 0;
    for (int e : {EIO, EACCES, EROFS}) {
        auto save = dir / ("leech" + std::to_string(round));
        io->add({.op = FaultIo::Op::write,
                 .path_contains = save.string() + "/",
                 .nth = 3,
                 .count = -1,
                 .error = e});
        Session leech(loopback("127.0.14.3", dir / ("r" + std::to_string(round++))));
        auto id = leech.add_torrent(params(torrent, save, {endpoint("127.0.14.2", seed)}));
        ASSERT_TRUE(wait_for([&] { return errored(leech, id); }, limit)) << e;
        EXPECT_EQ(leech.status(id)->error,
                  "write " + (save / "payload.bin").string() + ": " + std::strerror(e));
    }
}

// Writes that move fewer bytes than asked are completed; reads on the seeder too.
TEST_F(Faults, ShortTransfersAreCompleted) {
    std::string data = random_bytes(2 << 20, 43);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", piece);
    auto reads = io->add(
        {.op = FaultIo::Op::read, .path_contains = "/seed/", .count = -1, .max_bytes = 3000});
    Session seed(loopback("127.0.14.2", dir / "r-seed"));
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    auto writes = io->add(
        {.op = FaultIo::Op::write, .path_contains = "/leech/", .count = -1, .max_bytes = 1000});
    Session leech(loopback("127.0.14.3", dir / "r-leech"));
    auto id = leech.add_torrent(params(torrent, dir / "leech", {endpoint("127.0.14.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit));
    EXPECT_TRUE(read_file(dir / "leech" / "payload.bin") == data);
    EXPECT_GE(io->fired(writes), int(data.size() / 1000));
    EXPECT_GT(io->fired(reads), int(data.size() / 3000));
}

// A write that moves nothing is an I/O error, never taken as done: the piece is not
// counted and the record does not list it.
TEST_F(Faults, WriteOfNothingIsAnError) {
    std::string data = random_bytes(1 << 20, 44);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", piece);
    auto meta = pw::meta::load(torrent);
    Session seed(loopback("127.0.14.2", dir / "r-seed"));
    seed.add_torrent(params(torrent, dir / "seed", {}, true));
    io->add({.op = FaultIo::Op::write,
             .path_contains = "/leech/",
             .nth = 5,
             .count = -1,
             .max_bytes = 0});
    const auto file = dir / "leech" / "payload.bin";
    {
        Session leech(loopback("127.0.14.3", dir / "r-leech"));
        auto id = leech.add_torrent(params(torrent, dir / "leech", {endpoint("127.0.14.2", seed)}));
        ASSERT_TRUE(wait_for([&] { return errored(leech, id); }, limit));
        EXPECT_EQ(leech.status(id)->error, "write " + file.string() + ": " + std::strerror(EIO));
        EXPECT_EQ(leech.status(id)->pieces_have, 4);
    }
    EXPECT_EQ(verified_in_resume(dir / "r-leech", meta, file), 4);
}

// One session downloads torrent A onto a slow disk (100 ms per write, so A takes at least
// 13 s) while it seeds B:
// a leecher gets all of B meanwhile, the network thread answers status at once, the
// piece memory stays within the cache bound, and A completes byte-identical.
TEST_F(Faults, SlowDiskStallsNeitherNetworkNorOtherTorrents) {
    std::string a = random_bytes(16 << 20, 45), b = random_bytes(4 << 20, 46);
    write_file(dir / "src" / "slow.bin", a);
    write_file(dir / "mid" / "fast.bin", b);
    auto ta = make_torrent(dir / "src" / "slow.bin", dir / "a.torrent", piece);
    auto tb = make_torrent(dir / "mid" / "fast.bin", dir / "b.torrent", piece);

    Session src(loopback("127.0.14.2", dir / "r-src"));
    src.add_torrent(params(ta, dir / "src", {}, true));
    auto slow = io->add({.op = FaultIo::Op::write,
                         .path_contains = "/mid/slow.bin",
                         .count = -1,
                         .delay = std::chrono::milliseconds(100)});
    auto s = loopback("127.0.14.4", dir / "r-mid");
    s.cache_bytes = 1 << 20;
    Session mid(s);
    auto mid_b = mid.add_torrent(params(tb, dir / "mid", {}, true));
    auto mid_a = mid.add_torrent(params(ta, dir / "mid", {endpoint("127.0.14.2", src)}));
    ASSERT_TRUE(wait_for(
        [&] {
            auto st = mid.status(mid_a);
            return st && st->pieces_have > 0;
        },
        limit));

    Session leech(loopback("127.0.14.5", dir / "r-leech"));
    auto lb = leech.add_torrent(params(tb, dir / "leech", {endpoint("127.0.14.4", mid)}));
    std::chrono::steady_clock::duration worst{};
    std::int64_t peak_cache = 0;
    bool b_done = wait_for(
        [&] {
            auto t0 = std::chrono::steady_clock::now();
            auto st = mid.status(mid_b);
            worst = std::max(worst, std::chrono::steady_clock::now() - t0);
            peak_cache = std::max(peak_cache, mid.session_stats().cache_bytes);
            return st && complete(leech, lb);
        },
        limit);
    ASSERT_TRUE(b_done);
    EXPECT_FALSE(complete(mid, mid_a))
        << "A finished first: the disk was not slow enough to show anything";
    EXPECT_TRUE(read_file(dir / "leech" / "fast.bin") == b);
    EXPECT_LT(worst,
              std::chrono::milliseconds(400));  // the network thread never waited on the disk
    EXPECT_LE(peak_cache, s.cache_bytes);
    ASSERT_TRUE(wait_for(
        [&] {
            peak_cache = std::max(peak_cache, mid.session_stats().cache_bytes);
            return complete(mid, mid_a);
        },
        limit));
    EXPECT_LE(peak_cache, s.cache_bytes);
    EXPECT_TRUE(read_file(dir / "mid" / "slow.bin") == a);
    EXPECT_GE(io->fired(slow), int(a.size() / piece));
}
