// Storage: mapping of the byte stream onto files (BEP 3), pad files (BEP 47), positional
// I/O and its errors.
#include "storage/storage.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>

namespace fs = std::filesystem;
using pw::meta::FileEntry;
using pw::storage::Slice;
using pw::storage::Storage;
using pw::storage::StorageErrc;

namespace {

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> n{0};
        path_ = fs::temp_directory_path() /
                ("pw-storage-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

struct Spec {
    std::string path;
    std::int64_t length;
    bool pad = false;
};

std::vector<FileEntry> layout(const std::vector<Spec>& specs, std::int64_t* total = nullptr) {
    std::vector<FileEntry> out;
    std::int64_t pos = 0;
    for (const auto& s : specs) {
        out.push_back({s.path, s.length, pos, s.pad});
        pos += s.length;
    }
    if (total) *total = pos;
    return out;
}

Storage make(const std::vector<Spec>& specs, const fs::path& root) {
    std::int64_t total = 0;
    auto files = layout(specs, &total);
    return Storage(std::move(files), total, root);
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool same(const Slice& s, int file, std::int64_t off, std::int64_t len) {
    return s.file == file && s.file_offset == off && s.length == len;
}

// Zero-length files at both ends and in the middle, one pad file.
const std::vector<Spec> kMixed = {
    {"t/empty0", 0},     {"t/a.bin", 10}, {"t/sub/empty1", 0}, {"t/c.bin", 5},
    {".pad/3", 3, true}, {"t/e.bin", 20}, {"t/empty2", 0},
};

}  // namespace

TEST(StorageMap, SpansFilesAndSkipsEmptyAndPad) {
    TempDir dir;
    Storage s = make(kMixed, dir.path());
    // A range touching a, c, the pad and e: the pad is not mapped.
    auto m = s.map(8, 12);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_TRUE(same(m[0], 1, 8, 2));
    EXPECT_TRUE(same(m[1], 3, 0, 5));
    EXPECT_TRUE(same(m[2], 5, 0, 2));

    auto all = s.map(0, 38);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_TRUE(same(all[0], 1, 0, 10));
    EXPECT_TRUE(same(all[1], 3, 0, 5));
    EXPECT_TRUE(same(all[2], 5, 0, 20));

    // Starting exactly where a zero-length file sits maps to the next real file.
    auto at_empty = s.map(10, 1);
    ASSERT_EQ(at_empty.size(), 1u);
    EXPECT_TRUE(same(at_empty[0], 3, 0, 1));

    EXPECT_TRUE(s.map(15, 3).empty());  // only the pad
    EXPECT_TRUE(s.map(38, 1).empty());  // past the end
    EXPECT_TRUE(s.map(5, 0).empty());
    auto clipped = s.map(30, 100);
    ASSERT_EQ(clipped.size(), 1u);
    EXPECT_TRUE(same(clipped[0], 5, 12, 8));
}

TEST(StorageMap, PieceSpanningThreeFiles) {
    TempDir dir;
    Storage s = make({{"x/1", 6}, {"x/2", 4}, {"x/3", 6}, {"x/4", 16}}, dir.path());
    // Piece 0 of length 16 covers 1, 2 and 3 entirely; piece 1 is inside 4.
    auto p0 = s.map(0, 16);
    ASSERT_EQ(p0.size(), 3u);
    EXPECT_TRUE(same(p0[0], 0, 0, 6));
    EXPECT_TRUE(same(p0[1], 1, 0, 4));
    EXPECT_TRUE(same(p0[2], 2, 0, 6));
    auto mid = s.map(5, 7);
    ASSERT_EQ(mid.size(), 3u);
    EXPECT_TRUE(same(mid[0], 0, 5, 1));
    EXPECT_TRUE(same(mid[1], 1, 0, 4));
    EXPECT_TRUE(same(mid[2], 2, 0, 2));
}

TEST(StorageMap, RejectsInconsistentLayout) {
    std::vector<FileEntry> files = {{"a", 10, 0, false}, {"b", 5, 11, false}};
    EXPECT_THROW(Storage(files, 16, "/tmp"), std::invalid_argument);
    std::vector<FileEntry> ok = {{"a", 10, 0, false}};
    EXPECT_THROW(Storage(ok, 11, "/tmp"), std::invalid_argument);
}

TEST(StorageIo, WriteThenReadBackAcrossFiles) {
    TempDir dir;
    Storage s = make(kMixed, dir.path());
    std::string data = random_bytes(38, 1);
    ASSERT_FALSE(s.write(0, data.data(), data.size()));

    std::string back(38, 'x');
    auto err = s.read(0, back.data(), back.size());
    ASSERT_FALSE(err) << err.message();
    std::string expect = data;
    std::fill(expect.begin() + 15, expect.begin() + 18, '\0');  // the pad reads as zeros
    EXPECT_EQ(back, expect);

    EXPECT_EQ(slurp(dir.path() / "t/a.bin"), data.substr(0, 10));
    EXPECT_EQ(slurp(dir.path() / "t/c.bin"), data.substr(10, 5));
    EXPECT_EQ(slurp(dir.path() / "t/e.bin"), data.substr(18, 20));
    EXPECT_FALSE(fs::exists(dir.path() / ".pad"));      // pad files are never written
    EXPECT_FALSE(fs::exists(dir.path() / "t/empty0"));  // nor are empty files mapped
    EXPECT_FALSE(fs::exists(dir.path() / "t/sub/empty1"));

    ASSERT_FALSE(s.create_empty_files());
    EXPECT_TRUE(fs::is_regular_file(dir.path() / "t/empty0"));
    EXPECT_TRUE(fs::is_regular_file(dir.path() / "t/sub/empty1"));
    EXPECT_TRUE(fs::is_regular_file(dir.path() / "t/empty2"));
    EXPECT_FALSE(fs::exists(dir.path() / ".pad"));
    EXPECT_EQ(slurp(dir.path() / "t/a.bin"), data.substr(0, 10));  // never truncates
}

TEST(StorageIo, VectoredWriteUnalignedToFiles) {
    TempDir dir;
    Storage s = make({{"v/1", 7}, {"v/2", 3}, {"v/3", 9}}, dir.path());
    std::string data = random_bytes(17, 2);
    // Buffers of 4, 0, 8 and 5 bytes written at offset 1.
    iovec v[4] = {
        {data.data(), 4}, {data.data() + 4, 0}, {data.data() + 4, 8}, {data.data() + 12, 5}};
    ASSERT_FALSE(s.write(1, std::span<const iovec>(v, 4)));
    std::string back(17, '\0');
    ASSERT_FALSE(s.read(1, back.data(), back.size()));
    EXPECT_EQ(back, data);
    EXPECT_EQ(fs::file_size(dir.path() / "v/1"), 7u);
}

TEST(StorageIo, SparseWriteAndPartialFile) {
    TempDir dir;
    Storage s = make({{"big.bin", 1 << 20}}, dir.path());
    ASSERT_FALSE(s.write(1000, "abc", 3));
    EXPECT_EQ(fs::file_size(dir.path() / "big.bin"), 1003u);  // not preallocated
    char buf[3];
    ASSERT_FALSE(s.read(1000, buf, 3));
    EXPECT_EQ(std::string(buf, 3), "abc");

    // Reading beyond what exists on disk is an error, not zeros.
    char far[10];
    auto err = s.read(1001, far, sizeof far);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "read");
    EXPECT_EQ(err.ec, make_error_code(StorageErrc::unexpected_eof));
    EXPECT_EQ(err.message(),
              "read " + (dir.path() / "big.bin").string() + ": unexpected end of file");
}

TEST(StorageIo, ReadMissingFileNamesIt) {
    TempDir dir;
    Storage s = make({{"t/there", 4}, {"t/missing.bin", 4}}, dir.path());
    ASSERT_FALSE(s.write(0, "abcd", 4));
    char buf[8];
    auto err = s.read(0, buf, 8);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "open");
    EXPECT_EQ(err.file, (dir.path() / "t/missing.bin").string());
    EXPECT_EQ(err.ec, std::errc::no_such_file_or_directory);
    EXPECT_NE(err.message().find("missing.bin"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir.path() / "t/missing.bin"));  // reads never create files
}

TEST(StorageIo, OutOfRangeIsAnError) {
    TempDir dir;
    Storage s = make({{"a", 10}}, dir.path());
    char buf[4] = {};
    EXPECT_EQ(s.read(8, buf, 4).ec, make_error_code(StorageErrc::out_of_range));
    EXPECT_EQ(s.write(-1, buf, 2).ec, make_error_code(StorageErrc::out_of_range));
    EXPECT_EQ(s.write(11, buf, 0).ec, make_error_code(StorageErrc::out_of_range));
    EXPECT_FALSE(s.write(10, buf, 0));  // empty write at the end is fine
    EXPECT_FALSE(fs::exists(dir.path() / "a"));
}

TEST(StorageIo, ReadOnlyDescriptorIsReopenedForWriting) {
    TempDir dir;
    Storage s = make({{"f", 6}}, dir.path());
    ASSERT_FALSE(s.write(0, "aaaaaa", 6));
    s.close_all();
    char buf[6];
    ASSERT_FALSE(s.read(0, buf, 6));  // caches a read-only descriptor
    ASSERT_FALSE(s.write(2, "bb", 2));
    ASSERT_FALSE(s.read(0, buf, 6));
    EXPECT_EQ(std::string(buf, 6), "aabbaa");
    EXPECT_EQ(slurp(dir.path() / "f"), "aabbaa");
}

TEST(StorageErrors, OpenFailureNamesFile) {
    TempDir dir;
    fs::create_directories(dir.path() / "t/adir");  // a directory where a file belongs
    Storage s = make({{"t/adir", 4}}, dir.path());
    auto err = s.write(0, "abcd", 4);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "open");
    EXPECT_EQ(err.file, (dir.path() / "t/adir").string());
    EXPECT_EQ(err.ec, std::errc::is_a_directory);
}

TEST(StorageErrors, MkdirFailureNamesDirectory) {
    TempDir dir;
    { std::ofstream(dir.path() / "blocker") << "x"; }  // a file where a directory belongs
    Storage s = make({{"blocker/sub/f.bin", 4}}, dir.path());
    auto err = s.write(0, "abcd", 4);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "mkdir");
    EXPECT_NE(err.file.find("blocker"), std::string::npos);
    EXPECT_EQ(s.create_empty_files().operation, "mkdir");
}

TEST(StorageErrors, ReadOnlyDirectory) {
    if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
    TempDir dir;
    fs::create_directories(dir.path() / "ro");
    fs::permissions(dir.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    Storage s = make({{"ro/f.bin", 4}, {"ro/new/g.bin", 4}}, dir.path());
    auto err = s.write(0, "abcd", 4);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "open");
    EXPECT_EQ(err.file, (dir.path() / "ro/f.bin").string());
    EXPECT_EQ(err.ec, std::errc::permission_denied);
    err = s.write(4, "abcd", 4);
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "mkdir");
}

TEST(StorageErrors, DiskFullIsReported) {
    struct stat st;
    if (::stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode)) GTEST_SKIP() << "no /dev/full";
    TempDir dir;
    fs::create_directories(dir.path() / "t");
    fs::create_symlink("/dev/full", dir.path() / "t/full.bin");  // every write: ENOSPC
    Storage s = make({{"t/ok.bin", 4}, {"t/full.bin", 4096}}, dir.path());
    std::string data(4100, 'z');
    auto err = s.write(0, data.data(), data.size());
    ASSERT_TRUE(err);
    EXPECT_EQ(err.operation, "write");
    EXPECT_EQ(err.ec, std::errc::no_space_on_device);
    EXPECT_EQ(err.file, (dir.path() / "t/full.bin").string());
    EXPECT_NE(err.message().find("full.bin"), std::string::npos);
    EXPECT_EQ(slurp(dir.path() / "t/ok.bin"), "zzzz");  // the part before it was written
}

TEST(StorageErrors, RefusesPathsOutsideRoot) {
    TempDir dir;
    fs::create_directories(dir.path() / "root");
    const std::vector<std::string> bads = {"../escape.bin", "a/../../escape.bin",
                                           (dir.path() / "escape.bin").string(), ".", ""};
    for (const auto& bad : bads) {
        Storage s = make({{bad, 4}}, dir.path() / "root");
        auto err = s.write(0, "abcd", 4);
        ASSERT_TRUE(err) << bad;
        EXPECT_EQ(err.ec, make_error_code(StorageErrc::outside_root)) << bad;
        EXPECT_EQ(err.operation, "open");
        char buf[4];
        EXPECT_EQ(s.read(0, buf, 4).ec, make_error_code(StorageErrc::outside_root)) << bad;
    }
    Storage zero = make({{"../escape0", 0}}, dir.path() / "root");
    EXPECT_EQ(zero.create_empty_files().ec, make_error_code(StorageErrc::outside_root));
    EXPECT_FALSE(fs::exists(dir.path() / "escape.bin"));
    EXPECT_FALSE(fs::exists(dir.path() / "escape0"));
    // Inside is fine even when spelled with ".".
    Storage ok = make({{"./x/./y.bin", 2}}, dir.path() / "root/.");
    EXPECT_FALSE(ok.write(0, "ab", 2));
    EXPECT_EQ(slurp(dir.path() / "root/x/y.bin"), "ab");
}

TEST(StorageConcurrency, ManyThreadsManyFiles) {
    // More files than the descriptor cache holds, written and read from several threads.
    TempDir dir;
    std::vector<Spec> specs;
    for (int i = 0; i < 600; ++i) specs.push_back({"m/f" + std::to_string(i), 100 + i % 7});
    Storage s = make(specs, dir.path());
    std::int64_t total = 0;
    for (const auto& sp : specs) total += sp.length;
    std::string data = random_bytes(static_cast<std::size_t>(total), 3);

    constexpr int kThreads = 4;
    constexpr std::int64_t kBlock = 1000;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (std::int64_t off = t * kBlock; off < total; off += kThreads * kBlock) {
                auto len = std::min(kBlock, total - off);
                if (s.write(off, data.data() + off, static_cast<std::size_t>(len))) ++failures;
            }
            for (std::int64_t off = t * kBlock; off < total; off += kThreads * kBlock) {
                auto len = static_cast<std::size_t>(std::min(kBlock, total - off));
                std::string buf(len, '\0');
                if (s.read(off, buf.data(), len) || buf != data.substr(off, len)) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    s.close_all();
    std::string all(static_cast<std::size_t>(total), '\0');
    ASSERT_FALSE(s.read(0, all.data(), all.size()));
    EXPECT_EQ(all, data);
}

// Parts file: a skipped file is never created; its bytes in a boundary piece go to the
// parts file at their stream offset and move into the file when it is wanted again.
TEST(StorageParts, SkippedFileBytesGoToThePartsFileAndBack) {
    TempDir dir;
    Storage s = make({{"t/a.bin", 10}, {"t/sub/b.bin", 25}, {"t/c.bin", 5}}, dir.path());
    s.set_parts_path(dir.path() / ".abc.parts");
    EXPECT_TRUE(s.park_if_absent(1));
    EXPECT_TRUE(s.uses_parts(1));
    EXPECT_FALSE(s.uses_parts(0));
    std::string data = random_bytes(40, 7);
    // Bytes 0..20 (a.bin and the start of b.bin) and the boundary piece 30..40.
    ASSERT_FALSE(s.write(0, data.data(), 20));
    ASSERT_FALSE(s.write(30, data.data() + 30, 10));
    ASSERT_FALSE(s.create_empty_files());
    EXPECT_FALSE(fs::exists(dir.path() / "t/sub"));  // neither the file nor its folder
    EXPECT_EQ(slurp(dir.path() / "t/a.bin"), data.substr(0, 10));
    EXPECT_EQ(slurp(dir.path() / "t/c.bin"), data.substr(35, 5));
    EXPECT_EQ(slurp(dir.path() / ".abc.parts").substr(10, 10), data.substr(10, 10));
    std::string back(10, 'x');
    ASSERT_FALSE(s.read(30, back.data(), back.size()));  // from the parts file and c.bin
    EXPECT_EQ(back, data.substr(30, 10));
    EXPECT_EQ(s.size_on_disk(1), 35 - 10);  // the parts file reaches to stream byte 35
    EXPECT_EQ(s.size_on_disk(2), 5);

    // Wanted again: the parked ranges [0,20) and [30,40) move into b.bin.
    auto err = s.unpark(1, {{0, 20}, {30, 40}});
    ASSERT_FALSE(err) << err.message();
    EXPECT_FALSE(s.uses_parts(1));
    std::string b = slurp(dir.path() / "t/sub/b.bin");
    ASSERT_EQ(b.size(), 25u);
    EXPECT_EQ(b.substr(0, 10), data.substr(10, 10));
    EXPECT_EQ(b.substr(20, 5), data.substr(30, 5));
    s.drop_parts_if_unused();
    EXPECT_FALSE(fs::exists(dir.path() / ".abc.parts"));
}

TEST(StorageParts, AnExistingFileKeepsBeingUsed) {
    TempDir dir;
    Storage s = make({{"a", 10}, {"b", 10}}, dir.path());
    s.set_parts_path(dir.path() / ".p.parts");
    std::string data = random_bytes(20, 3);
    ASSERT_FALSE(s.write(0, data.data(), data.size()));
    EXPECT_FALSE(s.park_if_absent(1));  // b exists: no parking
    EXPECT_FALSE(s.uses_parts(1));
    EXPECT_EQ(s.size_on_disk(1), 10);
    // Nothing parked: unpark is a no-op, the missing parts file is no error.
    EXPECT_FALSE(s.unpark(1, {{0, 20}}));
    Storage s2 = make({{"a", 10}, {"c", 10}}, dir.path());
    s2.set_parts_path(dir.path() / ".p.parts");
    EXPECT_TRUE(s2.park_if_absent(1));
    EXPECT_EQ(s2.size_on_disk(1), -1);      // no parts file yet
    EXPECT_FALSE(s2.unpark(1, {{0, 20}}));  // nothing parked on disk: no file made
    EXPECT_FALSE(fs::exists(dir.path() / "c"));
}

TEST(StoragePartNames, NewFilesCarryTheSuffixUntilFinished) {
    TempDir dir;
    Storage s = make({{"t/a.bin", 10}, {"t/b.bin", 20}}, dir.path());
    s.set_part_names(true);
    std::string data = random_bytes(30, 11);
    ASSERT_FALSE(s.write(0, data.data(), 15));  // all of a.bin, the start of b.bin
    EXPECT_TRUE(fs::exists(dir.path() / "t/a.bin.part"));
    EXPECT_TRUE(fs::exists(dir.path() / "t/b.bin.part"));
    EXPECT_FALSE(fs::exists(dir.path() / "t/a.bin"));
    EXPECT_FALSE(fs::exists(dir.path() / "t/b.bin"));
    EXPECT_TRUE(s.part_named(0));
    EXPECT_EQ(s.full_path(1), dir.path() / "t/b.bin.part");
    EXPECT_EQ(s.size_on_disk(1), 5);

    auto err = s.finish_file(0);
    ASSERT_FALSE(err) << err.message();
    EXPECT_FALSE(s.part_named(0));
    EXPECT_FALSE(fs::exists(dir.path() / "t/a.bin.part"));
    EXPECT_EQ(slurp(dir.path() / "t/a.bin"), data.substr(0, 10));
    // Reads and writes go on across both names.
    ASSERT_FALSE(s.write(15, data.data() + 15, 15));
    std::string back(30, 'x');
    ASSERT_FALSE(s.read(0, back.data(), back.size()));
    EXPECT_EQ(back, data);
    EXPECT_EQ(slurp(dir.path() / "t/b.bin.part"), data.substr(10));
    ASSERT_FALSE(s.finish_file(1));
    EXPECT_EQ(slurp(dir.path() / "t/b.bin"), data.substr(10));
    EXPECT_FALSE(s.finish_file(1));  // nothing left to rename: no error
    EXPECT_EQ(pw::storage::stored_path(dir.path() / "t/b.bin"), dir.path() / "t/b.bin");
}

TEST(StoragePartNames, APartialFileIsUsedWhateverTheSetting) {
    TempDir dir;
    std::string data = random_bytes(20, 12);
    fs::create_directories(dir.path() / "t");
    std::ofstream(dir.path() / "t/x.part", std::ios::binary) << data.substr(0, 8);
    Storage s = make({{"t/x", 20}}, dir.path());  // partial names off
    EXPECT_EQ(pw::storage::stored_path(dir.path() / "t/x"), dir.path() / "t/x.part");
    EXPECT_EQ(s.size_on_disk(0), 8);
    EXPECT_TRUE(s.part_named(0));  // found there
    ASSERT_FALSE(s.write(8, data.data() + 8, 12));
    EXPECT_FALSE(fs::exists(dir.path() / "t/x"));  // not a second copy under the own name
    std::string back(20, 'x');
    ASSERT_FALSE(s.read(0, back.data(), back.size()));
    EXPECT_EQ(back, data);
    ASSERT_FALSE(s.finish_file(0));
    EXPECT_EQ(slurp(dir.path() / "t/x"), data);
    EXPECT_FALSE(fs::exists(dir.path() / "t/x.part"));
}

TEST(StoragePartNames, FinishingNeverReplacesAFile) {
    TempDir dir;
    std::ofstream(dir.path() / "x", std::ios::binary) << "own";
    std::ofstream(dir.path() / "x.part", std::ios::binary) << "partial";
    Storage s = make({{"x", 3}}, dir.path());
    s.set_part_names(true);
    EXPECT_EQ(s.full_path(0), dir.path() / "x");  // the own name first
    ASSERT_FALSE(s.finish_file(0));
    EXPECT_EQ(slurp(dir.path() / "x"), "own");
    EXPECT_EQ(slurp(dir.path() / "x.part"), "partial");
    EXPECT_FALSE(s.part_named(0));
    // A file that does not exist, a pad file: nothing to do.
    Storage s2 = make({{"y", 5}, {".pad/3", 3, true}, {"z", 4}}, dir.path());
    EXPECT_FALSE(s2.finish_file(0));
    EXPECT_FALSE(s2.finish_file(1));
    EXPECT_FALSE(fs::exists(dir.path() / "y"));
}

TEST(StoragePartNames, RenamingAPartialFileKeepsTheSuffix) {
    TempDir dir;
    Storage s = make({{"t/a", 10}, {"t/b", 10}}, dir.path());
    s.set_part_names(true);
    std::string data = random_bytes(20, 13);
    ASSERT_FALSE(s.write(0, data.data(), 5));
    auto err = s.rename_entry("t/a", "t/c", {"t/c", "t/b"});
    ASSERT_FALSE(err) << err.message();
    EXPECT_TRUE(fs::exists(dir.path() / "t/c.part"));
    EXPECT_FALSE(fs::exists(dir.path() / "t/a.part"));
    ASSERT_FALSE(s.write(5, data.data() + 5, 15));
    ASSERT_FALSE(s.finish_file(0));
    EXPECT_EQ(slurp(dir.path() / "t/c"), data.substr(0, 10));
    EXPECT_EQ(slurp(dir.path() / "t/b.part"), data.substr(10));
    // The folder: its partial files go with it.
    ASSERT_FALSE(s.rename_entry("t", "u", {"u/c", "u/b"}));
    EXPECT_TRUE(fs::exists(dir.path() / "u/b.part"));
    std::string back(20, 'x');
    ASSERT_FALSE(s.read(0, back.data(), back.size()));
    EXPECT_EQ(back, data);
}
