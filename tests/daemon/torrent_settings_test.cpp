// torrent-set / torrent-get / session-set / session-get for seed limits, labels,
// bandwidth priority, peer limits and trackers, both dialects, bad types, unknown ids, restarts; a ratio limit that stops a
// seeding torrent (and a manual start that lifts it, as Transmission does).
#include <gtest/gtest.h>

#include "rpc_fixture.hpp"

namespace {

using Settings = DaemonRpc;

const char* seed_fields = R"(["seedRatioLimit","seedRatioMode","seedIdleLimit","seedIdleMode"])";

}  // namespace

TEST_F(Settings, TorrentSeedLimitsBothDialectsAndRestart) {
    add_file(true);
    auto t = get1(seed_fields);
    EXPECT_EQ(t.at("seedRatioMode"), 0);
    EXPECT_EQ(t.at("seedIdleMode"), 0);
    legacy("torrent-set", R"({"ids":[1],"seedRatioLimit":1.25,"seedRatioMode":1})");
    jrpc("torrent_set", R"({"ids":1,"seed_idle_limit":45,"seed_idle_mode":2})");
    t = get1(seed_fields);
    EXPECT_EQ(t.at("seedRatioLimit").to_number<double>(), 1.25);
    EXPECT_EQ(t.at("seedRatioMode"), 1);
    EXPECT_EQ(t.at("seedIdleLimit"), 45);
    EXPECT_EQ(t.at("seedIdleMode"), 2);
    auto j = jrpc("torrent_get", R"({"ids":[1],"fields":["seed_ratio_limit","seed_idle_mode"]})");
    EXPECT_EQ(j.at("torrents").at(0).at("seed_idle_mode"), 2);
    restart();
    t = get1(seed_fields);
    EXPECT_EQ(t.at("seedRatioLimit").to_number<double>(), 1.25);
    EXPECT_EQ(t.at("seedRatioMode"), 1);
    EXPECT_EQ(t.at("seedIdleLimit"), 45);
    EXPECT_EQ(t.at("seedIdleMode"), 2);
}

TEST_F(Settings, TorrentSetBadTypesAndUnknownIds) {
    add_file(true);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"seed_ratio_mode":3})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"seed_ratio_mode":"1"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"seed_ratio_limit":-1})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"seed_ratio_limit":"2"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"seed_idle_limit":1.5})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"labels":"tv"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"labels":[1]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"labels":["a,b"]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"tracker_add":"http://x/announce"})"),
              -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"tracker_add":["ftp://x/"]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"tracker_remove":[5]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"tracker_replace":[0]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"tracker_list":["x"]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[9],"labels":["x"]})"), -32602);
    EXPECT_NE(legacy_error("torrent-set", R"({"ids":[1],"noSuchKey":1})").find("noSuchKey"),
              std::string::npos);
    // Nothing of the refused calls stuck.
    auto t = get1(R"(["seedRatioMode","labels","trackers"])");
    EXPECT_EQ(t.at("seedRatioMode"), 0);
    EXPECT_TRUE(t.at("labels").as_array().empty());
}

TEST_F(Settings, LabelsOnAddAndSetSurviveRestart) {
    namespace b64 = boost::beast::detail::base64;
    std::string enc(b64::encoded_size(torrent_bytes.size()), '\0');
    enc.resize(b64::encode(enc.data(), torrent_bytes.data(), torrent_bytes.size()));
    auto a = jrpc("torrent_add", R"({"metainfo":")" + enc + R"(","paused":true,"download_dir":")" +
                                     (dir / "data").string() + R"(","labels":["tv","hd","tv"]})");
    ASSERT_TRUE(a.contains("torrent_added"));
    EXPECT_EQ(get1(R"(["labels"])").at("labels"), json::parse(R"(["tv","hd"])"));
    legacy("torrent-set", R"({"ids":[1],"labels":["movies"]})");
    restart();
    EXPECT_EQ(get1(R"(["labels"])").at("labels"), json::parse(R"(["movies"])"));
    jrpc("torrent_set", R"({"ids":[1],"labels":[]})");
    EXPECT_TRUE(get1(R"(["labels"])").at("labels").as_array().empty());
    EXPECT_EQ(jrpc_error("torrent_add", R"({"filename":"x.torrent","labels":"a"})"), -32602);
}

TEST_F(Settings, BandwidthPriorityAndPeerLimitOnAddAndSetSurviveRestart) {
    namespace b64 = boost::beast::detail::base64;
    std::string enc(b64::encoded_size(torrent_bytes.size()), '\0');
    enc.resize(b64::encode(enc.data(), torrent_bytes.data(), torrent_bytes.size()));
    auto a = legacy("torrent-add", R"({"metainfo":")" + enc + R"(","paused":true,"download-dir":")" +
                                       (dir / "data").string() +
                                       R"(","bandwidthPriority":1,"peer-limit":7})");
    ASSERT_TRUE(a.contains("torrent-added"));
    const char* fields = R"(["bandwidthPriority","peer-limit"])";
    auto t = get1(fields);
    EXPECT_EQ(t.at("bandwidthPriority"), 1);
    EXPECT_EQ(t.at("peer-limit"), 7);
    legacy("torrent-set", R"({"ids":[1],"bandwidthPriority":-1,"peer-limit":3})");
    t = get1(fields);
    EXPECT_EQ(t.at("bandwidthPriority"), -1);
    EXPECT_EQ(t.at("peer-limit"), 3);
    auto j = jrpc("torrent_get", R"({"ids":[1],"fields":["bandwidth_priority","peer_limit"]})");
    EXPECT_EQ(j.at("torrents").at(0).at("bandwidth_priority"), -1);
    EXPECT_EQ(j.at("torrents").at(0).at("peer_limit"), 3);
    restart();
    t = get1(fields);
    EXPECT_EQ(t.at("bandwidthPriority"), -1);
    EXPECT_EQ(t.at("peer-limit"), 3);
    jrpc("torrent_set", R"({"ids":1,"bandwidth_priority":0,"peer_limit":120})");
    t = get1(fields);
    EXPECT_EQ(t.at("bandwidthPriority"), 0);
    EXPECT_EQ(t.at("peer-limit"), 120);
    // Out of range or of the wrong type: refused, nothing changed.
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"bandwidth_priority":2})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"bandwidth_priority":"high"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"peer_limit":0})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"peer_limit":100000})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[9],"peer_limit":5})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_add", R"({"filename":"x.torrent","bandwidth_priority":3})"),
              -32602);
    t = get1(fields);
    EXPECT_EQ(t.at("bandwidthPriority"), 0);
    EXPECT_EQ(t.at("peer-limit"), 120);
}

TEST_F(Settings, PeerLimitDefaultsToTheSessionsPerTorrentLimit) {
    add_file(true);
    auto t = get1(R"(["bandwidthPriority","peer-limit"])");
    EXPECT_EQ(t.at("bandwidthPriority"), 0);
    EXPECT_EQ(t.at("peer-limit"), legacy("session-get").at("peer-limit-per-torrent"));
}

TEST_F(Settings, SessionPeerLimitsSetStoredAndReplacedByTheCommandLine) {
    add_file(true);
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("peer-limit-global"), piecewise::Settings{}.max_connections);
    EXPECT_EQ(s.at("peer-limit-per-torrent"), piecewise::Settings{}.max_peers_per_torrent);
    legacy("session-set", R"({"peer-limit-global":300,"peer-limit-per-torrent":25})");
    s = legacy("session-get");
    EXPECT_EQ(s.at("peer-limit-global"), 300);
    EXPECT_EQ(s.at("peer-limit-per-torrent"), 25);
    // A torrent without its own limit follows the session's; one with its own keeps it.
    EXPECT_EQ(get1(R"(["peer-limit"])").at("peer-limit"), 25);
    auto j = jrpc("session_get", R"({"fields":["peer_limit_global","peer_limit_per_torrent"]})");
    EXPECT_EQ(j.at("peer_limit_global"), 300);
    EXPECT_EQ(j.at("peer_limit_per_torrent"), 25);
    EXPECT_EQ(jrpc_error("session_set", R"({"peer_limit_global":0})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"peer_limit_per_torrent":"many"})"), -32602);
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("peer-limit-global"), 300);
    EXPECT_EQ(s.at("peer-limit-per-torrent"), 25);
    EXPECT_EQ(get1(R"(["peer-limit"])").at("peer-limit"), 25);
    // --max-connections newly on the command line replaces the stored global limit; a
    // value set over the RPC afterwards is kept while the command line stays the same.
    max_connections = 120;
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("peer-limit-global"), 120);
    EXPECT_EQ(s.at("peer-limit-per-torrent"), 25);
    legacy("session-set", R"({"peer-limit-global":200})");
    restart();
    EXPECT_EQ(legacy("session-get").at("peer-limit-global"), 200);
    max_connections = 130;  // the command line changed: it wins again
    restart();
    EXPECT_EQ(legacy("session-get").at("peer-limit-global"), 130);
}

TEST_F(Settings, TrackersAddReplaceRemoveListAndRestart) {
    add_file(true);  // a .torrent without trackers
    EXPECT_TRUE(get1(R"(["trackers"])").at("trackers").as_array().empty());
    legacy("torrent-set",
           R"({"ids":[1],"trackerAdd":["http://127.0.0.1:1/announce","udp://127.0.0.1:2"]})");
    auto tr = get1(R"(["trackers","trackerStats","trackerList"])");
    auto& list = tr.at("trackers").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("announce"), "http://127.0.0.1:1/announce");
    EXPECT_EQ(list[0].at("id"), 0);
    EXPECT_EQ(list[0].at("tier"), 0);
    EXPECT_EQ(list[0].at("scrape"), "http://127.0.0.1:1/scrape");
    EXPECT_EQ(list[1].at("tier"), 1);  // each added URL is a tier of its own
    EXPECT_EQ(tr.at("trackerStats").as_array().size(), 2u);
    EXPECT_EQ(tr.at("trackerStats").at(0).at("host"), "127.0.0.1");
    EXPECT_EQ(tr.at("trackerList"), "http://127.0.0.1:1/announce\n\nudp://127.0.0.1:2\n");
    // Adding one already there changes nothing.
    legacy("torrent-set", R"({"ids":[1],"trackerAdd":["udp://127.0.0.1:2"]})");
    EXPECT_EQ(get1(R"(["trackers"])").at("trackers").as_array().size(), 2u);
    jrpc("torrent_set", R"({"ids":[1],"tracker_replace":[1,"http://127.0.0.1:3/announce"]})");
    EXPECT_EQ(get1(R"(["trackers"])").at("trackers").at(1).at("announce"),
              "http://127.0.0.1:3/announce");
    legacy("torrent-set", R"({"ids":[1],"trackerRemove":[0]})");
    tr = get1(R"(["trackers"])");
    ASSERT_EQ(tr.at("trackers").as_array().size(), 1u);
    EXPECT_EQ(tr.at("trackers").at(0).at("announce"), "http://127.0.0.1:3/announce");
    EXPECT_EQ(tr.at("trackers").at(0).at("tier"), 0);
    restart();
    tr = get1(R"(["trackers"])");
    ASSERT_EQ(tr.at("trackers").as_array().size(), 1u);
    EXPECT_EQ(tr.at("trackers").at(0).at("announce"), "http://127.0.0.1:3/announce");
    // Transmission 4's trackerList: tiers separated by an empty line.
    jrpc(
        "torrent_set",
        R"({"ids":[1],"tracker_list":"http://127.0.0.1:4/announce\nhttp://127.0.0.1:5/announce\n\nudp://127.0.0.1:6\n"})");
    tr = get1(R"(["trackers"])");
    ASSERT_EQ(tr.at("trackers").as_array().size(), 3u);
    EXPECT_EQ(tr.at("trackers").at(1).at("tier"), 0);
    EXPECT_EQ(tr.at("trackers").at(2).at("tier"), 1);
    jrpc("torrent_set", R"({"ids":[1],"tracker_list":""})");
    EXPECT_TRUE(get1(R"(["trackers"])").at("trackers").as_array().empty());
}

TEST_F(Settings, SessionSeedLimitsPersist) {
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("seedRatioLimited"), false);
    EXPECT_EQ(s.at("idle-seeding-limit-enabled"), false);
    legacy(
        "session-set",
        R"({"seedRatioLimit":0.5,"seedRatioLimited":true,"idle-seeding-limit":12,"idle-seeding-limit-enabled":true})");
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("seedRatioLimit").to_number<double>(), 0.5);
    EXPECT_EQ(s.at("seedRatioLimited"), true);
    EXPECT_EQ(s.at("idle-seeding-limit"), 12);
    EXPECT_EQ(s.at("idle-seeding-limit-enabled"), true);
    auto j = jrpc("session_get", R"({"fields":["seed_ratio_limit","idle_seeding_limit"]})");
    EXPECT_EQ(j.at("idle_seeding_limit"), 12);
    jrpc("session_set", R"({"seed_ratio_limited":false})");
    EXPECT_EQ(legacy("session-get").at("seedRatioLimited"), false);
    EXPECT_EQ(jrpc_error("session_set", R"({"seed_ratio_limit":"x"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"idle_seeding_limit":0})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"idle_seeding_limit_enabled":"yes"})"), -32602);
}

TEST_F(Settings, RatioLimitStopsASeedAndStaysStoppedAcrossRestart) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(get1(R"(["isFinished"])").at("isFinished"), false);
    // The session's limit, followed by mode 0: ratio 0 is reached at once while seeding.
    legacy("session-set", R"({"seedRatioLimit":0,"seedRatioLimited":true})");
    ASSERT_TRUE(wait_status(0));
    EXPECT_EQ(get1(R"(["isFinished"])").at("isFinished"), true);
    // The stop is stored (by the housekeeping thread within about a second).
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    restart();
    ASSERT_TRUE(wait_status(0));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(get1(R"(["status"])").at("status"), 0);
    // A manual start lifts the torrent's ratio limit (Transmission: mode 2) and it seeds.
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(get1(seed_fields).at("seedRatioMode"), 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(get1(R"(["status"])").at("status"), 6);
}

TEST_F(Settings, PerTorrentModeOverridesTheSession) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    legacy("session-set", R"({"seedRatioLimit":0,"seedRatioLimited":true})");
    ASSERT_TRUE(wait_status(0));
    legacy("torrent-set", R"({"ids":[1],"seedRatioMode":2})");  // unlimited
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(get1(R"(["status"])").at("status"), 6);
    // Its own limit, 0: stopped again.
    jrpc("torrent_set", R"({"ids":[1],"seed_ratio_mode":1,"seed_ratio_limit":0})");
    ASSERT_TRUE(wait_status(0));
}

TEST_F(Settings, TorrentWithATrackerListsAndAnswersEveryListField) {
    pw::meta::CreateOptions o;
    o.piece_size = 32 << 10;
    o.creation_date = 0;
    o.trackers = {"http://127.0.0.1:9/announce", "udp://127.0.0.1:9"};
    auto bytes = pw::meta::create_torrent(dir / "data" / "file.bin", o);
    std::ofstream(dir / "tr.torrent", std::ios::binary) << bytes;
    legacy("torrent-add", R"({"filename":")" + (dir / "tr.torrent").string() +
                              R"(","download-dir":")" + (dir / "data").string() + R"("})");
    ASSERT_TRUE(wait_status(6));
    for (int i = 0; i < 20; ++i) {
        auto t = get1(list_fields);
        EXPECT_EQ(t.at("name"), "file.bin");
        auto tr = get1(R"(["trackers","trackerStats","trackerList","labels"])");
        ASSERT_EQ(tr.at("trackers").as_array().size(), 2u);
        EXPECT_EQ(tr.at("trackers").at(1).at("tier"), 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    restart();
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(get1(R"(["trackers"])").at("trackers").as_array().size(), 2u);
}
