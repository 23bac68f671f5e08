// torrent-set-location and torrent-rename-path end to end through a real Daemon: both
// dialects, the data on disk, what torrent-get shows, restarts (also one that finds a
// move interrupted by a crash), --download-root, and bad parameters.
#include <gtest/gtest.h>

#include "daemon/state/store.hpp"
#include "rpc_fixture.hpp"

namespace {

struct MoveRpc : DaemonRpc {
    // Waits until torrent 1 is done moving to `where` and seeding again.
    bool wait_dir(const fs::path& where) {
        for (int i = 0; i < 400; ++i) {
            auto t = get1(R"(["downloadDir","status"])");
            if (t.at("downloadDir") == json::value(where.string()) && t.at("status") == 6)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    std::string file_name() {
        return std::string(get1(R"(["files"])").at("files").at(0).at("name").as_string());
    }
};

TEST_F(MoveRpc, MoveKeepsSeedingFromTheNewPlaceAndSurvivesARestart) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    legacy("torrent-set-location",
           R"({"ids":[1],"location":")" + (dir / "moved").string() + R"(","move":true})");
    ASSERT_TRUE(wait_dir(dir / "moved"));
    EXPECT_TRUE(fs::exists(dir / "moved" / "file.bin"));
    EXPECT_FALSE(fs::exists(dir / "data" / "file.bin"));
    auto t = get1(R"(["percentDone","error","errorString"])");
    EXPECT_EQ(t.at("percentDone").to_number<double>(), 1.0);
    EXPECT_EQ(t.at("error"), 0);
    restart();
    ASSERT_TRUE(wait_dir(dir / "moved"));
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(), 1.0);

    // JSON-RPC, and a paused torrent stays paused.
    legacy("torrent-stop", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(0));
    jrpc("torrent_set_location",
         R"({"ids":1,"location":")" + (dir / "again").string() + R"(","move":true})");
    bool there = false;
    for (int i = 0; i < 200 && !there; ++i) {
        there =
            get1(R"(["downloadDir"])").at("downloadDir") == json::value((dir / "again").string());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(there);
    EXPECT_TRUE(fs::exists(dir / "again" / "file.bin"));
    EXPECT_EQ(get1(R"(["status"])").at("status"), 0);
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(), 1.0);  // no hash
}

TEST_F(MoveRpc, FindWithoutMovingLooksThereAndChecks) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    fs::create_directories(dir / "copy");
    fs::copy_file(dir / "data" / "file.bin", dir / "copy" / "file.bin");
    legacy("torrent-set-location",
           R"({"ids":[1],"location":")" + (dir / "copy").string() + R"("})");
    ASSERT_TRUE(wait_dir(dir / "copy"));
    EXPECT_TRUE(fs::exists(dir / "data" / "file.bin"));  // nothing moved
    // torrent-set's location: the same, to a place without the data.
    jrpc("torrent_set", R"({"ids":[1],"location":")" + (dir / "empty").string() + R"("})");
    bool empty = false;
    for (int i = 0; i < 200 && !empty; ++i) {
        auto t = get1(R"(["downloadDir","percentDone","status"])");
        empty = t.at("downloadDir") == json::value((dir / "empty").string()) &&
                t.at("percentDone").to_number<double>() == 0.0 && t.at("status") != 2;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(empty);
}

TEST_F(MoveRpc, BadLocationsAreRefusedAndNothingMoves) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    std::string here = (dir / "elsewhere").string();
    legacy_error("torrent-set-location", R"({"ids":[1],"location":"relative/dir","move":true})");
    legacy_error("torrent-set-location", R"({"ids":[1],"move":true})");
    legacy_error("torrent-set-location", R"({"ids":[1],"location":5})");
    legacy_error("torrent-set-location",
                 R"({"ids":[1],"location":")" + here + R"(","move":"yes"})");
    legacy_error("torrent-set-location", R"({"ids":[7],"location":")" + here + R"(","move":true})");
    EXPECT_EQ(jrpc_error("torrent_set_location", R"({"ids":[1],"location":"../x","move":true})"),
              -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"location":"x"})"), -32602);
    // A file of the torrent at the destination: refused, nothing replaced.
    fs::create_directories(dir / "taken");
    std::ofstream(dir / "taken" / "file.bin") << "mine";
    auto why =
        legacy_error("torrent-set-location",
                     R"({"ids":[1],"location":")" + (dir / "taken").string() + R"(","move":true})");
    EXPECT_NE(why.find("already exists"), std::string::npos) << why;
    std::ifstream in(dir / "taken" / "file.bin");
    std::string mine;
    in >> mine;
    EXPECT_EQ(mine, "mine");
    EXPECT_TRUE(fs::exists(dir / "data" / "file.bin"));
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "data").string()));
}

TEST_F(MoveRpc, DownloadRootConfinesLocationAndDownloadDir) {
    rpc.reset();
    daemon.reset();
    DaemonConfig c;
    c.state_dir = (dir / "state").string();
    c.download_dir = (dir / "data").string();
    c.download_root = dir.string();
    c.settings.listen = "127.0.0.1:0";
    c.settings.dht = false;
    daemon = std::make_unique<Daemon>(c);
    rpc = std::make_unique<Methods>(*daemon);
    add_file();
    ASSERT_TRUE(wait_status(6));
    auto why = legacy_error("torrent-set-location",
                            R"({"ids":[1],"location":"/tmp/pw-outside","move":true})");
    EXPECT_NE(why.find("download root"), std::string::npos) << why;
    legacy_error("torrent-set-location",
                 R"({"ids":[1],"location":")" + dir.string() + R"(/../escape","move":true})");
    legacy_error("session-set", R"({"download-dir":"/tmp/pw-outside"})");
    legacy_error("torrent-add", R"({"filename":")" + (dir / "t.torrent").string() +
                                    R"(","download-dir":"/tmp/pw-outside"})");
    legacy("torrent-set-location",
           R"({"ids":[1],"location":")" + (dir / "inside").string() + R"(","move":true})");
    ASSERT_TRUE(wait_dir(dir / "inside"));
}

TEST_F(MoveRpc, RestartAfterACrashMidMoveFindsTheData) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    std::string hash(get1(R"(["hashString"])").at("hashString").as_string());
    rpc.reset();
    daemon.reset();
    // What a kill -9 between the rename and the commit leaves: the target recorded, the
    // data already there, the download directory still the old one.
    {
        pw::daemon::state::Store store((dir / "state" / "state.sqlite").string());
        store.set_torrent_setting(hash, "move_target", (dir / "crashed").string());
    }
    fs::create_directories(dir / "crashed" / ("." + hash + ".moving"));
    fs::rename(dir / "data" / "file.bin", dir / "crashed" / "file.bin");
    start();
    ASSERT_TRUE(wait_dir(dir / "crashed"));
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(), 1.0);
    EXPECT_FALSE(fs::exists(dir / "crashed" / ("." + hash + ".moving")));  // staging cleaned
    restart();  // committed: no longer depends on the record
    ASSERT_TRUE(wait_dir(dir / "crashed"));
}

TEST_F(MoveRpc, RenameTheFileInBothDialectsAndKeepItAcrossRestarts) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    auto r = legacy("torrent-rename-path", R"({"ids":[1],"path":"file.bin","name":"renamed.bin"})");
    EXPECT_EQ(r.at("path"), "file.bin");
    EXPECT_EQ(r.at("name"), "renamed.bin");
    EXPECT_EQ(r.at("id"), 1);
    EXPECT_TRUE(fs::exists(dir / "data" / "renamed.bin"));
    EXPECT_FALSE(fs::exists(dir / "data" / "file.bin"));
    EXPECT_EQ(get1(R"(["name"])").at("name"), "renamed.bin");
    EXPECT_EQ(file_name(), "renamed.bin");
    EXPECT_EQ(get1(R"(["status"])").at("status"), 6);
    restart();
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(file_name(), "renamed.bin");
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(), 1.0);

    auto j = jrpc("torrent_rename_path", R"({"ids":[1],"path":"renamed.bin","name":"final.bin"})");
    EXPECT_EQ(j.at("name"), "final.bin");
    EXPECT_TRUE(fs::exists(dir / "data" / "final.bin"));
    restart();
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(file_name(), "final.bin");
    // Moved after renames: the new names move.
    legacy("torrent-set-location",
           R"({"ids":[1],"location":")" + (dir / "m").string() + R"(","move":true})");
    ASSERT_TRUE(wait_dir(dir / "m"));
    EXPECT_TRUE(fs::exists(dir / "m" / "final.bin"));
}

TEST_F(MoveRpc, RenameRefusesBadNamesPathsAndIds) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    for (auto* args :
         {R"({"ids":[1],"path":"file.bin","name":"a/b"})",
          R"({"ids":[1],"path":"file.bin","name":".."})",
          R"({"ids":[1],"path":"file.bin","name":""})",
          R"({"ids":[1],"path":"nope.bin","name":"x"})",
          R"({"ids":[1],"path":"../file.bin","name":"x"})", R"({"ids":[1],"name":"x"})",
          R"({"ids":[1],"path":"file.bin","name":7})",
          R"({"ids":[9],"path":"file.bin","name":"x"})", R"({"path":"file.bin","name":"x"})"})
        legacy_error("torrent-rename-path", args);
    EXPECT_EQ(jrpc_error("torrent_rename_path", R"({"ids":[1],"path":"file.bin","name":"x/y"})"),
              -32602);
    // A name taken on disk by something else: refused, nothing replaced.
    std::ofstream(dir / "data" / "taken.bin") << "theirs";
    auto why =
        legacy_error("torrent-rename-path", R"({"ids":[1],"path":"file.bin","name":"taken.bin"})");
    EXPECT_NE(why.find("already exists"), std::string::npos) << why;
    EXPECT_TRUE(fs::exists(dir / "data" / "file.bin"));
    EXPECT_EQ(file_name(), "file.bin");
}

TEST_F(MoveRpc, AMagnetWithoutMetadataJustDownloadsElsewhere) {
    legacy(
        "torrent-add",
        R"({"filename":"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=m","paused":true})");
    legacy("torrent-set-location",
           R"({"ids":[1],"location":")" + (dir / "mag").string() + R"(","move":true})");
    bool there = false;
    for (int i = 0; i < 100 && !there; ++i) {
        there = get1(R"(["downloadDir"])").at("downloadDir") == json::value((dir / "mag").string());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(there);
    restart();
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "mag").string()));
    auto why = legacy_error("torrent-rename-path", R"({"ids":[1],"path":"m","name":"x"})");
    EXPECT_NE(why.find("metadata"), std::string::npos) << why;
}

}  // namespace
