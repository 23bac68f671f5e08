// Uploads by splice: Storage::splice_to puts the torrent's bytes into a pipe (across files,
// pad files as zeros), and every way it cannot is either an error naming the file (a file
// that ends early, an I/O error) or StorageErrc::no_splice, so that the caller reads
// instead (a full pipe, a FileIo without splice). SplicePipe: its size and its cap.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>

#include "../support/fault_io.hpp"
#include "storage/splice_pipe.hpp"
#include "storage/storage.hpp"

namespace fs = std::filesystem;
using pw::meta::FileEntry;
using pw::storage::SplicePipe;
using pw::storage::Storage;
using pw::storage::StorageErrc;

namespace {

struct Dir {
    fs::path path;
    Dir() {
        static std::atomic<int> n{0};
        path = fs::temp_directory_path() /
               ("pw-splice-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Dir() { fs::remove_all(path); }
};

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// Everything in the pipe now (its write end is non-blocking, so is its read end).
std::string drain(const SplicePipe& p) {
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(p.read_fd(), buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// Three files with a pad file between the second and third: 70,000 + 5 + 3 (pad) + 40,000.
struct Layout {
    Dir dir;
    std::vector<FileEntry> files{{"t/a.bin", 70000, 0, false},
                                {"t/b.bin", 5, 70000, false},
                                {".pad/3", 3, 70005, true},
                                {"t/c.bin", 40000, 70008, false}};
    std::int64_t total = 110008;
    std::string data = random_bytes(110008, 7);
    std::string expect;  // what reads (and splices) give: the pad as zeros
    Layout() {
        expect = data;
        std::fill(expect.begin() + 70005, expect.begin() + 70008, '\0');
    }
    std::unique_ptr<Storage> storage(std::shared_ptr<pw::storage::FileIo> io = nullptr) {
        auto s = std::make_unique<Storage>(files, total, dir.path, std::move(io));
        EXPECT_FALSE(s->write(0, data.data(), data.size()));
        return s;
    }
};

}  // namespace

TEST(SplicePipe, HoldsWhatItWasMadeFor) {
    auto p = SplicePipe::make(SplicePipe::slots_for(16, 256 * 1024));
    ASSERT_TRUE(p) << "a 256 KiB run of 16 blocks needs a pipe under fs.pipe-max-size";
    EXPECT_GE(static_cast<std::size_t>(::fcntl(p->write_fd(), F_GETPIPE_SZ)),
              SplicePipe::slots_for(16, 256 * 1024) * SplicePipe::page);
    EXPECT_TRUE(::fcntl(p->read_fd(), F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(p->write_fd(), F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(p->read_fd(), F_GETFD) & FD_CLOEXEC);
}

TEST(SplicePipe, AtMostMaxLiveAtOnce) {
    const int before = SplicePipe::live();
    std::vector<std::unique_ptr<SplicePipe>> held;
    while (auto p = SplicePipe::make(4)) {
        held.push_back(std::move(p));
        ASSERT_LE(held.size(), static_cast<std::size_t>(SplicePipe::max_live));
    }
    EXPECT_EQ(static_cast<int>(held.size()) + before, SplicePipe::max_live);
    EXPECT_EQ(SplicePipe::live(), SplicePipe::max_live);
    held.pop_back();  // closing one makes room for one
    EXPECT_TRUE(SplicePipe::make(4));
    held.clear();
    EXPECT_EQ(SplicePipe::live(), before);
}

TEST(SpliceTo, CarriesTheBytesAcrossFilesWithThePadAsZeros) {
    Layout l;
    auto s = l.storage();
    for (auto [off, len] : {std::pair<std::int64_t, std::size_t>{0, 110008},
                            {69990, 30},  // the end of a, all of b, the pad, c's start
                            {70008, 40000},
                            {12345, 1}}) {
        auto p = SplicePipe::make(SplicePipe::slots_for(1, len));
        ASSERT_TRUE(p);
        auto err = s->splice_to(off, len, p->write_fd());
        ASSERT_FALSE(err) << err.message();
        EXPECT_EQ(drain(*p), l.expect.substr(static_cast<std::size_t>(off), len)) << off;
    }
}

TEST(SpliceTo, AFileThatEndsEarlyIsAnErrorNamingIt) {
    Layout l;
    auto s = l.storage();
    fs::resize_file(l.dir.path / "t/c.bin", 1000);  // truncated behind our back
    auto p = SplicePipe::make(SplicePipe::slots_for(1, 40000));
    ASSERT_TRUE(p);
    auto err = s->splice_to(70008, 40000, p->write_fd());
    ASSERT_TRUE(err);
    EXPECT_EQ(err.ec, make_error_code(StorageErrc::unexpected_eof));
    EXPECT_EQ(err.operation, "read");
    EXPECT_EQ(err.file, (l.dir.path / "t/c.bin").string());
}

TEST(SpliceTo, OutOfRangeIsAnError) {
    Layout l;
    auto s = l.storage();
    auto p = SplicePipe::make(4);
    ASSERT_TRUE(p);
    EXPECT_EQ(s->splice_to(110000, 9, p->write_fd()).ec, make_error_code(StorageErrc::out_of_range));
    EXPECT_EQ(s->splice_to(-1, 2, p->write_fd()).ec, make_error_code(StorageErrc::out_of_range));
}

TEST(SpliceTo, AFullPipeMeansReadInstead) {
    Layout l;
    auto s = l.storage();
    auto p = SplicePipe::make(1);  // the smallest pipe: 16 pages by default, under 110,008 bytes
    ASSERT_TRUE(p);
    auto err = s->splice_to(0, 110008, p->write_fd());
    EXPECT_EQ(err.ec, make_error_code(StorageErrc::no_splice)) << err.message();
}

TEST(SpliceTo, AFileIoWithoutSpliceMeansReadInstead) {
    Layout l;
    auto io = std::make_shared<pw::test::FaultIo>();  // `splice` unset: refuses with ENOSYS
    auto s = l.storage(io);
    auto p = SplicePipe::make(SplicePipe::slots_for(1, 100));
    ASSERT_TRUE(p);
    EXPECT_EQ(s->splice_to(0, 100, p->write_fd()).ec, make_error_code(StorageErrc::no_splice));
}

TEST(SpliceTo, ShortSplicesAreCompletedAndErrorsReported) {
    Layout l;
    auto io = std::make_shared<pw::test::FaultIo>();
    io->splice = true;
    auto s = l.storage(io);
    using Op = pw::test::FaultIo::Op;
    // Every splice of a.bin moves at most 1,000 bytes: completed by calling again.
    auto short_rule = io->add({Op::read, "a.bin", 1, -1, 0, std::size_t{1000}});
    {
        auto p = SplicePipe::make(64);  // each short splice takes a slot of its own
        ASSERT_TRUE(p);
        auto err = s->splice_to(50000, 30000, p->write_fd());
        ASSERT_FALSE(err) << err.message();
        EXPECT_EQ(drain(*p), l.expect.substr(50000, 30000));
        EXPECT_GE(io->fired(short_rule), 20);
    }
    io->clear();
    // An I/O error on c.bin: reported with its file.
    io->add({Op::read, "c.bin", 1, 1, EIO});
    auto p = SplicePipe::make(SplicePipe::slots_for(1, 30000));
    ASSERT_TRUE(p);
    auto err = s->splice_to(69990, 30000, p->write_fd());
    ASSERT_TRUE(err);
    EXPECT_EQ(err.ec, std::errc::io_error);
    EXPECT_EQ(err.file, (l.dir.path / "t/c.bin").string());
}
