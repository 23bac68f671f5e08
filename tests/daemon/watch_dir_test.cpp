// The watch directory: a dropped .torrent is added and renamed .added; hostile or
// unparsable files are renamed .invalid (never a crash); FIFOs, other names and files
// still being written are left alone; end to end through a real Daemon.
#include "daemon/watch/watch_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "daemon/daemon.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"
#include "meta/metainfo.hpp"

namespace fs = std::filesystem;
using pw::daemon::WatchDir;

namespace {

struct WatchDirTest : ::testing::Test {
    fs::path dir, watch;
    std::string torrent_bytes;
    std::mutex mu;
    std::vector<std::string> added, logs;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-watch-" + std::to_string(std::random_device{}()));
        watch = dir / "watch";
        fs::create_directories(dir / "data");
        std::ofstream(dir / "data" / "f.bin", std::ios::binary) << std::string(70000, 'x');
        pw::meta::CreateOptions o;
        o.piece_size = 16 << 10;
        o.creation_date = 0;
        torrent_bytes = pw::meta::create_torrent(dir / "data" / "f.bin", o);
    }
    void TearDown() override { fs::remove_all(dir); }

    std::unique_ptr<WatchDir> make(
        std::chrono::milliseconds settle = std::chrono::milliseconds(0)) {
        return std::make_unique<WatchDir>(
            watch,
            [this](const std::string& b) {
                auto m = pw::meta::parse(b);  // throws MetainfoError for a bad file
                std::lock_guard lk(mu);
                added.push_back(m.name);
            },
            [this](const std::string& l) {
                std::lock_guard lk(mu);
                logs.push_back(l);
            },
            settle);
    }
    static bool wait_for(const std::function<bool()>& pred) {
        for (int i = 0; i < 100; ++i) {
            if (pred()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return pred();
    }
    void put(const std::string& name, const std::string& bytes) {
        // Written beside, then moved in: what a careful tool does (IN_MOVED_TO).
        std::ofstream(dir / "tmp", std::ios::binary) << bytes;
        fs::rename(dir / "tmp", watch / name);
    }
};

}  // namespace

TEST_F(WatchDirTest, DroppedTorrentIsAddedAndRenamed) {
    auto w = make();
    put("a.torrent", torrent_bytes);
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "a.torrent.added"); }));
    EXPECT_FALSE(fs::exists(watch / "a.torrent"));
    std::lock_guard lk(mu);
    ASSERT_EQ(added.size(), 1u);
    EXPECT_EQ(added[0], "f.bin");
}

TEST_F(WatchDirTest, WrittenInPlaceIsAddedOnClose) {
    auto w = make();
    { std::ofstream(watch / "b.torrent", std::ios::binary) << torrent_bytes; }
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "b.torrent.added"); }));
}

TEST_F(WatchDirTest, FilesPresentAtStartAreAdded) {
    fs::create_directories(watch);
    std::ofstream(watch / "c.torrent", std::ios::binary) << torrent_bytes;
    auto w = make();
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "c.torrent.added"); }));
}

TEST_F(WatchDirTest, HostileFilesAreInvalidWithTheReasonLogged) {
    auto w = make();
    put("garbage.torrent", "this is not bencode");
    put("deep.torrent", std::string(100000, 'l'));  // nesting bomb
    put("empty.torrent", "");
    put("noinfo.torrent", "d8:announce3:xyze");
    std::string truncated = torrent_bytes.substr(0, torrent_bytes.size() / 2);
    put("cut.torrent", truncated);
    for (auto n : {"garbage", "deep", "empty", "noinfo", "cut"})
        EXPECT_TRUE(wait_for([&] {
            return fs::exists(watch / (std::string(n) + ".torrent.invalid"));
        })) << n;
    std::lock_guard lk(mu);
    EXPECT_TRUE(added.empty());
    int invalid_lines = 0;
    for (auto& l : logs) invalid_lines += l.find("is invalid: ") != std::string::npos;
    EXPECT_EQ(invalid_lines, 5);
}

TEST_F(WatchDirTest, TooLargeIsInvalidWithoutReadingItAll) {
    auto w = make();
    {
        std::ofstream f(dir / "tmp", std::ios::binary);
        f.seekp(static_cast<std::streamoff>(WatchDir::max_bytes) + 10);
        f.put('e');
    }
    fs::rename(dir / "tmp", watch / "huge.torrent");
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "huge.torrent.invalid"); }));
    std::lock_guard lk(mu);
    ASSERT_FALSE(logs.empty());
    EXPECT_NE(logs.back().find("larger than"), std::string::npos) << logs.back();
}

TEST_F(WatchDirTest, OtherNamesFifosAndFolderAreLeftAlone) {
    fs::create_directories(watch);
    ASSERT_EQ(::mkfifo((watch / "pipe.torrent").c_str(), 0600), 0);  // never blocks the scan
    fs::create_directories(watch / "folder.torrent");
    std::ofstream(watch / "notes.txt") << "x";
    std::ofstream(watch / ".hidden.torrent", std::ios::binary) << torrent_bytes;
    auto w = make();
    put("z.torrent", torrent_bytes);
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "z.torrent.added"); }));
    w->scan();
    EXPECT_TRUE(fs::exists(watch / "pipe.torrent"));
    EXPECT_TRUE(fs::is_directory(watch / "folder.torrent"));
    EXPECT_TRUE(fs::exists(watch / "notes.txt"));
    EXPECT_TRUE(fs::exists(watch / ".hidden.torrent"));
}

TEST_F(WatchDirTest, FileStillBeingWrittenIsNotCalledInvalid) {
    fs::create_directories(watch);
    auto w = make(std::chrono::seconds(30));
    // Half a torrent, modified just now: a copy in progress, so left for a later pass.
    {
        std::ofstream f(watch / "slow.torrent", std::ios::binary);
        f << torrent_bytes.substr(0, 100);
    }
    w->scan();
    EXPECT_TRUE(fs::exists(watch / "slow.torrent"));
    EXPECT_FALSE(fs::exists(watch / "slow.torrent.invalid"));
    // The rest arrives: added at the next pass.
    {
        std::ofstream f(watch / "slow.torrent", std::ios::binary);
        f << torrent_bytes;
    }
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "slow.torrent.added"); }));
}

TEST_F(WatchDirTest, EndToEndThroughTheDaemonDuplicatesIncluded) {
    pw::daemon::DaemonConfig c;
    c.state_dir = (dir / "state").string();
    c.download_dir = (dir / "data").string();
    c.settings.listen = "127.0.0.1:0";
    c.settings.dht = false;
    c.settings.disk_threads = 2;
    pw::daemon::Daemon d(c);
    WatchDir w(
        watch,
        [&d](const std::string& b) {
            pw::daemon::AddRequest a;
            a.metainfo = b;
            d.add(a);
        },
        [](const std::string&) {}, std::chrono::milliseconds(0));
    put("one.torrent", torrent_bytes);
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "one.torrent.added"); }));
    ASSERT_EQ(d.list().size(), 1u);
    auto st = d.status(d.list()[0]);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->name, "f.bin");
    put("again.torrent", torrent_bytes);  // the same torrent: added once, both renamed
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "again.torrent.added"); }));
    EXPECT_EQ(d.list().size(), 1u);
    put("bad.torrent", "d4:infod6:lengthi-5eee");
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "bad.torrent.invalid"); }));
    EXPECT_EQ(d.list().size(), 1u);
}

// trash-original-torrent-files: set over the RPC (either dialect), kept across a restart;
// while on, an added .torrent is deleted, an invalid one still renamed .invalid.
TEST_F(WatchDirTest, TrashOriginalTorrentFilesDeletesAddedOnesAndIsKept) {
    pw::daemon::DaemonConfig c;
    c.state_dir = (dir / "state").string();
    c.download_dir = (dir / "data").string();
    c.settings.listen = "127.0.0.1:0";
    c.settings.dht = false;
    c.settings.disk_threads = 2;
    auto d = std::make_unique<pw::daemon::Daemon>(c);
    auto rpc = std::make_unique<pw::daemon::rpc::Methods>(*d);
    auto get = [&](const std::string& body, const char* key) {
        auto v = boost::json::parse(rpc->handle(body)).as_object();
        auto& args = v.contains("jsonrpc") ? v.at("result") : v.at("arguments");
        return args.as_object().at(key).as_bool();
    };
    const std::string legacy_get = R"({"method":"session-get","arguments":{"fields":["trash-original-torrent-files"]}})";
    const std::string jrpc_get =
        R"({"jsonrpc":"2.0","id":1,"method":"session_get","params":{"fields":["trash_original_torrent_files"]}})";
    EXPECT_FALSE(get(legacy_get, "trash-original-torrent-files"));
    auto set = boost::json::parse(rpc->handle(
        R"({"jsonrpc":"2.0","id":2,"method":"session_set","params":{"trash_original_torrent_files":true}})"));
    ASSERT_TRUE(set.as_object().contains("result")) << boost::json::serialize(set);
    EXPECT_TRUE(get(legacy_get, "trash-original-torrent-files"));
    rpc.reset();
    d.reset();
    d = std::make_unique<pw::daemon::Daemon>(c);
    rpc = std::make_unique<pw::daemon::rpc::Methods>(*d);
    EXPECT_TRUE(get(jrpc_get, "trash_original_torrent_files"));
    auto* dp = d.get();
    WatchDir w(
        watch,
        [dp](const std::string& b) {
            pw::daemon::AddRequest a;
            a.metainfo = b;
            dp->add(a);
        },
        [](const std::string&) {}, std::chrono::milliseconds(0), [dp] { return dp->trash_original_torrent_files(); });
    put("one.torrent", torrent_bytes);
    ASSERT_TRUE(wait_for([&] { return d->list().size() == 1u && !fs::exists(watch / "one.torrent"); }));
    EXPECT_FALSE(fs::exists(watch / "one.torrent.added"));
    put("bad.torrent", "d4:infod6:lengthi-5eee");
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "bad.torrent.invalid"); }));
    // Off again (legacy): renamed as before.
    auto off = boost::json::parse(
        rpc->handle(R"({"method":"session-set","arguments":{"trash-original-torrent-files":false}})"));
    EXPECT_EQ(off.at("result"), "success");
    put("two.torrent", torrent_bytes);
    ASSERT_TRUE(wait_for([&] { return fs::exists(watch / "two.torrent.added"); }));
}
