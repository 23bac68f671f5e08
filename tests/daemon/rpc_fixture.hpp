// The DaemonRpc fixture shared by the daemon's RPC tests: a real
// Daemon (Session on 127.0.0.1, no DHT) behind Methods, with helpers for either dialect.
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <thread>

#include "daemon/daemon.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"

namespace fs = std::filesystem;  // NOLINT
namespace json = boost::json;
using pw::daemon::Daemon;
using pw::daemon::DaemonConfig;
using pw::daemon::rpc::Methods;

struct DaemonRpc : ::testing::Test {
    fs::path dir;
    std::string torrent_bytes;
    std::unique_ptr<Daemon> daemon;
    std::unique_ptr<Methods> rpc;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-rpc-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data");
        std::mt19937 rng(5);
        std::string payload(200000, '\0');
        for (auto& c : payload) c = static_cast<char>(rng());
        std::ofstream(dir / "data" / "file.bin", std::ios::binary) << payload;
        pw::meta::CreateOptions o;
        o.piece_size = 32 << 10;
        o.creation_date = 0;
        torrent_bytes = pw::meta::create_torrent(dir / "data" / "file.bin", o);
        std::ofstream(dir / "t.torrent", std::ios::binary) << torrent_bytes;
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
        c.download_dir_given = download_dir_given;
        if (max_connections) {
            c.settings.max_connections = *max_connections;
            c.max_connections_given = true;
        }
        if (tweak) tweak(c.settings);
        daemon = std::make_unique<Daemon>(c);
        rpc = std::make_unique<Methods>(*daemon);
    }
    std::function<void(piecewise::Settings&)> tweak;  // session settings, before the daemon starts
    bool download_dir_given = false;  // as if --download-dir was on the command line
    std::optional<int> max_connections;  // as if --max-connections was given
    void restart() {
        rpc.reset();
        daemon.reset();
        start();
    }
    json::object call(const std::string& body) {
        auto out = rpc->handle(body);
        auto v = json::parse(out);
        return v.as_object();
    }
    // Legacy: the arguments; fails the test unless result is "success".
    json::object legacy(const std::string& method, const std::string& args = "{}") {
        auto o = call(R"({"method":")" + method + R"(","arguments":)" + args + R"(,"tag":11})");
        EXPECT_EQ(o.at("result"), "success") << json::serialize(o);
        EXPECT_EQ(o.at("tag"), 11);
        return o.at("arguments").as_object();
    }
    std::string legacy_error(const std::string& method, const std::string& args) {
        auto o = call(R"({"method":")" + method + R"(","arguments":)" + args + "}");
        EXPECT_NE(o.at("result"), "success") << json::serialize(o);
        return std::string(o.at("result").as_string());
    }
    json::object jrpc(const std::string& method, const std::string& params = "{}") {
        auto o = call(R"({"jsonrpc":"2.0","method":")" + method + R"(","params":)" + params +
                      R"(,"id":3})");
        EXPECT_TRUE(o.contains("result")) << json::serialize(o);
        EXPECT_EQ(o.at("id"), 3);
        return o.contains("result") ? o.at("result").as_object() : json::object{};
    }
    std::int64_t jrpc_error(const std::string& method, const std::string& params) {
        auto o = call(R"({"jsonrpc":"2.0","method":")" + method + R"(","params":)" + params +
                      R"(,"id":3})");
        EXPECT_TRUE(o.contains("error")) << json::serialize(o);
        return o.contains("error") ? o.at("error").at("code").as_int64() : 0;
    }
    json::object add_file(bool paused = false) {
        return legacy("torrent-add", R"({"filename":")" + (dir / "t.torrent").string() +
                                         R"(","download-dir":")" + (dir / "data").string() +
                                         R"(","paused":)" + (paused ? "true" : "false") + "}");
    }
    json::object get1(const std::string& fields) {
        auto a = legacy("torrent-get", R"({"ids":[1],"fields":)" + fields + "}");
        EXPECT_EQ(a.at("torrents").as_array().size(), 1u);
        return a.at("torrents").as_array().at(0).as_object();
    }
    bool wait_status(int status) {
        for (int i = 0; i < 200; ++i) {
            if (get1(R"(["status"])").at("status") == status) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
};

inline const char* list_fields =
    R"(["error","errorString","eta","id","isFinished","leftUntilDone","name",
    "peersGettingFromUs","peersSendingToUs","rateDownload","rateUpload","sizeWhenDone","status","uploadRatio"])";
