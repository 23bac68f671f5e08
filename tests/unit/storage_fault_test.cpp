// Storage under injected faults (tests/support/fault_io.hpp): a failed write or read is
// one error naming the file, the operation and the errno; short transfers are completed;
// a transfer of 0 bytes is an error, never silently accepted; the Nth call fails and the
// others do not.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>

#include "../support/fault_io.hpp"
#include "crypto/sha1.hpp"
#include "storage/checker.hpp"
#include "storage/storage.hpp"

namespace fs = std::filesystem;
using pw::storage::Storage;
using pw::storage::StorageErrc;
using pw::test::FaultIo;

namespace {

class FaultTest : public ::testing::Test {
  protected:
    void SetUp() override {
        static std::atomic<int> n{0};
        root_ = fs::temp_directory_path() /
                ("pw-storage-fault-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(root_);
        fs::create_directories(root_);
        io_ = std::make_shared<FaultIo>();
        // Two files of 100 and 60 bytes: the stream's bytes 0..99 and 100..159.
        st_ =
            std::make_unique<Storage>(std::vector<pw::meta::FileEntry>{{"d/a.bin", 100, 0, false},
                                                                       {"d/b.bin", 60, 100, false}},
                                      160, root_, io_);
        data_.resize(160);
        std::mt19937 rng(7);
        for (auto& c : data_) c = static_cast<char>(rng());
    }
    void TearDown() override {
        st_.reset();
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    fs::path root_;
    std::shared_ptr<FaultIo> io_;
    std::unique_ptr<Storage> st_;
    std::string data_;
};

TEST_F(FaultTest, WriteErrorNamesFileOperationAndErrno) {
    for (int e : {ENOSPC, EIO, EACCES, EROFS}) {
        io_->clear();
        io_->add({.op = FaultIo::Op::write, .path_contains = "b.bin", .error = e});
        auto err = st_->write(0, data_.data(), data_.size());
        ASSERT_TRUE(err) << e;
        EXPECT_EQ(err.ec, std::error_code(e, std::system_category()));
        EXPECT_EQ(err.operation, "write");
        EXPECT_EQ(err.file, (root_ / "d/b.bin").string());
        EXPECT_EQ(err.message(), "write " + (root_ / "d/b.bin").string() + ": " + std::strerror(e));
    }
    // a.bin, before the failing file, was written; the fault cleared, all goes through.
    io_->clear();
    EXPECT_FALSE(st_->write(0, data_.data(), data_.size()));
    std::string back(160, '\0');
    EXPECT_FALSE(st_->read(0, back.data(), back.size()));
    EXPECT_EQ(back, data_);
}

TEST_F(FaultTest, FailsOnlyTheNthWrite) {
    auto rule = io_->add({.op = FaultIo::Op::write, .nth = 3, .error = ENOSPC});
    EXPECT_FALSE(st_->write(0, data_.data(), 10));
    EXPECT_FALSE(st_->write(10, data_.data() + 10, 10));
    auto err = st_->write(20, data_.data() + 20, 10);
    EXPECT_EQ(err.ec, std::error_code(ENOSPC, std::system_category()));
    EXPECT_FALSE(st_->write(30, data_.data() + 30, 10));
    EXPECT_EQ(io_->fired(rule), 1);
    EXPECT_EQ(io_->calls(FaultIo::Op::write), 4);
}

TEST_F(FaultTest, OpenErrorIsReportedAsOpen) {
    io_->add({.op = FaultIo::Op::open, .path_contains = "a.bin", .error = EACCES});
    auto err = st_->write(0, data_.data(), 10);
    EXPECT_EQ(err.operation, "open");
    EXPECT_EQ(err.file, (root_ / "d/a.bin").string());
    EXPECT_EQ(err.ec, std::error_code(EACCES, std::system_category()));
}

TEST_F(FaultTest, ShortWritesAndReadsAreCompleted) {
    // 7 bytes per call: every transfer takes many calls, all completed by Storage.
    io_->add({.op = FaultIo::Op::write, .count = -1, .max_bytes = 7});
    io_->add({.op = FaultIo::Op::read, .count = -1, .max_bytes = 7});
    EXPECT_FALSE(st_->write(0, data_.data(), data_.size()));
    EXPECT_GE(io_->calls(FaultIo::Op::write), 160 / 7);
    std::string back(160, '\0');
    EXPECT_FALSE(st_->read(0, back.data(), back.size()));
    EXPECT_EQ(back, data_);
}

TEST_F(FaultTest, ZeroByteTransfersAreErrors) {
    ASSERT_FALSE(st_->write(0, data_.data(), data_.size()));
    // A write that moves nothing would loop forever or be taken as done: it is EIO.
    io_->add({.op = FaultIo::Op::write, .nth = 1, .max_bytes = 0});
    auto err = st_->write(0, data_.data(), 50);
    EXPECT_EQ(err.ec, std::error_code(EIO, std::system_category()));
    EXPECT_EQ(err.operation, "write");
    // A read that comes back with nothing (a file truncated behind our back) is an error,
    // and the buffer is never handed out as data.
    io_->add({.op = FaultIo::Op::read, .nth = 2, .max_bytes = 0});
    std::string back(160, '\0');
    EXPECT_FALSE(st_->read(0, back.data(), 40));  // read call 1
    err = st_->read(0, back.data(), 40);          // read call 2: nothing comes back
    EXPECT_EQ(err.ec, make_error_code(StorageErrc::unexpected_eof));
    EXPECT_EQ(err.operation, "read");
    EXPECT_EQ(err.message(), "read " + (root_ / "d/a.bin").string() + ": unexpected end of file");
}

TEST_F(FaultTest, ReadErrorsNameTheFile) {
    ASSERT_FALSE(st_->write(0, data_.data(), data_.size()));
    io_->add({.op = FaultIo::Op::read, .path_contains = "b.bin", .count = -1, .error = EIO});
    std::string back(160, '\0');
    EXPECT_FALSE(st_->read(0, back.data(), 100));  // a.bin only
    auto err = st_->read(90, back.data(), 20);     // spans into b.bin
    EXPECT_EQ(err.file, (root_ / "d/b.bin").string());
    EXPECT_EQ(err.ec, std::error_code(EIO, std::system_category()));
}

TEST_F(FaultTest, CheckTreatsUnreadablePiecesAsMissing) {
    ASSERT_FALSE(st_->write(0, data_.data(), data_.size()));
    pw::meta::Metainfo m;
    m.piece_length = 40;
    m.total_size = 160;
    m.files = st_->files();
    for (int p = 0; p < 4; ++p)
        m.piece_hashes.push_back(pw::crypto::sha1(std::string_view(data_.data() + p * 40, 40)));
    // Reads of b.bin fail: pieces 2 (bytes 80..119) and 3 cannot be vouched for.
    io_->add({.op = FaultIo::Op::read, .path_contains = "b.bin", .count = -1, .error = EIO});
    auto have = pw::storage::check_pieces(m, *st_, 1);
    EXPECT_EQ(have, (std::vector<bool>{true, true, false, false}));
    io_->clear();
    have = pw::storage::check_pieces(m, *st_, 1);
    EXPECT_EQ(have, (std::vector<bool>{true, true, true, true}));
}

TEST_F(FaultTest, DelaySlowsTheCall) {
    io_->add({.op = FaultIo::Op::write, .delay = std::chrono::milliseconds(100)});
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(st_->write(0, data_.data(), 10));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
}

}  // namespace
