// File selection over the RPC: torrent-add and torrent-set files-wanted/-unwanted,
// priority-high/-normal/-low, sequential download; torrent-get's files, fileStats, wanted,
// priorities, sizeWhenDone, leftUntilDone; everything kept across a daemon restart.
#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "daemon/daemon.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using pw::daemon::Daemon;
using pw::daemon::DaemonConfig;
using pw::daemon::rpc::Methods;

namespace {

struct RpcFiles : ::testing::Test {
    fs::path dir;
    std::string torrent_bytes;
    std::unique_ptr<Daemon> daemon;
    std::unique_ptr<Methods> rpc;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-rpcfiles-" + std::to_string(std::random_device{}()));
        std::mt19937 rng(9);
        // Files of 40, 50 and 30 KiB with 32 KiB pieces: pieces 0-1 | 1-2 | 2-3.
        for (auto [name, size] : {std::pair{"a", 40 << 10}, {"b", 50 << 10}, {"c", 30 << 10}}) {
            std::string payload(static_cast<std::size_t>(size), '\0');
            for (auto& ch : payload) ch = static_cast<char>(rng());
            fs::create_directories(dir / "data" / "m");
            std::ofstream(dir / "data" / "m" / name, std::ios::binary) << payload;
        }
        pw::meta::CreateOptions o;
        o.piece_size = 32 << 10;
        o.creation_date = 0;
        torrent_bytes = pw::meta::create_torrent(dir / "data" / "m", o);
        start();
    }
    void TearDown() override {
        rpc.reset();
        daemon.reset();
        fs::remove_all(dir);
    }
    void start() {
        DaemonConfig c;
        c.state_dir = (dir / "state").string();
        c.download_dir = (dir / "dl").string();
        c.settings.listen = "127.0.0.1:0";
        c.settings.dht = false;
        c.settings.disk_threads = 2;
        daemon = std::make_unique<Daemon>(c);
        rpc = std::make_unique<Methods>(*daemon);
    }
    json::object call(const std::string& body) {
        return json::parse(rpc->handle(body)).as_object();
    }
    json::object legacy(const std::string& method, const std::string& args) {
        auto o = call(R"({"method":")" + method + R"(","arguments":)" + args + "}");
        EXPECT_EQ(o.at("result"), "success") << json::serialize(o);
        return o.at("arguments").as_object();
    }
    std::string legacy_error(const std::string& method, const std::string& args) {
        auto o = call(R"({"method":")" + method + R"(","arguments":)" + args + "}");
        EXPECT_NE(o.at("result"), "success") << json::serialize(o);
        return std::string(o.at("result").as_string());
    }
    json::object jrpc(const std::string& method, const std::string& params) {
        auto o = call(R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"(","params":)" + params +
                      "}");
        EXPECT_TRUE(o.contains("result")) << json::serialize(o);
        return o.contains("result") ? o.at("result").as_object() : json::object{};
    }
    std::string metainfo() const {
        namespace b64 = boost::beast::detail::base64;
        std::string out(b64::encoded_size(torrent_bytes.size()), '\0');
        out.resize(b64::encode(out.data(), torrent_bytes.data(), torrent_bytes.size()));
        return out;
    }
    json::object get(int id) {
        auto r = legacy("torrent-get",
                        R"({"ids":[)" + std::to_string(id) +
                            R"(],"fields":["files","fileStats","wanted","priorities","sizeWhenDone",
                            "leftUntilDone","desiredAvailable","percentDone","sequentialDownload","totalSize"]})");
        return r.at("torrents").as_array().at(0).as_object();
    }
};

}  // namespace

TEST_F(RpcFiles, AddWithSelectionSetAndRestart) {
    // Added paused with b unwanted and c high.
    auto added =
        legacy("torrent-add", R"({"metainfo":")" + metainfo() +
                                  R"(","paused":true,"files-unwanted":[1],"priority-high":[2]})");
    int id = static_cast<int>(added.at("torrent-added").at("id").as_int64());
    auto t = get(id);
    EXPECT_EQ(t.at("wanted"), (json::array{1, 0, 1}));
    EXPECT_EQ(t.at("priorities"), (json::array{0, 0, 1}));
    EXPECT_EQ(t.at("fileStats").as_array().at(1).at("wanted"), false);
    EXPECT_EQ(t.at("fileStats").as_array().at(2).at("priority"), 1);
    EXPECT_EQ(t.at("files").as_array().size(), 3u);
    // Wanted pieces: a = 0-1, c = 2-3 (piece 1 and 2 are boundary pieces): all four.
    EXPECT_EQ(t.at("sizeWhenDone"), 120 << 10);
    // Only a wanted: pieces 0-1.
    legacy("torrent-set",
           R"({"ids":[)" + std::to_string(id) + R"(],"files-unwanted":[2],"priority-low":[0]})");
    t = get(id);
    EXPECT_EQ(t.at("wanted"), (json::array{1, 0, 0}));
    EXPECT_EQ(t.at("priorities"), (json::array{-1, 0, 0}));
    EXPECT_EQ(t.at("sizeWhenDone"), 64 << 10);
    EXPECT_EQ(t.at("leftUntilDone"), 64 << 10);
    EXPECT_EQ(t.at("desiredAvailable"), 0);
    EXPECT_EQ(t.at("sequentialDownload"), false);
    EXPECT_EQ(t.at("totalSize"), 120 << 10);
    // JSON-RPC: sequential on, c wanted again.
    jrpc("torrent_set", R"({"ids":[)" + std::to_string(id) +
                            R"(],"sequential_download":true,"files_wanted":[2]})");
    auto r = jrpc("torrent_get", R"({"ids":[)" + std::to_string(id) +
                                     R"(],"fields":["wanted","sequential_download"]})");
    auto t2 = r.at("torrents").as_array().at(0).as_object();
    EXPECT_EQ(t2.at("wanted"), (json::array{true, false, true}));
    EXPECT_EQ(t2.at("sequential_download"), true);

    // Bad input: an index past the end, a wrong type, an unknown key.
    EXPECT_NE(
        legacy_error("torrent-set", R"({"ids":[)" + std::to_string(id) + R"(],"files-wanted":[3]})")
            .find("no file 3"),
        std::string::npos);
    legacy_error("torrent-set", R"({"ids":[)" + std::to_string(id) + R"(],"files-wanted":[-1]})");
    legacy_error("torrent-set", R"({"ids":[)" + std::to_string(id) + R"(],"priority-high":"x"})");
    EXPECT_NE(
        legacy_error("torrent-set", R"({"ids":[)" + std::to_string(id) + R"(],"noSuchKey":5})")
            .find("not supported"),
        std::string::npos);
    t = get(id);
    EXPECT_EQ(t.at("wanted"), (json::array{1, 0, 1}));  // a failed call changed nothing

    // A restart keeps the selection and the sequential flag.
    rpc.reset();
    daemon.reset();
    start();
    t = get(id);
    EXPECT_EQ(t.at("wanted"), (json::array{1, 0, 1}));
    EXPECT_EQ(t.at("priorities"), (json::array{-1, 0, 0}));
    EXPECT_EQ(t.at("sequentialDownload"), true);
    // Empty files-wanted: every file.
    legacy("torrent-set", R"({"ids":[)" + std::to_string(id) + R"(],"files-wanted":[]})");
    EXPECT_EQ(get(id).at("wanted"), (json::array{1, 1, 1}));
}

TEST(FileChange, MapsTransmissionListsOntoLevels) {
    pw::daemon::FileChange c;
    c.unwanted = {true, {0}};
    c.high = {true, {0, 1}};
    c.low = {true, {2}};
    EXPECT_EQ(pw::daemon::apply_file_change({4, 4, 4, 4}, c), (std::vector<int>{0, 7, 1, 4}));
    pw::daemon::FileChange all;
    all.wanted = {true, {}};
    EXPECT_EQ(pw::daemon::apply_file_change({0, 7, 0}, all), (std::vector<int>{4, 7, 4}));
    pw::daemon::FileChange bad;
    bad.normal = {true, {5}};
    EXPECT_THROW(pw::daemon::apply_file_change({4}, bad), piecewise::Error);
    EXPECT_EQ(pw::daemon::with_pad_files({1, 7}, {false, true, false}),
              (std::vector<int>{1, 0, 7}));
}
