// Speed limits through the RPC, both dialects: session-get/-set (global and alt speed,
// `units`), torrent-get/-set (downloadLimit, uploadLimited, honorsSessionLimits), bad
// values, what the engine is given, and that everything survives a restart.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "daemon/daemon.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct SpeedRpc : ::testing::Test {
    fs::path dir;
    std::unique_ptr<pw::daemon::Daemon> daemon;
    std::unique_ptr<pw::daemon::rpc::Methods> rpc;
    std::optional<std::int64_t> max_down;

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-speed-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data");
        std::string payload(100000, 'x');
        std::ofstream(dir / "data" / "f.bin", std::ios::binary) << payload;
        pw::meta::CreateOptions o;
        o.piece_size = 32 << 10;
        std::ofstream(dir / "t.torrent", std::ios::binary)
            << pw::meta::create_torrent(dir / "data" / "f.bin", o);
        start();
    }
    void TearDown() override {
        rpc.reset();
        daemon.reset();
        fs::remove_all(dir);
    }
    void start() {
        pw::daemon::DaemonConfig c;
        c.state_dir = (dir / "state").string();
        c.download_dir = (dir / "data").string();
        c.settings.listen = "127.0.0.1:0";
        c.settings.dht = false;
        c.settings.disk_threads = 2;
        c.max_down = max_down;
        daemon = std::make_unique<pw::daemon::Daemon>(c);
        rpc = std::make_unique<pw::daemon::rpc::Methods>(*daemon);
    }
    void restart() {
        rpc.reset();
        daemon.reset();
        start();
    }
    json::object call(const std::string& body) {
        return json::parse(rpc->handle(body)).as_object();
    }
    json::object legacy(const std::string& method, const std::string& args = "{}") {
        auto o = call(R"({"method":")" + method + R"(","arguments":)" + args + "}");
        EXPECT_EQ(o.at("result"), "success") << json::serialize(o);
        return o.at("arguments").as_object();
    }
    json::object jrpc(const std::string& method, const std::string& params = "{}") {
        auto o = call(R"({"jsonrpc":"2.0","method":")" + method + R"(","params":)" + params +
                      R"(,"id":1})");
        EXPECT_TRUE(o.contains("result")) << json::serialize(o);
        return o.contains("result") ? o.at("result").as_object() : json::object{};
    }
    std::int64_t jrpc_error(const std::string& method, const std::string& params) {
        auto o = call(R"({"jsonrpc":"2.0","method":")" + method + R"(","params":)" + params +
                      R"(,"id":1})");
        EXPECT_TRUE(o.contains("error")) << json::serialize(o);
        return o.contains("error") ? o.at("error").at("code").as_int64() : 0;
    }
    int add() {
        auto a = legacy("torrent-add", R"({"filename":")" + (dir / "t.torrent").string() + R"("})");
        return int(a.at("torrent-added").at("id").as_int64());
    }
};

TEST_F(SpeedRpc, SessionDefaultsAreTransmissions) {
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("speed-limit-down"), 100);
    EXPECT_EQ(s.at("speed-limit-down-enabled"), false);
    EXPECT_EQ(s.at("speed-limit-up-enabled"), false);
    EXPECT_EQ(s.at("alt-speed-down"), 50);
    EXPECT_EQ(s.at("alt-speed-enabled"), false);
    EXPECT_EQ(s.at("alt-speed-time-begin"), 540);
    EXPECT_EQ(s.at("alt-speed-time-end"), 1020);
    EXPECT_EQ(s.at("alt-speed-time-day"), 127);
    EXPECT_EQ(s.at("units").at("speed-bytes"), 1000);
    auto j = jrpc("session_get", R"({"fields":["speed_limit_up","units"]})");
    EXPECT_EQ(j.at("speed_limit_up"), 100);
    EXPECT_EQ(j.at("units").at("speed_bytes"), 1000);
    auto rl = daemon->speed_limits().engine();
    EXPECT_EQ(rl.download_rate_limit, 0);
    EXPECT_EQ(rl.upload_rate_limit, 0);
}

TEST_F(SpeedRpc, SessionSetBothDialectsAndRestart) {
    legacy("session-set",
           R"({"speed-limit-down":250,"speed-limit-down-enabled":true,"speed-limit-up":40})");
    jrpc("session_set",
         R"({"speed_limit_up_enabled":true,"alt_speed_down":7,"alt_speed_up":8,)"
         R"("alt_speed_time_begin":60,"alt_speed_time_end":120,"alt_speed_time_day":65})");
    auto s = jrpc("session_get");
    EXPECT_EQ(s.at("speed_limit_down"), 250);
    EXPECT_EQ(s.at("speed_limit_down_enabled"), true);
    EXPECT_EQ(s.at("speed_limit_up"), 40);
    EXPECT_EQ(s.at("speed_limit_up_enabled"), true);
    EXPECT_EQ(s.at("alt_speed_time_day"), 65);
    auto rl = daemon->speed_limits().engine();
    EXPECT_EQ(rl.download_rate_limit, 250'000);  // kB/s of 1000 bytes
    EXPECT_EQ(rl.upload_rate_limit, 40'000);
    // Alt speed by hand: the engine's global limits become the alt ones.
    legacy("session-set", R"({"alt-speed-enabled":true})");
    EXPECT_EQ(legacy("session-get").at("alt-speed-enabled"), true);
    restart();
    auto r = legacy("session-get");
    EXPECT_EQ(r.at("speed-limit-down"), 250);
    EXPECT_EQ(r.at("speed-limit-down-enabled"), true);
    EXPECT_EQ(r.at("speed-limit-up"), 40);
    EXPECT_EQ(r.at("alt-speed-down"), 7);
    EXPECT_EQ(r.at("alt-speed-up"), 8);
    EXPECT_EQ(r.at("alt-speed-enabled"), true);
    EXPECT_EQ(r.at("alt-speed-time-begin"), 60);
    EXPECT_EQ(r.at("alt-speed-time-end"), 120);
    // Disabled limits keep their values.
    legacy("session-set", R"({"speed-limit-down-enabled":false})");
    EXPECT_EQ(legacy("session-get").at("speed-limit-down"), 250);
    EXPECT_EQ(daemon->speed_limits().engine().download_rate_limit, 0);
}

TEST_F(SpeedRpc, ScheduleSwitchesAltSpeedNow) {
    // A window that covers the whole day, every day: enabling the schedule turns alt speed
    // on at once; a window on no day turns it off.
    jrpc("session_set",
         R"({"alt_speed_time_begin":0,"alt_speed_time_end":0,"alt_speed_time_day":127,)"
         R"("alt_speed_time_enabled":true})");
    EXPECT_EQ(jrpc("session_get").at("alt_speed_enabled"), true);
    jrpc("session_set", R"({"alt_speed_time_day":0})");
    EXPECT_EQ(jrpc("session_get").at("alt_speed_enabled"), false);
    // By hand, between the schedule's switches.
    jrpc("session_set", R"({"alt_speed_enabled":true})");
    EXPECT_EQ(jrpc("session_get").at("alt_speed_enabled"), true);
}

TEST_F(SpeedRpc, SessionSetBadValues) {
    EXPECT_EQ(jrpc_error("session_set", R"({"speed_limit_down":-1})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"speed_limit_down":"fast"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"speed_limit_down_enabled":"yes"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"alt_speed_time_begin":1440})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"alt_speed_time_day":128})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"speed_limit_up":1.5})"), -32602);
    auto o = call(R"({"method":"session-set","arguments":{"speed-limit-up":[]}})");
    EXPECT_NE(std::string(o.at("result").as_string()).find("speed-limit-up"), std::string::npos);
    EXPECT_EQ(legacy("session-get").at("speed-limit-up"), 100);  // nothing changed
    legacy("session-set", R"({"speed-limit-up-enabled":1})");    // old clients' 0/1
    EXPECT_EQ(legacy("session-get").at("speed-limit-up-enabled"), true);
}

TEST_F(SpeedRpc, TorrentLimitsBothDialectsAndRestart) {
    int id = add();
    auto fields =
        R"({"ids":[)" + std::to_string(id) +
        R"(],"fields":["id","downloadLimit","downloadLimited","uploadLimit","uploadLimited","honorsSessionLimits"]})";
    auto t = legacy("torrent-get", fields).at("torrents").as_array().at(0).as_object();
    EXPECT_EQ(t.at("downloadLimited"), false);
    EXPECT_EQ(t.at("honorsSessionLimits"), true);
    legacy("torrent-set",
           R"({"ids":[)" + std::to_string(id) + R"(],"downloadLimit":300,"downloadLimited":true})");
    jrpc("torrent_set",
         R"({"ids":)" + std::to_string(id) +
             R"(,"upload_limit":20,"upload_limited":true,"honors_session_limits":false})");
    auto st = daemon->status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->download_limit, 300'000);
    EXPECT_EQ(st->upload_limit, 20'000);
    EXPECT_FALSE(st->honors_session_limits);
    auto j = jrpc("torrent_get",
                  R"({"ids":[)" + std::to_string(id) +
                      R"(],"fields":["download_limit","upload_limited","honors_session_limits"]})")
                 .at("torrents")
                 .as_array()
                 .at(0)
                 .as_object();
    EXPECT_EQ(j.at("download_limit"), 300);
    EXPECT_EQ(j.at("upload_limited"), true);
    EXPECT_EQ(j.at("honors_session_limits"), false);
    // Stop and start again: the limits stay.
    legacy("torrent-stop", R"({"ids":[)" + std::to_string(id) + "]}");
    legacy("torrent-start", R"({"ids":[)" + std::to_string(id) + "]}");
    restart();
    auto ids = daemon->list();
    ASSERT_EQ(ids.size(), 1u);
    st = daemon->status(ids[0]);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->download_limit, 300'000);
    EXPECT_EQ(st->upload_limit, 20'000);
    EXPECT_FALSE(st->honors_session_limits);
    auto r =
        legacy("torrent-get", R"({"fields":["downloadLimit","downloadLimited","uploadLimit"]})")
            .at("torrents")
            .as_array()
            .at(0)
            .as_object();
    EXPECT_EQ(r.at("downloadLimit"), 300);
    EXPECT_EQ(r.at("downloadLimited"), true);
    EXPECT_EQ(r.at("uploadLimit"), 20);
    // Not limited any more: the value is kept, the engine is unlimited.
    legacy("torrent-set", R"({"downloadLimited":false})");
    EXPECT_EQ(daemon->status(ids[0])->download_limit, 0);
    EXPECT_EQ(daemon->torrent_speed_limits(ids[0])->down_kbps, 300);
}

TEST_F(SpeedRpc, TorrentSetBadInputChangesNothing) {
    int id = add();
    EXPECT_EQ(
        jrpc_error("torrent_set", R"({"ids":[)" + std::to_string(id) + R"(],"download_limit":-5})"),
        -32602);
    EXPECT_EQ(jrpc_error("torrent_set",
                         R"({"ids":[)" + std::to_string(id) + R"(],"upload_limited":"no"})"),
              -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[)" + std::to_string(id) +
                                            R"(],"download_limit":5,"no_such_key":1})"),
              -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[999],"download_limit":5})"), -32602);
    EXPECT_EQ(daemon->torrent_speed_limits(id)->down_kbps, 100);
    EXPECT_EQ(daemon->status(id)->download_limit, 0);
}

TEST_F(SpeedRpc, CommandLineLimitWinsAndIsKept) {
    max_down = 1'500'000;
    restart();
    EXPECT_EQ(legacy("session-get").at("speed-limit-down"), 1500);
    EXPECT_EQ(legacy("session-get").at("speed-limit-down-enabled"), true);
    max_down.reset();
    restart();
    EXPECT_EQ(legacy("session-get").at("speed-limit-down"), 1500);
    max_down = 0;  // --max-down 0: no limit
    restart();
    EXPECT_EQ(legacy("session-get").at("speed-limit-down-enabled"), false);
}

}  // namespace
