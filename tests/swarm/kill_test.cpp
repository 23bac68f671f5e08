// Crash safety under SIGKILL, in-process enough to run under ASan: the test starts this
// same executable as a child that downloads from a slow scripted seeder (KillChild.Leech),
// kills it with SIGKILL at a random moment once it wrote some data, and starts it again. After every kill the resume
// record on disk may be stale but must never claim a piece whose bytes are not in the file
// (records are written after the data they describe). The last run completes, the result
// is byte-identical, and the seeder sent at most the payload plus, per kill, what the child
// could hold unwritten (its 1 MiB cache and the requests in flight). The same with partial
// names (Settings::part_files): the data is found under payload.bin.part after every kill
// and ends as payload.bin.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "crypto/sha1.hpp"
#include "fake_peer.hpp"
#include "storage/resume.hpp"
#include "swarm_util.hpp"

extern char** environ;

using namespace swarm_test;

namespace {

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// Starts this executable running only KillChild.Leech, with the child's inputs in its
// environment. Returns the pid, or -1.
pid_t spawn_child(const std::vector<std::string>& env_add) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).substr(0, 9) != "PW_CHILD_") env_strings.emplace_back(*e);
    for (auto& e : env_add) env_strings.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string exe = fs::read_symlink("/proc/self/exe").string();
    std::string filter = "--gtest_filter=KillChild.Leech";
    char* argv[] = {exe.data(), filter.data(), nullptr};
    pid_t pid = -1;
    if (::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return -1;
    return pid;
}

// Bytes of `p` on disk (allocated blocks: the file is written sparsely, piece by piece).
std::int64_t allocated_bytes(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? std::int64_t(st.st_blocks) * 512 : 0;
}

// Exit status of `pid`, waiting at most `limit`; -1 if it did not end (then it is killed).
int wait_exit(pid_t pid, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

}  // namespace

// The child: one download into PW_CHILD_SAVE from PW_CHILD_PEER, to completion.
TEST(KillChild, Leech) {
    if (!*env("PW_CHILD_TORRENT")) GTEST_SKIP() << "runs only as the child of KillTest";
    auto s = loopback("127.0.7.3", env("PW_CHILD_RESUME"));
    s.cache_bytes = 1 << 20;
    s.part_files = *env("PW_CHILD_PART_FILES") == '1';
    piecewise::Session leecher(s);
    piecewise::AddTorrentParams p;
    p.torrent_file = env("PW_CHILD_TORRENT");
    p.save_path = env("PW_CHILD_SAVE");
    p.peers = {env("PW_CHILD_PEER")};
    auto id = leecher.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(60)));
    leecher.stop();
}

// `kills` SIGKILLs at random moments, then a run to the end. With `part_files` the data
// is payload.bin.part until the last piece and must end as payload.bin.
static void kill_and_resume(bool part_files, int kills) {
    auto dir = temp_dir(part_files ? "kill-part" : "kill");
    const std::int64_t piece = 64 << 10;
    std::string data = random_bytes(24 << 20, 31);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", piece);
    auto meta = pw::meta::load(torrent);
    // About 5 MB/s: 16 KiB blocks, 3 ms apart.
    FakePeer seeder("127.0.7.2", meta, data, {.block_delay_ms = 3});
    const std::vector<std::string> child_env = {
        "PW_CHILD_TORRENT=" + torrent.string(), "PW_CHILD_SAVE=" + (dir / "down").string(),
        "PW_CHILD_RESUME=" + (dir / "resume").string(),
        "PW_CHILD_PEER=127.0.7.2:" + std::to_string(seeder.port()),
        std::string("PW_CHILD_PART_FILES=") + (part_files ? "1" : "0")};
    const auto resume_file = dir / "resume" / (meta.info_hash.hex() + ".resume");

    std::mt19937 rng(std::random_device{}());
    int records_checked = 0;
    const auto data_file = dir / "down" / (part_files ? "payload.bin.part" : "payload.bin");
    for (int k = 0; k < kills; ++k) {
        // Each run is killed at a random moment after it wrote at least 1 MiB more (a
        // fixed delay would kill a slow start, as under ASan, before it wrote anything).
        const std::int64_t before = allocated_bytes(data_file);
        pid_t pid = spawn_child(child_env);
        ASSERT_GT(pid, 0);
        ASSERT_TRUE(wait_for([&] { return allocated_bytes(data_file) >= before + (1 << 20); },
                             std::chrono::seconds(30)))
            << "run " << k << " wrote nothing";
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
        ASSERT_EQ(::waitpid(pid, nullptr, WNOHANG), 0) << "the child ended before kill " << k;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        // Whatever record survived vouches only for pieces whose bytes are on disk.
        if (auto r = pw::storage::load_resume_file(resume_file, meta.num_pieces())) {
            ++records_checked;
            std::string on_disk = read_file(data_file);
            for (int i = 0; i < meta.num_pieces(); ++i) {
                if (!r->have[static_cast<std::size_t>(i)]) continue;
                auto off = static_cast<std::size_t>(i * piece);
                ASSERT_GE(on_disk.size(), off + static_cast<std::size_t>(piece)) << "piece " << i;
                EXPECT_EQ(pw::crypto::sha1(std::string_view(on_disk).substr(
                              off, static_cast<std::size_t>(piece))),
                          meta.piece_hashes[static_cast<std::size_t>(i)])
                    << "kill " << k << ": the resume record claims piece " << i
                    << " but its bytes are not on disk";
            }
        }
    }
    EXPECT_GT(records_checked, 0) << "no kill came late enough to find a resume record";

    pid_t pid = spawn_child(child_env);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(wait_exit(pid, std::chrono::seconds(90)), 0) << "the last run did not complete";
    EXPECT_EQ(read_file(dir / "down" / "payload.bin"), data);
    EXPECT_FALSE(fs::exists(dir / "down" / "payload.bin.part"));
    const std::int64_t sent = std::int64_t(seeder.blocks_sent()) * (16 << 10);
    const std::int64_t bound = std::int64_t(data.size()) + kills * (std::int64_t(3) << 20);
    EXPECT_LE(sent, bound) << "verified pieces were fetched again";
    std::printf(
        "kill test%s: %d kills, %d resume records checked, seeder sent %lld bytes for %zu (bound "
        "%lld)\n",
        part_files ? " (partial names)" : "", kills, records_checked, static_cast<long long>(sent), data.size(),
        static_cast<long long>(bound));
    fs::remove_all(dir);
}

TEST(KillTest, SigkillAtRandomMomentsLosesNoVerifiedPiece) {
    kill_and_resume(false, 8);
}

TEST(KillTest, SigkillWithPartialNamesLosesNothingAndEndsUnderTheOwnName) {
    kill_and_resume(true, 4);
}
