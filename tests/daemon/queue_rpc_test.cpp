// Download/seed queues and bandwidth groups through the RPC, both dialects, on a real
// Daemon (no peers): the session keys and their defaults, queuePosition and the
// queue-move-* methods, statuses 3 (queued to download) and 5 (queued to seed),
// torrent-start-now, group-set/group-get and torrent `group`, bad parameters, and that
// everything survives a restart.
#include "daemon/rpc/queue_groups.hpp"
#include "rpc_fixture.hpp"

namespace {

struct QueueRpc : DaemonRpc {
    // A torrent of its own payload (data in dir/data when `present`, else nowhere: it
    // stays incomplete, there being no peer).
    std::string make(const std::string& name, bool present, std::uint32_t seed) {
        std::mt19937 rng(seed);
        std::string payload(100000, '\0');
        for (auto& c : payload) c = static_cast<char>(rng());
        fs::create_directories(dir / "src");
        std::ofstream(dir / "src" / name, std::ios::binary) << payload;
        pw::meta::CreateOptions o;
        o.piece_size = 32 << 10;
        o.creation_date = 0;
        auto bytes = pw::meta::create_torrent(dir / "src" / name, o);
        if (present) fs::copy_file(dir / "src" / name, dir / "data" / name);
        auto path = dir / (name + ".torrent");
        std::ofstream(path, std::ios::binary) << bytes;
        return path.string();
    }
    void add(const std::string& torrent, bool paused = false) {
        auto a = legacy("torrent-add", R"({"filename":")" + torrent + R"(","download-dir":")" +
                                           (dir / "data").string() + R"(","paused":)" +
                                           (paused ? "true" : "false") + "}");
        EXPECT_TRUE(a.contains("torrent-added")) << json::serialize(a);
    }
    json::value field(int id, const std::string& f) {
        auto a = legacy("torrent-get",
                        R"({"ids":[)" + std::to_string(id) + R"(],"fields":[")" + f + R"("]})");
        return a.at("torrents").at(0).at(f);
    }
    std::vector<int> positions() {
        auto a = legacy("torrent-get", R"({"fields":["id","queuePosition"]})");
        std::vector<int> out(a.at("torrents").as_array().size());
        for (auto& t : a.at("torrents").as_array())
            out[std::size_t(t.at("queuePosition").as_int64())] = int(t.at("id").as_int64());
        return out;
    }
    bool wait_field(int id, const std::string& f, const json::value& want, int seconds = 10) {
        for (int i = 0; i < seconds * 20; ++i) {
            if (field(id, f) == want) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return field(id, f) == want;
    }
};

}  // namespace

TEST_F(QueueRpc, SessionKeysDefaultsSetBothDialectsAndRestart) {
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("download-queue-enabled"), true);
    EXPECT_EQ(s.at("download-queue-size"), 5);
    EXPECT_EQ(s.at("seed-queue-enabled"), false);
    EXPECT_EQ(s.at("seed-queue-size"), 10);
    EXPECT_EQ(s.at("queue-stalled-enabled"), true);
    EXPECT_EQ(s.at("queue-stalled-minutes"), 30);
    auto j = jrpc("session_get", R"({"fields":["download_queue_size","seed_queue_enabled"]})");
    EXPECT_EQ(j.at("download_queue_size"), 5);
    EXPECT_EQ(j.at("seed_queue_enabled"), false);
    EXPECT_EQ(j.size(), 2u);

    legacy("session-set",
           R"({"download-queue-size":2,"seed-queue-enabled":true,"queue-stalled-minutes":7})");
    jrpc("session_set",
         R"({"seed_queue_size":3,"download_queue_enabled":false,"queue_stalled_enabled":0})");
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("download-queue-enabled"), false);
    EXPECT_EQ(s.at("download-queue-size"), 2);
    EXPECT_EQ(s.at("seed-queue-enabled"), true);
    EXPECT_EQ(s.at("seed-queue-size"), 3);
    EXPECT_EQ(s.at("queue-stalled-enabled"), false);
    EXPECT_EQ(s.at("queue-stalled-minutes"), 7);

    // Bad values are refused and change nothing.
    EXPECT_EQ(jrpc_error("session_set", R"({"download_queue_size":"3"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"download_queue_size":-1})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"seed_queue_size":1.5})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"seed_queue_enabled":"yes"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"queue_stalled_minutes":0})"), -32602);
    EXPECT_NE(legacy_error("session-set", R"({"download-queue-size":2,"seed-queue-size":null})")
                  .find("seed-queue-size"),
              std::string::npos);
    EXPECT_EQ(legacy("session-get").at("download-queue-size"), 2);
}

TEST_F(QueueRpc, PositionsMovesAndRestartKeepTheOrder) {
    for (auto name : {"a", "b", "c", "d"}) add(make(name, false, name[0]), true);
    EXPECT_EQ(positions(), (std::vector<int>{1, 2, 3, 4}));
    legacy("queue-move-bottom", R"({"ids":[1]})");
    EXPECT_EQ(positions(), (std::vector<int>{2, 3, 4, 1}));
    jrpc("queue_move_top", R"({"ids":[4,3]})");
    EXPECT_EQ(positions(), (std::vector<int>{3, 4, 2, 1}));
    legacy("queue-move-down", R"({"ids":3})");
    EXPECT_EQ(positions(), (std::vector<int>{4, 3, 2, 1}));
    jrpc("queue_move_up", R"({"ids":[1]})");
    EXPECT_EQ(positions(), (std::vector<int>{4, 3, 1, 2}));
    legacy("torrent-set", R"({"ids":[2],"queuePosition":0})");
    EXPECT_EQ(positions(), (std::vector<int>{2, 4, 3, 1}));
    jrpc("torrent_set", R"({"ids":[2],"queue_position":99})");  // clamped to the bottom
    EXPECT_EQ(positions(), (std::vector<int>{4, 3, 1, 2}));
    auto j = jrpc("torrent_get", R"({"ids":[3],"fields":["queue_position","is_stalled","group"]})");
    EXPECT_EQ(j.at("torrents").at(0).at("queue_position"), 1);
    EXPECT_EQ(j.at("torrents").at(0).at("is_stalled"), false);
    EXPECT_EQ(j.at("torrents").at(0).at("group"), "");

    restart();
    EXPECT_EQ(positions(), (std::vector<int>{4, 3, 1, 2}));
    legacy("torrent-remove", R"({"ids":[3]})");  // the gap closes
    EXPECT_EQ(positions(), (std::vector<int>{4, 1, 2}));
    restart();  // ids are given in order of addition again: 4 becomes 3
    EXPECT_EQ(positions(), (std::vector<int>{3, 1, 2}));
    EXPECT_EQ(field(3, "name"), "d");

    EXPECT_EQ(jrpc_error("queue_move_top", R"({"ids":[77]})"), -32602);
    EXPECT_EQ(jrpc_error("queue_move_up", R"({"ids":"x"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"queue_position":"0"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"queue_position":-2})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[55],"queue_position":0})"), -32602);
    EXPECT_EQ(positions(), (std::vector<int>{3, 1, 2}));
}

TEST_F(QueueRpc, DownloadQueueHoldsTheRestAndStartNowBypassesIt) {
    legacy("session-set", R"({"download-queue-size":1})");
    for (auto name : {"a", "b", "c"}) add(make(name, false, name[0]));
    // 1 downloads (no peer: it stays so); 2 and 3 wait.
    ASSERT_TRUE(wait_field(1, "status", 4));
    ASSERT_TRUE(wait_field(2, "status", 3));
    ASSERT_TRUE(wait_field(3, "status", 3));
    EXPECT_EQ(legacy("session-stats").at("pausedTorrentCount"), 0);
    // start-now bypasses the queue; start respects it.
    legacy("torrent-start-now", R"({"ids":[3]})");
    ASSERT_TRUE(wait_field(3, "status", 4));
    legacy("torrent-start", R"({"ids":[2]})");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(field(2, "status"), 3);
    // Stopping 1 and 3 frees the slot: 2 starts within the next pass.
    legacy("torrent-stop", R"({"ids":[1,3]})");
    ASSERT_TRUE(wait_field(2, "status", 4));
    EXPECT_EQ(field(1, "status"), 0);
    // Starting 1 again: the queue is full, it waits; a bigger queue lets it in.
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_field(1, "status", 3));
    jrpc("session_set", R"({"download_queue_size":2})");
    ASSERT_TRUE(wait_field(1, "status", 4));
    // Queue off: everything runs.
    jrpc("torrent_start", R"({"ids":[3]})");
    ASSERT_TRUE(wait_field(3, "status", 3));
    jrpc("session_set", R"({"download_queue_enabled":false})");
    ASSERT_TRUE(wait_field(3, "status", 4));
}

TEST_F(QueueRpc, SeedQueueAndRestartKeepsQueuedTorrentsQueued) {
    legacy("session-set", R"({"seed-queue-enabled":true,"seed-queue-size":1})");
    add(make("a", true, 1));
    ASSERT_TRUE(wait_field(1, "status", 6));
    add(make("b", true, 2));
    ASSERT_TRUE(wait_field(2, "status", 5));  // checked, complete, waits to seed
    EXPECT_EQ(field(2, "percentDone").to_number<double>(), 1.0);
    restart();
    ASSERT_TRUE(wait_field(1, "status", 6));
    ASSERT_TRUE(wait_field(2, "status", 5));
    legacy("torrent-stop", R"({"ids":[1]})");
    ASSERT_TRUE(wait_field(2, "status", 6));
}

TEST_F(QueueRpc, GroupsSetGetTorrentGroupAndRestart) {
    add_file(true);
    legacy(
        "group-set",
        R"({"name":"slow","speed-limit-down":50,"speed-limit-down-enabled":true,"honorsSessionLimits":false})");
    jrpc("group_set", R"({"name":"fast","speed_limit_up":900,"speed_limit_up_enabled":true})");
    jrpc("group_set", R"({"name":"slow","speed_limit_up":7})");  // other keys keep their values
    auto g = legacy("group-get");
    auto& all = g.at("group").as_array();
    ASSERT_EQ(all.size(), 2u);
    auto slow = all[1].as_object();
    EXPECT_EQ(slow.at("name"), "slow");
    EXPECT_EQ(slow.at("speed-limit-down"), 50);
    EXPECT_EQ(slow.at("speed-limit-down-enabled"), true);
    EXPECT_EQ(slow.at("speed-limit-up"), 7);
    EXPECT_EQ(slow.at("speed-limit-up-enabled"), false);
    EXPECT_EQ(slow.at("honorsSessionLimits"), false);
    auto f = jrpc("group_get", R"({"name":"fast"})");
    ASSERT_EQ(f.at("group").as_array().size(), 1u);
    EXPECT_EQ(f.at("group").at(0).at("speed_limit_up"), 900);
    EXPECT_EQ(f.at("group").at(0).at("honors_session_limits"), true);
    EXPECT_EQ(legacy("group-get", R"({"group":["fast","none"]})").at("group").as_array().size(),
              1u);

    legacy("torrent-set", R"({"ids":[1],"group":"slow"})");
    EXPECT_EQ(field(1, "group"), "slow");
    jrpc("torrent_set", R"({"ids":[1],"group":"new"})");  // naming a group makes it
    EXPECT_EQ(
        legacy("group-get", R"({"group":"new"})").at("group").at(0).at("speed-limit-down-enabled"),
        false);
    legacy("torrent-set", R"({"ids":[1],"group":"slow"})");

    restart();
    EXPECT_EQ(field(1, "group"), "slow");
    g = legacy("group-get");
    ASSERT_EQ(g.at("group").as_array().size(), 3u);
    EXPECT_EQ(g.at("group").at(2).at("speed-limit-down"), 50);
    legacy("torrent-set", R"({"ids":[1],"group":""})");
    EXPECT_EQ(field(1, "group"), "");

    EXPECT_EQ(jrpc_error("group_set", R"({})"), -32602);
    EXPECT_EQ(jrpc_error("group_set", R"({"name":""})"), -32602);
    EXPECT_EQ(jrpc_error("group_set", R"({"name":5})"), -32602);
    EXPECT_EQ(jrpc_error("group_set", R"({"name":"x","speed_limit_down":-1})"), -32602);
    EXPECT_EQ(jrpc_error("group_set", R"({"name":"x","speed_limit_down":"1"})"), -32602);
    EXPECT_EQ(jrpc_error("group_set", R"({"name":"x","speed_limit_up_enabled":"no"})"), -32602);
    EXPECT_NE(legacy_error("group-set", R"({"name":"x","bogus":1})").find("bogus"),
              std::string::npos);
    EXPECT_EQ(jrpc_error("group_set", R"({"name":")" + std::string(300, 'n') + R"("})"), -32602);
    EXPECT_EQ(jrpc_error("group_get", R"({"name":7})"), -32602);
    EXPECT_EQ(jrpc_error("group_get", R"({"name":[7]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"group":3})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[9],"group":"slow"})"), -32602);
    EXPECT_EQ(legacy("group-get").at("group").as_array().size(), 3u);  // "x" was never made
}

// The pure key functions.
TEST(QueueGroupKeys, ParseAndSpell) {
    using namespace pw::daemon::rpc;
    pw::daemon::GroupLimits g;
    EXPECT_TRUE(set_group_key("speed_limit_down", json::value(12), g));
    EXPECT_TRUE(
        set_group_key("speed_limit_down_enabled", json::value(1), g));  // 0/1 as old clients send
    EXPECT_TRUE(set_group_key("honors_session_limits", json::value(false), g));
    EXPECT_FALSE(set_group_key("name", json::value("x"), g));
    EXPECT_THROW(set_group_key("speed_limit_up", json::value(2e12), g), ParamError);
    EXPECT_EQ(g.down_kbps, 12);
    EXPECT_TRUE(g.down_enabled);
    EXPECT_EQ(g.engine().download_limit, 12000);
    EXPECT_EQ(g.engine().upload_limit, 0);  // not enabled
    g.name = "n";
    auto legacy = group_object(Dialect::legacy, g);
    EXPECT_TRUE(legacy.contains("speed-limit-down"));
    EXPECT_TRUE(legacy.contains("honorsSessionLimits"));
    auto snake = group_object(Dialect::jsonrpc, g);
    EXPECT_TRUE(snake.contains("speed_limit_down_enabled"));
    EXPECT_TRUE(snake.contains("honors_session_limits"));
    EXPECT_EQ(group_name(json::value(""), true), "");
    EXPECT_THROW(group_name(json::value(""), false), ParamError);

    // The stored form.
    EXPECT_EQ(pw::daemon::encode_group(g), "12 1 0 0 0");
    EXPECT_EQ(pw::daemon::decode_group("n", "12 1 0 0 0"), g);
    for (auto bad : {"", "1 1 1 1", "1 1 1 1 1 1", "-1 0 0 0 1", "1 2 0 0 1", "1  1 0 0 1",
                     "01 1 0 0 1", "-0 1 0 0 1", "1 1 0 0 1 ", "x 1 0 0 1", "1000000001 0 0 0 1",
                     "99999999999999999999 0 0 0 1"})
        EXPECT_FALSE(pw::daemon::decode_group("n", bad)) << bad;

    pw::daemon::queue::QueueSettings s;
    EXPECT_TRUE(set_session_queue_key("seed_queue_size", json::value(4), s));
    EXPECT_FALSE(set_session_queue_key("speed_limit_up", json::value(4), s));
    EXPECT_THROW(set_session_queue_key("download_queue_size", json::value(true), s), ParamError);
    EXPECT_EQ(s.seed_size, 4);
    json::object o;
    put_session_queue_fields(Dialect::legacy, o, s);
    EXPECT_EQ(o.at("seed-queue-size"), 4);
    EXPECT_EQ(o.size(), 6u);
}
