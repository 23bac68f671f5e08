// Moving and renaming a torrent's data: the pure rules (names, rename plans, move
// targets) and the moves themselves on disk (rename and cross-device copy, no clobbering,
// undo on failure).
#include "storage/parse/relocation.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "storage/relocate.hpp"

namespace fs = std::filesystem;
using pw::storage::check_move_target;
using pw::storage::check_new_name;
using pw::storage::path_within;
using pw::storage::plan_rename;

namespace {

const std::vector<std::string> album = {"Album/a.bin", "Album/sub/b.bin", "Album/sub/c.bin",
                                        "Album/.pad/0"};

TEST(RelocationNames, OnePortableComponentOnly) {
    EXPECT_EQ(check_new_name("new name.mkv"), "");
    EXPECT_EQ(check_new_name("\xc3\xa9t\xc3\xa9"), "");  // UTF-8
    for (const std::string& bad : std::vector<std::string>{
             "", ".", "..", "a/b", "/abs", "a\\b", std::string("a\0b", 3), "trail.", "trail ",
             "CON", "bad\x01", "\xff\xfe", std::string(300, 'x')})
        EXPECT_NE(check_new_name(bad), "") << bad;
}

TEST(RelocationNames, RenameAFileAFolderAndTheTop) {
    auto f = plan_rename(album, "Album/sub/b.bin", "B.bin");
    ASSERT_EQ(f.error, "");
    EXPECT_EQ(f.from, "Album/sub/b.bin");
    EXPECT_EQ(f.to, "Album/sub/B.bin");
    EXPECT_FALSE(f.top);
    EXPECT_EQ(f.paths[1], "Album/sub/B.bin");
    EXPECT_EQ(f.paths[2], "Album/sub/c.bin");

    auto d = plan_rename(album, "Album/sub/", "Disc 1");  // a trailing '/' is ignored
    ASSERT_EQ(d.error, "");
    EXPECT_EQ(d.paths, (std::vector<std::string>{"Album/a.bin", "Album/Disc 1/b.bin",
                                                 "Album/Disc 1/c.bin", "Album/.pad/0"}));
    auto t = plan_rename(album, "Album", "Renamed");
    ASSERT_EQ(t.error, "");
    EXPECT_TRUE(t.top);
    for (auto& p : t.paths) EXPECT_EQ(p.rfind("Renamed/", 0), 0u) << p;

    auto single = plan_rename({"movie.mkv"}, "movie.mkv", "film.mkv");
    ASSERT_EQ(single.error, "");
    EXPECT_TRUE(single.top);
    EXPECT_EQ(single.paths[0], "film.mkv");

    auto same = plan_rename(album, "Album/a.bin", "a.bin");
    EXPECT_EQ(same.error, "");
    EXPECT_EQ(same.from, same.to);
}

TEST(RelocationNames, RefusedRenames) {
    EXPECT_NE(plan_rename(album, "Album/a.bin", "x/y").error, "");
    EXPECT_NE(plan_rename(album, "Album/a.bin", "..").error, "");
    EXPECT_NE(plan_rename(album, "Album/missing.bin", "x").error, "");
    EXPECT_NE(plan_rename(album, "Album/su", "x").error, "");  // a prefix is not a folder
    EXPECT_NE(plan_rename(album, "", "x").error, "");
    EXPECT_NE(plan_rename(album, "../etc", "x").error, "");
    EXPECT_NE(plan_rename(album, "Album/sub/b.bin", "c.bin").error, "");  // taken by a file
    EXPECT_NE(plan_rename(album, "Album/a.bin", "sub").error, "");        // taken by a folder
    EXPECT_NE(plan_rename(album, "Album/sub", "a.bin").error, "");
    EXPECT_TRUE(plan_rename(album, "Album/sub/b.bin", "c.bin").paths.empty());
}

TEST(RelocationTargets, AbsoluteAndNotInsideItself) {
    bool same = false;
    EXPECT_EQ(check_move_target("/dl", "/srv/media", {"Album"}, same), "");
    EXPECT_FALSE(same);
    EXPECT_EQ(check_move_target("/dl", "/dl/", {"Album"}, same), "");
    EXPECT_TRUE(same);
    EXPECT_EQ(check_move_target("/dl", "/dl/other", {"Album"}, same), "");
    EXPECT_NE(check_move_target("/dl", "/dl/Album/sub", {"Album"}, same), "");
    EXPECT_NE(check_move_target("/dl", "/dl/x/../Album", {"Album"}, same), "");
    EXPECT_NE(check_move_target("/dl", "relative/dir", {"Album"}, same), "");
    EXPECT_NE(check_move_target("/dl", "", {"Album"}, same), "");
    EXPECT_TRUE(path_within("/a/b", "/a/b/c"));
    EXPECT_TRUE(path_within("/a/b/", "/a/b"));
    EXPECT_FALSE(path_within("/a/b", "/a/bc"));
    EXPECT_FALSE(path_within("/a/b", "/a/b/../c"));
}

// ---- on disk ----

struct TempDir {
    fs::path path;
    explicit TempDir(const fs::path& base = fs::temp_directory_path()) {
        static std::atomic<int> n{0};
        path = base / ("pw-reloc-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void put(const fs::path& p, const std::string& s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << s;
}
std::string get(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

pw::storage::RelocateJob job(const fs::path& from, const fs::path& to) {
    pw::storage::RelocateJob j;
    j.from_root = from;
    j.to_root = to;
    j.files = {"Album/a.bin", "Album/sub/b.bin", "Album/sub/never.bin"};
    j.parts_name = ".abc.parts";
    j.staging_name = ".abc.moving";
    return j;
}

void fill(const fs::path& root) {
    put(root / "Album/a.bin", std::string(70000, 'a'));
    put(root / "Album/sub/b.bin", "bee");
    put(root / ".abc.parts", "parts");
    put(root / "Album/extra.nfo", "not the torrent's");
}

void expect_moved(const fs::path& from, const fs::path& to) {
    EXPECT_EQ(get(to / "Album/a.bin"), std::string(70000, 'a'));
    EXPECT_EQ(get(to / "Album/sub/b.bin"), "bee");
    EXPECT_EQ(get(to / ".abc.parts"), "parts");
    EXPECT_FALSE(fs::exists(from / "Album/a.bin"));
    EXPECT_FALSE(fs::exists(from / "Album/sub/b.bin"));
    EXPECT_FALSE(fs::exists(from / ".abc.parts"));
    EXPECT_FALSE(fs::exists(to / "Album/sub/never.bin"));
    EXPECT_FALSE(fs::exists(to / ".abc.moving"));
}

TEST(Relocate, SameFileSystemRenamesTheFolder) {
    TempDir t;
    fill(t.path / "old");
    auto out = pw::storage::relocate(job(t.path / "old", t.path / "new/deeper"));
    ASSERT_FALSE(out.err) << out.err.message();
    EXPECT_FALSE(out.copied);
    expect_moved(t.path / "old", t.path / "new/deeper");
    EXPECT_TRUE(fs::exists(t.path / "new/deeper/Album/extra.nfo"));  // the folder moved whole
}

TEST(Relocate, IntoAnExistingFolderFileByFile) {
    TempDir t;
    fill(t.path / "old");
    put(t.path / "new/Album/theirs.txt", "keep");
    auto out = pw::storage::relocate(job(t.path / "old", t.path / "new"));
    ASSERT_FALSE(out.err) << out.err.message();
    expect_moved(t.path / "old", t.path / "new");
    EXPECT_EQ(get(t.path / "new/Album/theirs.txt"), "keep");
    EXPECT_EQ(get(t.path / "old/Album/extra.nfo"), "not the torrent's");
}

TEST(Relocate, CopyKeepsHolesAndTimes) {
    TempDir t;
    fill(t.path / "old");
    {  // a sparse file: 1 MiB hole, then data
        std::ofstream f(t.path / "old/Album/a.bin", std::ios::binary | std::ios::trunc);
        f.seekp(1 << 20);
        f << "tail";
    }
    struct stat before {};
    ::stat((t.path / "old/Album/a.bin").c_str(), &before);
    auto j = job(t.path / "old", t.path / "new");
    j.force_copy = true;
    auto out = pw::storage::relocate(j);
    ASSERT_FALSE(out.err) << out.err.message();
    EXPECT_TRUE(out.copied);
    std::string want(1 << 20, '\0');
    want += "tail";
    EXPECT_EQ(get(t.path / "new/Album/a.bin"), want);
    struct stat after {};
    ::stat((t.path / "new/Album/a.bin").c_str(), &after);
    EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    EXPECT_LT(after.st_blocks * 512, 1 << 19);  // the hole stayed a hole
    EXPECT_EQ(get(t.path / "new/Album/sub/b.bin"), "bee");
    EXPECT_FALSE(fs::exists(t.path / "old/Album/sub/b.bin"));
    EXPECT_FALSE(fs::exists(t.path / "new/.abc.moving"));
}

TEST(Relocate, AcrossFileSystemsWhenTmpfsIsThere) {
    if (!fs::exists("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
    TempDir t;
    TempDir shm("/dev/shm");
    fill(t.path / "old");
    auto out = pw::storage::relocate(job(t.path / "old", shm.path / "new"));
    ASSERT_FALSE(out.err) << out.err.message();
    expect_moved(t.path / "old", shm.path / "new");
}

TEST(Relocate, NeverReplacesAndLeavesEverythingOnFailure) {
    TempDir t;
    fill(t.path / "old");
    put(t.path / "new/Album/sub/b.bin", "someone else's");
    for (bool copy : {false, true}) {
        auto j = job(t.path / "old", t.path / "new");
        j.force_copy = copy;
        auto out = pw::storage::relocate(j);
        ASSERT_TRUE(out.err);
        EXPECT_EQ(out.err.ec, std::errc::file_exists);
        EXPECT_EQ(out.err.file, (t.path / "new/Album/sub/b.bin").string());
        EXPECT_EQ(get(t.path / "new/Album/sub/b.bin"), "someone else's");
        EXPECT_FALSE(fs::exists(t.path / "new/Album/a.bin"));
        EXPECT_EQ(get(t.path / "old/Album/a.bin"), std::string(70000, 'a'));
        EXPECT_EQ(get(t.path / "old/.abc.parts"), "parts");
    }
}

TEST(Relocate, FailureHalfWayUndoesWhatWasDone) {
    for (bool copy : {false, true}) {
        TempDir t;
        fill(t.path / "old");
        put(t.path / "new/Album/sub", "a file where a folder must go");  // b.bin cannot be placed
        auto j = job(t.path / "old", t.path / "new");
        j.force_copy = copy;
        auto out = pw::storage::relocate(j);
        ASSERT_TRUE(out.err) << copy;
        EXPECT_FALSE(fs::exists(t.path / "new/Album/a.bin")) << copy;  // placed, then undone
        EXPECT_FALSE(fs::exists(t.path / "new/.abc.moving"));
        EXPECT_EQ(get(t.path / "new/Album/sub"), "a file where a folder must go");
        EXPECT_EQ(get(t.path / "old/Album/a.bin"), std::string(70000, 'a'));
        EXPECT_EQ(get(t.path / "old/Album/sub/b.bin"), "bee");
        EXPECT_EQ(get(t.path / "old/.abc.parts"), "parts");
    }
}

TEST(Relocate, CancelledCopyLeavesTheOldPlaceWhole) {
    TempDir t;
    fill(t.path / "old");
    auto j = job(t.path / "old", t.path / "new");
    j.force_copy = true;
    j.cancel = std::make_shared<std::atomic<bool>>(true);
    auto out = pw::storage::relocate(j);
    ASSERT_TRUE(out.err);
    EXPECT_EQ(get(t.path / "old/Album/a.bin"), std::string(70000, 'a'));
    EXPECT_FALSE(fs::exists(t.path / "new/Album"));
    EXPECT_FALSE(fs::exists(t.path / "new/.abc.moving"));
}

TEST(Relocate, TargetInsideItselfAndSamePlace) {
    TempDir t;
    fill(t.path / "old");
    auto out = pw::storage::relocate(job(t.path / "old", t.path / "old/Album/sub"));
    EXPECT_TRUE(out.err);
    EXPECT_TRUE(fs::exists(t.path / "old/Album/a.bin"));
    out = pw::storage::relocate(job(t.path / "old", t.path / "old/"));
    EXPECT_FALSE(out.err);
    EXPECT_EQ(out.moved, 0);
    EXPECT_TRUE(fs::exists(t.path / "old/Album/a.bin"));
}

TEST(Relocate, BytesPresentCountsUpToEachLength) {
    TempDir t;
    fill(t.path);
    std::vector<pw::meta::FileEntry> files = {{"Album/a.bin", 1000, 0, false},
                                              {"Album/sub/b.bin", 3, 1000, false},
                                              {"Album/sub/never.bin", 50, 1003, false},
                                              {"Album/.pad/0", 7, 1053, true}};
    EXPECT_EQ(pw::storage::bytes_present(files, t.path), 1003);
    EXPECT_EQ(pw::storage::bytes_present(files, t.path / "nowhere"), 0);
}

}  // namespace
