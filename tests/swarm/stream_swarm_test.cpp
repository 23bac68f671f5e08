// Streaming while downloading (Session::stream_open / stream_read): a leecher that has
// nothing yet reads bytes at 90% of a file from a rate-limited seeder, and they arrive
// (matching the source) long before the download completes; two readers at once; a
// closed stream's reads end with `closed`.
#include <gtest/gtest.h>

#include <future>
#include <iostream>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;
using piecewise::StreamRead;
using namespace std::chrono_literals;

namespace {

struct StreamSwarm : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    std::unique_ptr<Session> seed;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(24 << 20, 5);
        write_file(dir / "seed" / "movie.mkv", data);
        torrent = make_torrent(dir / "seed" / "movie.mkv", dir / "t.torrent", 64 << 10);
        auto ss = loopback("127.0.0.2", dir / "rs");
        ss.pex = false;
        ss.rate_limits.upload_rate_limit = 2'000'000;  // the whole file takes ~12 s
        seed = std::make_unique<Session>(ss);
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "seed").string();
        p.upload_only = true;
        seed->add_torrent(p);
    }
    void TearDown() override {
        seed.reset();
        fs::remove_all(dir);
    }
    AddTorrentParams leech() {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "leech").string();
        p.peers = {endpoint("127.0.0.2", *seed)};
        return p;
    }
};

// Reads [offset, offset + len) through the stream, chunk by chunk.
std::string read_all(Session& s, piecewise::StreamId id, std::int64_t offset, std::size_t len,
                     std::chrono::seconds limit) {
    std::string out;
    auto until = std::chrono::steady_clock::now() + limit;
    while (out.size() < len) {
        auto done = std::make_shared<std::promise<StreamRead>>();
        auto fut = done->get_future();
        s.stream_read(id, offset + static_cast<std::int64_t>(out.size()), len - out.size(),
                      [done](StreamRead r) { done->set_value(std::move(r)); });
        if (fut.wait_until(until) != std::future_status::ready) break;
        auto r = fut.get();
        if (r.status != StreamRead::Status::ok || r.data.empty()) break;
        out += r.data;
    }
    return out;
}

}  // namespace

TEST_F(StreamSwarm, BytesAt90PercentComeBeforeTheDownloadEnds) {
    Session l(loopback("127.0.0.3", dir / "rl"));
    auto id = l.add_torrent(leech());
    auto t0 = std::chrono::steady_clock::now();
    auto info = l.stream_open(id, 0);
    ASSERT_EQ(info.status, piecewise::StreamInfo::Status::ok);
    EXPECT_EQ(info.size, static_cast<std::int64_t>(data.size()));
    EXPECT_EQ(info.path, "movie.mkv");
    std::int64_t at = static_cast<std::int64_t>(data.size()) * 9 / 10 + 12345;
    auto got = read_all(l, info.id, at, 200000, 60s);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto st = l.status(id);
    ASSERT_TRUE(st);
    std::cout << "200 kB at 90% after " << secs << " s, with " << st->pieces_have << " of "
              << st->num_pieces << " pieces\n";
    ASSERT_EQ(got.size(), 200000u);
    EXPECT_TRUE(got == data.substr(static_cast<std::size_t>(at), 200000));
    // Far from done: rarest-first alone would have fetched about half of the torrent
    // before reaching these pieces, on average.
    EXPECT_LT(st->pieces_have, st->num_pieces / 4);
    l.stream_close(info.id);
    ASSERT_TRUE(wait_for([&] { return complete(l, id); }, 60s));
    EXPECT_TRUE(read_file(dir / "leech" / "movie.mkv") == data);
}

TEST_F(StreamSwarm, TwoReadersAtOnceAndClose) {
    Session l(loopback("127.0.0.3", dir / "rl"));
    auto id = l.add_torrent(leech());
    auto a = l.stream_open(id, 0), b = l.stream_open(id, 0);
    ASSERT_EQ(a.status, piecewise::StreamInfo::Status::ok);
    ASSERT_EQ(b.status, piecewise::StreamInfo::Status::ok);
    EXPECT_NE(a.id, b.id);
    EXPECT_EQ(l.stream_open(id, 1).status, piecewise::StreamInfo::Status::no_file);
    EXPECT_EQ(l.stream_open(id + 100, 0).status, piecewise::StreamInfo::Status::no_torrent);
    std::int64_t n = static_cast<std::int64_t>(data.size());
    auto fa = std::async(std::launch::async, [&] { return read_all(l, a.id, n / 3, 100000, 60s); });
    auto fb =
        std::async(std::launch::async, [&] { return read_all(l, b.id, n * 4 / 5, 100000, 60s); });
    auto ga = fa.get(), gb = fb.get();
    auto st = l.status(id);
    std::cout << "two readers served with " << st->pieces_have << " of " << st->num_pieces
              << " pieces\n";
    EXPECT_TRUE(ga == data.substr(static_cast<std::size_t>(n / 3), 100000));
    EXPECT_TRUE(gb == data.substr(static_cast<std::size_t>(n * 4 / 5), 100000));
    EXPECT_LT(st->pieces_have, st->num_pieces / 2);
    // A read waiting on a closed stream ends at once with `closed`, and so does a new one.
    auto done = std::make_shared<std::promise<StreamRead>>();
    auto fut = done->get_future();
    l.stream_read(a.id, n - 1, 1, [done](StreamRead r) { done->set_value(std::move(r)); });
    l.stream_close(a.id);
    ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
    auto r = fut.get();
    // The last byte may have arrived before the close: then it was read.
    EXPECT_TRUE(r.status == StreamRead::Status::closed ||
                (r.status == StreamRead::Status::ok && r.data == data.substr(data.size() - 1)));
    auto again = read_all(l, a.id, 0, 10, 10s);
    EXPECT_TRUE(again.empty());
    EXPECT_EQ(l.stream_count(), 1u);  // b is still open
    l.stream_close(b.id);
    EXPECT_EQ(l.stream_count(), 0u);
}
