// session-set incomplete-dir / incomplete-dir-enabled / rename-partial-files and the
// script-torrent-* keys through a real Daemon: the keys (both dialects, bad values, kept
// across restarts), a download from an in-process seeder on 127.0.0.2 that goes into the
// incomplete dir and moves to the download dir once finished (the done script then sees
// it there), a torrent resumed from the incomplete dir after a restart, a restart after a
// crash in the middle of the completion move, partial file names, and the scripts'
// environment, a missing script and one that never ends.
#include <csignal>
#include <sys/wait.h>

#include "daemon/state/store.hpp"
#include "rpc_fixture.hpp"

namespace {

struct IncompleteRpc : DaemonRpc {
    std::unique_ptr<piecewise::Session> seeder;
    void TearDown() override {
        seeder.reset();
        DaemonRpc::TearDown();
    }
    // A seeder of dir/data/file.bin that dials the daemon.
    void seed() {
        piecewise::Settings s;
        s.listen = "127.0.0.2:0";
        s.resume_dir = (dir / "seed-resume").string();
        s.disk_threads = 1;
        s.dht = false;
        seeder = std::make_unique<piecewise::Session>(s);
        piecewise::AddTorrentParams p;
        p.torrent_data = torrent_bytes;
        p.save_path = (dir / "data").string();
        p.peers = {"127.0.0.1:" + std::to_string(daemon->peer_port())};
        seeder->add_torrent(p);
    }
    void enable_incomplete() {
        legacy("session-set", R"({"incomplete-dir":")" + (dir / "inc").string() +
                                  R"(","incomplete-dir-enabled":true})");
    }
    void add_to_dl(bool paused) {
        legacy("torrent-add", R"({"filename":")" + (dir / "t.torrent").string() +
                                  R"(","download-dir":")" + (dir / "dl").string() +
                                  R"(","paused":)" + (paused ? "true" : "false") + "}");
    }
    // A script that writes its TR_ variables (and whether TR_TORRENT_DIR holds file.bin)
    // to `out`, renamed into place once written.
    fs::path script(const std::string& name, const fs::path& out) {
        auto p = dir / name;
        std::ofstream(p) << "#!/bin/sh\n"
                         << "{ env | grep '^TR_' | sort; "
                            "if [ -f \"$TR_TORRENT_DIR/file.bin\" ]; then echo HAS_FILE; fi; } > '"
                         << out.string() << ".tmp'\n"
                         << "mv '" << out.string() << ".tmp' '" << out.string() << "'\n"
                         << "echo run >> '" << out.string() << ".runs'\n";
        fs::permissions(p, fs::perms::owner_all);
        return p;
    }
    static std::string slurp(const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    static bool wait_file(const fs::path& p) {
        for (int i = 0; i < 400 && !fs::exists(p); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return fs::exists(p);
    }
    std::string payload() { return slurp(dir / "data" / "file.bin"); }
};

TEST_F(IncompleteRpc, KeysInBothDialectsSurviveARestart) {
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("incomplete-dir-enabled"), false);
    EXPECT_EQ(s.at("incomplete-dir"), json::value((dir / "dl").string()));  // the download dir
    EXPECT_EQ(s.at("rename-partial-files"), true);  // transmission-daemon's default
    EXPECT_EQ(s.at("script-torrent-done-enabled"), false);
    EXPECT_EQ(s.at("script-torrent-done-filename"), "");
    enable_incomplete();
    legacy("session-set", R"({"script-torrent-added-enabled":true,
        "script-torrent-added-filename":"/bin/true","script-torrent-done-seeding-filename":"/x/y"})");
    jrpc("session_set", R"({"script_torrent_done_enabled":true,
        "script_torrent_done_filename":"/usr/local/bin/done.sh","rename_partial_files":false})");
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("incomplete-dir"), json::value((dir / "inc").string()));
    EXPECT_EQ(s.at("incomplete-dir-enabled"), true);
    EXPECT_EQ(s.at("script-torrent-added-enabled"), true);
    EXPECT_EQ(s.at("script-torrent-added-filename"), "/bin/true");
    EXPECT_EQ(s.at("script-torrent-done-enabled"), true);
    EXPECT_EQ(s.at("script-torrent-done-filename"), "/usr/local/bin/done.sh");
    EXPECT_EQ(s.at("script-torrent-done-seeding-enabled"), false);
    EXPECT_EQ(s.at("script-torrent-done-seeding-filename"), "/x/y");
    auto j = jrpc("session_get", R"({"fields":["incomplete_dir","script_torrent_done_filename"]})");
    EXPECT_EQ(j.at("incomplete_dir"), json::value((dir / "inc").string()));
    EXPECT_EQ(j.at("script_torrent_done_filename"), "/usr/local/bin/done.sh");
    // Bad values change nothing.
    EXPECT_NE(legacy_error("session-set", R"({"incomplete-dir":"rel/dir"})").find("absolute"),
              std::string::npos);
    EXPECT_EQ(jrpc_error("session_set", R"({"incomplete_dir_enabled":"yes"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"script_torrent_done_filename":7})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"rename_partial_files":"yes"})"), -32602);
    s = legacy("session-get");
    EXPECT_EQ(s.at("incomplete-dir"), json::value((dir / "inc").string()));
    EXPECT_EQ(s.at("incomplete-dir-enabled"), true);
    EXPECT_EQ(s.at("rename-partial-files"), false);
    legacy("session-set", R"({"incomplete-dir-enabled":false,"rename-partial-files":true})");
    EXPECT_EQ(legacy("session-get").at("rename-partial-files"), true);
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("incomplete-dir-enabled"), false);
    EXPECT_EQ(s.at("rename-partial-files"), true);
    EXPECT_EQ(jrpc("session_get", R"({"fields":["rename_partial_files"]})").at("rename_partial_files"),
              true);
}

// rename-partial-files: a half-downloaded file.bin.part is found, finished from a seeder,
// and is file.bin before the done script runs; nothing with the suffix is left.
TEST_F(IncompleteRpc, PartialFilesAreFoundAndFinishedUnderTheirOwnName) {
    legacy("session-set", R"({"rename-partial-files":true})");
    auto out = dir / "done.env";
    legacy("session-set", R"({"script-torrent-done-enabled":true,"script-torrent-done-filename":")" +
                              script("done.sh", out).string() + R"("})");
    auto half = payload();
    std::fill(half.begin() + static_cast<std::ptrdiff_t>(half.size() / 2), half.end(), '\0');
    fs::create_directories(dir / "dl");
    std::ofstream(dir / "dl" / "file.bin.part", std::ios::binary) << half;
    add_to_dl(true);
    legacy("torrent-verify", R"({"ids":[1]})");
    auto have = [&] { return get1(R"(["haveValid"])").at("haveValid").to_number<std::int64_t>(); };
    for (int i = 0; i < 200 && (have() == 0 || get1(R"(["status"])").at("status") != 0); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_GT(have(), 0);  // read from the partial file
    EXPECT_FALSE(fs::exists(dir / "dl" / "file.bin"));
    legacy("torrent-start", R"({"ids":[1]})");
    seed();
    ASSERT_TRUE(wait_file(out)) << json::serialize(get1(R"(["status","haveValid","error","errorString"])"));
    EXPECT_NE(slurp(out).find("HAS_FILE"), std::string::npos);  // its own name when done
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(slurp(dir / "dl" / "file.bin"), payload());
    EXPECT_FALSE(fs::exists(dir / "dl" / "file.bin.part"));
}

TEST_F(IncompleteRpc, DownloadsIntoTheIncompleteDirAndMovesWhenFinished) {
    enable_incomplete();
    auto out = dir / "done.env";
    legacy("session-set", R"({"script-torrent-done-enabled":true,"script-torrent-done-filename":")" +
                              script("done.sh", out).string() + R"("})");
    add_to_dl(false);
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "dl").string()));
    EXPECT_FALSE(fs::exists(out));  // not finished: no done script
    seed();
    ASSERT_TRUE(wait_file(out)) << json::serialize(get1(R"(["status","haveValid","peersConnected","error","errorString"])"));
    // The done script ran once the files were in the download dir.
    auto env = slurp(out);
    EXPECT_NE(env.find("TR_TORRENT_DIR=" + (dir / "dl").string() + "\n"), std::string::npos) << env;
    EXPECT_NE(env.find("HAS_FILE"), std::string::npos) << env;
    EXPECT_NE(env.find("TR_TORRENT_BYTES_DOWNLOADED="), std::string::npos) << env;
    EXPECT_EQ(slurp(dir / "dl" / "file.bin"), payload());
    EXPECT_FALSE(fs::exists(dir / "inc" / "file.bin"));
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "dl").string()));
    seeder.reset();
    restart();
    ASSERT_TRUE(wait_status(6));  // seeding from the download dir, nothing moved again
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(), 1.0);
    EXPECT_TRUE(fs::exists(dir / "dl" / "file.bin"));
    EXPECT_EQ(slurp(dir / "done.env.runs"), "run\n");  // once: not again after the move's check
}

TEST_F(IncompleteRpc, ATorrentMidDownloadResumesFromTheIncompleteDirAfterARestart) {
    enable_incomplete();
    // Half the data already downloaded into the incomplete dir.
    auto half = payload();
    std::fill(half.begin() + static_cast<std::ptrdiff_t>(half.size() / 2), half.end(), '\0');
    fs::create_directories(dir / "inc");
    std::ofstream(dir / "inc" / "file.bin", std::ios::binary) << half;
    add_to_dl(true);
    legacy("torrent-verify", R"({"ids":[1]})");
    auto have = [&] { return get1(R"(["haveValid"])").at("haveValid").to_number<std::int64_t>(); };
    // Checked: some bytes verified and the torrent stopped again.
    for (int i = 0; i < 200 && (have() == 0 || get1(R"(["status"])").at("status") != 0); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto before = have();
    EXPECT_GT(before, 0);
    restart();
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "dl").string()));
    for (int i = 0; i < 100 && have() != before; ++i)  // read from its resume data
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(have(), before);  // its data found where it is
    EXPECT_FALSE(fs::exists(dir / "dl" / "file.bin"));
    legacy("torrent-start", R"({"ids":[1]})");
    seed();
    ASSERT_TRUE(wait_file(dir / "dl" / "file.bin"));
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(slurp(dir / "dl" / "file.bin"), payload());
    EXPECT_FALSE(fs::exists(dir / "inc" / "file.bin"));
}

TEST_F(IncompleteRpc, ACrashMidCompletionMoveLosesNothing) {
    enable_incomplete();
    fs::create_directories(dir / "inc");
    fs::copy_file(dir / "data" / "file.bin", dir / "inc" / "file.bin");
    add_to_dl(true);  // paused: nothing moves before the "crash"
    std::string hash(get1(R"(["hashString"])").at("hashString").as_string());
    rpc.reset();
    daemon.reset();
    // What a kill -9 after the data reached the download dir and before the commit leaves.
    {
        pw::daemon::state::Store store((dir / "state" / "state.sqlite").string());
        store.set_torrent_setting(hash, "move_target", (dir / "dl").string());
    }
    fs::create_directories(dir / "dl" / ("." + hash + ".moving"));
    fs::rename(dir / "inc" / "file.bin", dir / "dl" / "file.bin");
    start();
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "dl").string()));
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(), 1.0);
    EXPECT_FALSE(fs::exists(dir / "dl" / ("." + hash + ".moving")));
    restart();
    ASSERT_TRUE(wait_status(6));
    EXPECT_EQ(slurp(dir / "dl" / "file.bin"), payload());
}

TEST_F(IncompleteRpc, CompleteAtAddGoesStraightToTheDownloadDir) {
    enable_incomplete();
    fs::create_directories(dir / "dl");
    fs::copy_file(dir / "data" / "file.bin", dir / "dl" / "file.bin");
    add_to_dl(false);
    ASSERT_TRUE(wait_status(6));
    EXPECT_FALSE(fs::exists(dir / "inc"));
    EXPECT_EQ(get1(R"(["downloadDir"])").at("downloadDir"), json::value((dir / "dl").string()));
}

TEST_F(IncompleteRpc, FinishedInTheIncompleteDirAtAddMovesWithoutTheDoneScript) {
    enable_incomplete();
    auto out = dir / "done.env";
    legacy("session-set", R"({"script-torrent-done-enabled":true,"script-torrent-done-filename":")" +
                              script("done.sh", out).string() + R"("})");
    fs::create_directories(dir / "inc");
    fs::copy_file(dir / "data" / "file.bin", dir / "inc" / "file.bin");
    add_to_dl(false);
    ASSERT_TRUE(wait_file(dir / "dl" / "file.bin"));
    ASSERT_TRUE(wait_status(6));
    for (int i = 0; i < 100 && fs::exists(dir / "inc" / "file.bin"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(fs::exists(dir / "inc" / "file.bin"));
    EXPECT_FALSE(fs::exists(out));  // found complete, not downloaded: no done script
}

TEST_F(IncompleteRpc, ScriptsGetTransmissionsEnvironment) {
    auto added = dir / "added.env", seeding = dir / "seeding.env";
    legacy("session-set", R"({"script-torrent-added-enabled":true,"script-torrent-added-filename":")" +
                              script("added.sh", added).string() +
                              R"(","script-torrent-done-seeding-enabled":true,"script-torrent-done-seeding-filename":")" +
                              script("seeding.sh", seeding).string() + R"("})");
    legacy("torrent-add", R"({"filename":")" + (dir / "t.torrent").string() + R"(","download-dir":")" +
                              (dir / "data").string() + R"(","labels":["tv","hd"]})");
    ASSERT_TRUE(wait_file(added));
    auto env = slurp(added);
    std::string hash(get1(R"(["hashString"])").at("hashString").as_string());
    for (auto* line : {"TR_TORRENT_ID=1\n", "TR_TORRENT_NAME=file.bin\n", "TR_TORRENT_LABELS=tv,hd\n",
                       "TR_TORRENT_TRACKERS=\n", "TR_APP_VERSION=", "TR_TIME_LOCALTIME=",
                       "TR_TORRENT_BYTES_DOWNLOADED=0\n"})
        EXPECT_NE(env.find(line), std::string::npos) << line << "\n" << env;
    EXPECT_NE(env.find("TR_TORRENT_HASH=" + hash + "\n"), std::string::npos) << env;
    EXPECT_NE(env.find("TR_TORRENT_DIR=" + (dir / "data").string() + "\n"), std::string::npos) << env;
    EXPECT_FALSE(fs::exists(seeding));
    // Seeding stops at ratio 0 at once: the done-seeding script.
    ASSERT_TRUE(wait_status(6));
    legacy("torrent-set", R"({"ids":[1],"seedRatioLimit":0,"seedRatioMode":1})");
    ASSERT_TRUE(wait_file(seeding));
    EXPECT_NE(slurp(seeding).find("TR_TORRENT_ID=1\n"), std::string::npos);
    EXPECT_TRUE(wait_status(0));
}

TEST_F(IncompleteRpc, AMissingScriptIsLoggedAndOneThatNeverEndsIsNotWaitedFor) {
    legacy("session-set", R"({"script-torrent-added-enabled":true,"script-torrent-added-filename":")" +
                              (dir / "missing.sh").string() + R"("})");
    add_file();
    EXPECT_EQ(daemon->scripts_running(), 0u);
    legacy("torrent-remove", R"({"ids":[1]})");
    // A script that never ends: the add is answered, the daemon stops without waiting.
    auto pidfile = dir / "pid";
    auto p = dir / "forever.sh";
    std::ofstream(p) << "#!/bin/sh\necho $$ > '" << pidfile.string() << ".tmp'\nmv '"
                     << pidfile.string() << ".tmp' '" << pidfile.string() << "'\nexec sleep 60\n";
    fs::permissions(p, fs::perms::owner_all);
    legacy("session-set", R"({"script-torrent-added-filename":")" + p.string() + R"("})");
    add_file();
    ASSERT_TRUE(wait_file(pidfile));
    EXPECT_EQ(daemon->scripts_running(), 1u);
    pid_t pid = std::stoi(slurp(pidfile));
    rpc.reset();
    daemon.reset();  // returns with the script still running
    EXPECT_EQ(::kill(pid, 0), 0);
    ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    start();
}

}  // namespace
