// A disk error in the daemon (injected through the storage seam, tests/support/fault_io.hpp):
// the torrent whose writes fail is marked errored (torrent-get error 3, "local error",
// errorString the one line naming file, operation and errno) and stopped, the other keeps
// downloading; once the fault clears, torrent-start resumes it from what it had, and after
// a second failure torrent-verify does too.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "../support/fault_io.hpp"
#include "daemon/daemon.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using pw::test::FaultIo;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

template <class F>
bool wait_for(F pred, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
}

struct DiskError : ::testing::Test {
    fs::path dir =
        fs::temp_directory_path() / ("pw-diskerr-" + std::to_string(std::random_device{}()));
    std::shared_ptr<FaultIo> io = std::make_shared<FaultIo>();
    pw::test::ScopedFileIo scoped{io};  // the daemon's torrents (and the seeder's) use it
    std::unique_ptr<pw::daemon::Daemon> daemon;
    std::unique_ptr<pw::daemon::rpc::Methods> rpc;
    std::unique_ptr<piecewise::Session> seeder;
    std::string a = random_bytes(3 << 20, 61), b = random_bytes(3 << 20, 62);

    void SetUp() override {
        fs::create_directories(dir / "seed");
        std::ofstream(dir / "seed" / "a.bin", std::ios::binary) << a;
        std::ofstream(dir / "seed" / "b.bin", std::ios::binary) << b;
        pw::daemon::DaemonConfig c;
        c.state_dir = (dir / "state").string();
        c.download_dir = (dir / "dl").string();
        c.settings.listen = "127.0.0.1:0";
        c.settings.dht = false;
        c.settings.disk_threads = 2;
        daemon = std::make_unique<pw::daemon::Daemon>(c);
        rpc = std::make_unique<pw::daemon::rpc::Methods>(*daemon);

        piecewise::Settings s;
        s.listen = "127.0.16.2:0";
        s.resume_dir = (dir / "r-seed").string();
        s.dht = false;
        s.disk_threads = 2;
        seeder = std::make_unique<piecewise::Session>(s);
        for (const char* name : {"a.bin", "b.bin"}) {
            pw::meta::CreateOptions o;
            o.piece_size = 64 << 10;
            o.creation_date = 0;
            auto t = dir / (std::string(name) + ".torrent");
            std::ofstream(t, std::ios::binary) << pw::meta::create_torrent(dir / "seed" / name, o);
            piecewise::AddTorrentParams p;
            p.torrent_file = t.string();
            p.save_path = (dir / "seed").string();
            p.upload_only = true;
            // The seeder dials the daemon (torrent-add takes no peers).
            p.peers = {"127.0.0.1:" + std::to_string(daemon->peer_port())};
            seeder->add_torrent(p);
        }
    }
    void TearDown() override {
        seeder.reset();
        rpc.reset();
        daemon.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    json::object call(const std::string& method, const std::string& args) {
        auto out = rpc->handle(R"({"method":")" + method + R"(","arguments":)" + args + "}");
        auto o = json::parse(out).as_object();
        EXPECT_EQ(o.at("result"), "success") << out;
        return o.at("arguments").as_object();
    }
    json::object get(int id) {
        auto a = call("torrent-get",
                      R"({"ids":[)" + std::to_string(id) +
                          R"(],"fields":["error","errorString","status","percentDone"]})");
        return a.at("torrents").as_array().at(0).as_object();
    }
    bool done(int id) { return get(id).at("percentDone").to_number<double>() == 1.0; }
    bool errored(int id) { return get(id).at("error") == 3; }
    std::string error_string(int id) { return std::string(get(id).at("errorString").as_string()); }
};

}  // namespace

TEST_F(DiskError, ErroredTorrentStopsAloneAndResumes) {
    // a.bin's disk is full from its 10th piece on; b.bin's writes go through.
    io->add({.op = FaultIo::Op::write,
             .path_contains = "/dl/a.bin",
             .nth = 10,
             .count = -1,
             .error = ENOSPC});
    call("torrent-add", R"({"filename":")" + (dir / "a.bin.torrent").string() + R"("})");
    call("torrent-add", R"({"filename":")" + (dir / "b.bin.torrent").string() + R"("})");
    // The file being written is "a.bin.part" (rename-partial-files is on by default).
    const std::string line =
        "write " + (dir / "dl" / "a.bin.part").string() + ": " + std::strerror(ENOSPC);

    ASSERT_TRUE(wait_for([&] { return errored(1); }, std::chrono::seconds(60)));
    EXPECT_EQ(error_string(1), line);
    EXPECT_EQ(get(1).at("status"), 0);  // stopped
    ASSERT_TRUE(wait_for([&] { return done(2); }, std::chrono::seconds(60)));
    EXPECT_EQ(get(2).at("error"), 0);
    EXPECT_EQ(slurp(dir / "dl" / "b.bin"), b);
    EXPECT_TRUE(errored(1));  // still errored: nothing restarts it by itself

    // Space freed: torrent-start resumes it from the pieces it had.
    io->clear();
    call("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_for([&] { return done(1); }, std::chrono::seconds(60)));
    EXPECT_EQ(get(1).at("error"), 0);
    EXPECT_EQ(error_string(1), "");
    EXPECT_EQ(slurp(dir / "dl" / "a.bin"), a);
}

TEST_F(DiskError, VerifyResumesAnErroredTorrent) {
    io->add({.op = FaultIo::Op::write,
             .path_contains = "/dl/a.bin",
             .nth = 5,
             .count = -1,
             .error = EIO});
    call("torrent-add", R"({"filename":")" + (dir / "a.bin.torrent").string() + R"("})");
    ASSERT_TRUE(wait_for([&] { return errored(1); }, std::chrono::seconds(60)));
    EXPECT_EQ(error_string(1),
              "write " + (dir / "dl" / "a.bin.part").string() + ": " + std::strerror(EIO));
    io->clear();
    call("torrent-verify", R"({"ids":[1]})");
    ASSERT_TRUE(wait_for([&] { return done(1); }, std::chrono::seconds(60)));
    EXPECT_EQ(get(1).at("error"), 0);
    EXPECT_EQ(slurp(dir / "dl" / "a.bin"), a);
}
