// Cumulative statistics: session-stats' cumulative-stats and each torrent's
// downloadedEver / uploadedEver / corruptEver / secondsSeeding across pauses and restarts,
// the share ratio a seed limit stops at, and the store's totals tables.
#include "daemon/rpc/stats.hpp"

#include "daemon/state/store.hpp"
#include "rpc_fixture.hpp"
#include "swarm/seed_ratio.hpp"

namespace {

using pw::daemon::state::Store;
using pw::daemon::state::TorrentTotals;

struct StatsTest : DaemonRpc {
    std::string hash;
    void add_seeding() {
        auto a = add_file();
        hash = std::string(a.at("torrent-added").at("hashString").as_string());
        ASSERT_TRUE(wait_status(6));
    }
    // Stops the daemon, writes `t` as the torrent's stored totals, starts it again.
    void restart_with(const TorrentTotals& t) {
        rpc.reset();
        daemon.reset();
        {
            Store s((dir / "state" / "state.sqlite").string());
            s.put_totals({}, {{hash, t}});
        }
        start();
    }
};

}  // namespace

TEST(SeedRatio, OneDefinitionForTheRatioAndTheLimit) {
    using namespace pw::swarm;
    EXPECT_EQ(ratio_base(0, 1000), 1000);   // added complete: of the wanted size
    EXPECT_EQ(ratio_base(400, 1000), 400);  // downloaded: of what it downloaded
    EXPECT_DOUBLE_EQ(upload_ratio(1500, 0, 1000), 1.5);
    EXPECT_DOUBLE_EQ(upload_ratio(800, 400, 1000), 2.0);
    EXPECT_EQ(upload_ratio(0, 0, 0), -1);   // nothing known
    EXPECT_EQ(upload_ratio(10, 0, 0), -2);  // infinite
    EXPECT_TRUE(seed_ratio_reached(1500, 0, 1000, 1.5));
    EXPECT_FALSE(seed_ratio_reached(1499, 0, 1000, 1.5));
    EXPECT_FALSE(seed_ratio_reached(1500, 0, 1000, -1));  // no limit
    EXPECT_FALSE(seed_ratio_reached(0, 0, 0, 0));         // base unknown
    EXPECT_TRUE(seed_ratio_reached(0, 0, 1000, 0));       // limit 0: at once
}

TEST(StatsStore, TotalsRoundTripReplaceAndDropOrphans) {
    auto dir = fs::temp_directory_path() / ("pw-totals-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
    auto db = (dir / "state.sqlite").string();
    {
        Store s(db);
        pw::daemon::state::TorrentRow row;
        row.info_hash = std::string(40, 'a');
        row.torrent = "x";
        row.download_dir = "/d";
        s.put(row);
        EXPECT_TRUE(s.load_totals().torrents.empty());
        s.put_totals({{"session_count", 3}, {"uploaded_bytes", 1ll << 40}},
                     {{std::string(40, 'a'), TorrentTotals{5, 6, 7, 8, 9}},
                      {std::string(40, 'b'), TorrentTotals{1, 1, 1, 1, 1}}});
        s.put_totals({{"session_count", 4}},
                     {{std::string(40, 'a'), TorrentTotals{50, 6, 7, 8, 9}}});
    }
    Store s(db);
    auto t = s.load_totals();
    EXPECT_EQ(t.session.at("session_count"), 4);
    EXPECT_EQ(t.session.at("uploaded_bytes"), 1ll << 40);
    ASSERT_EQ(t.torrents.size(), 1u);  // 'b' has no torrent row: dropped
    EXPECT_EQ(t.torrents.at(std::string(40, 'a')), (TorrentTotals{50, 6, 7, 8, 9}));
    s.remove_totals(std::string(40, 'a'));
    EXPECT_TRUE(s.load_totals().torrents.empty());
    fs::remove_all(dir);
}

TEST_F(StatsTest, CumulativeStatsCountSessionsAndFilesAcrossRestarts) {
    auto st = legacy("session-stats");
    auto& cum = st.at("cumulative-stats").as_object();
    EXPECT_EQ(cum.at("sessionCount"), 1);
    EXPECT_EQ(cum.at("filesAdded"), 0);
    EXPECT_TRUE(cum.contains("uploadedBytes") && cum.contains("downloadedBytes") &&
                cum.contains("secondsActive"));
    add_seeding();
    auto j = jrpc("session_stats");
    EXPECT_EQ(j.at("current_stats").at("files_added"), 1);
    EXPECT_EQ(j.at("current_stats").at("session_count"), 1);
    EXPECT_EQ(j.at("cumulative_stats").at("files_added"), 1);
    EXPECT_EQ(j.at("torrent_count"), 1);
    restart();
    restart();
    auto again = jrpc("session_stats");
    EXPECT_EQ(again.at("cumulative_stats").at("session_count"), 3);
    EXPECT_EQ(again.at("cumulative_stats").at("files_added"), 1);
    EXPECT_EQ(again.at("current_stats").at("files_added"), 0);
    EXPECT_EQ(legacy("session-stats").at("current-stats").at("sessionCount"), 1);
}

TEST_F(StatsTest, TorrentTotalsSurvivePauseResumeAndRestart) {
    add_seeding();
    TorrentTotals t{1000000, 3000000, 0, 0, 32768};  // down, up, seeding s, downloading s, corrupt
    t.seconds_seeding = 120;
    t.seconds_downloading = 60;
    restart_with(t);
    ASSERT_TRUE(wait_status(6));
    const char* f =
        R"(["downloadedEver","uploadedEver","corruptEver","secondsSeeding","secondsDownloading","uploadRatio"])";
    auto g = get1(f);
    EXPECT_EQ(g.at("downloadedEver"), 1000000);
    EXPECT_EQ(g.at("uploadedEver"), 3000000);
    EXPECT_EQ(g.at("corruptEver"), 32768);
    EXPECT_GE(g.at("secondsSeeding").as_int64(), 120);
    EXPECT_GE(g.at("secondsDownloading").as_int64(), 60);
    EXPECT_DOUBLE_EQ(g.at("uploadRatio").to_number<double>(), 3.0);
    // A pause and a resume make a new engine torrent: its counters go on, not from zero.
    legacy("torrent-stop", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(0));
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    auto r = jrpc("torrent_get", R"({"ids":[1],"fields":["downloaded_ever","uploaded_ever"]})");
    EXPECT_EQ(r.at("torrents").at(0).at("downloaded_ever"), 1000000);
    EXPECT_EQ(r.at("torrents").at(0).at("uploaded_ever"), 3000000);
    // A restart writes them back and reads them again.
    restart();
    ASSERT_TRUE(wait_status(6));
    auto h = get1(f);
    EXPECT_EQ(h.at("downloadedEver"), 1000000);
    EXPECT_EQ(h.at("uploadedEver"), 3000000);
    EXPECT_GE(h.at("secondsSeeding").as_int64(), 120);
    // Removed, then added again: from zero.
    legacy("torrent-remove", R"({"ids":[1]})");
    add_file();
    auto fresh = legacy("torrent-get", R"({"fields":["uploadedEver","secondsSeeding"]})");
    EXPECT_EQ(fresh.at("torrents").at(0).at("uploadedEver"), 0);
    restart();
    auto fresh2 = legacy("torrent-get", R"({"fields":["uploadedEver","downloadedEver"]})");
    EXPECT_EQ(fresh2.at("torrents").at(0).at("uploadedEver"), 0);
    EXPECT_EQ(fresh2.at("torrents").at(0).at("downloadedEver"), 0);
}

TEST_F(StatsTest, SecondsSeedingCountWhileSeedingOnly) {
    add_seeding();
    // Sampled every 5 s by the housekeeping thread.
    std::int64_t secs = 0;
    for (int i = 0; i < 150 && secs < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        secs = get1(R"(["secondsSeeding"])").at("secondsSeeding").as_int64();
    }
    EXPECT_GE(secs, 4);
    EXPECT_EQ(get1(R"(["secondsDownloading"])").at("secondsDownloading"), 0);
}

TEST_F(StatsTest, SeedRatioLimitStopsAtTheRatioTorrentGetShows) {
    add_seeding();
    // Uploaded 1.2x the size over earlier runs, nothing downloaded (added complete).
    restart_with(TorrentTotals{0, 240000, 0, 0, 0});
    ASSERT_TRUE(wait_status(6));
    EXPECT_DOUBLE_EQ(get1(R"(["uploadRatio"])").at("uploadRatio").to_number<double>(), 1.2);
    legacy("torrent-set", R"({"ids":[1],"seedRatioMode":1,"seedRatioLimit":1.5})");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(get1(R"(["status"])").at("status"), 6);  // 1.2 < 1.5: seeds on
    legacy("torrent-set", R"({"ids":[1],"seedRatioLimit":1.1})");
    ASSERT_TRUE(wait_status(0));  // 1.2 >= 1.1: stopped by the limit
    EXPECT_EQ(get1(R"(["isFinished"])").at("isFinished"), true);
    // Started by hand: the limit is lifted (as Transmission), it seeds again.
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(get1(R"(["seedRatioMode"])").at("seedRatioMode"), 2);
}

TEST(StatsFields, TotalsFieldsKeepStoredBytesWhileAMagnetFetches) {
    pw::daemon::TorrentExtras e;
    e.stored_totals.downloaded = 77;
    e.stored_totals.uploaded = 88;
    e.seeding_ms = 2500;
    piecewise::TorrentStatus s;  // a magnet still fetching: zero
    using pw::daemon::rpc::torrent_totals_field;
    EXPECT_EQ(torrent_totals_field("downloaded_ever", e, s)->as_int64(), 77);
    EXPECT_EQ(torrent_totals_field("uploaded_ever", e, s)->as_int64(), 88);
    EXPECT_EQ(torrent_totals_field("seconds_seeding", e, s)->as_int64(), 2);
    s.uploaded = 100;
    EXPECT_EQ(torrent_totals_field("uploaded_ever", e, s)->as_int64(), 100);
    EXPECT_FALSE(torrent_totals_field("name", e, s));
}
