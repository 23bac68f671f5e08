// The full data check: exactly the intact pieces are found, whatever the thread count,
// with missing, short and corrupt files, pad files and pieces larger than one read.
#include "storage/checker.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>

#include "crypto/sha1.hpp"

namespace fs = std::filesystem;
using pw::meta::FileEntry;
using pw::meta::Metainfo;
using pw::storage::CheckProgress;
using pw::storage::Storage;

namespace {

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> n{0};
        path_ = fs::temp_directory_path() /
                ("pw-checker-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
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

// A torrent over random content (zeros in pad files), its data written under `root`.
struct Fixture {
    Metainfo m;
    std::string stream;
    std::unique_ptr<Storage> storage;

    Fixture(const std::vector<Spec>& specs, std::int64_t piece_length, const fs::path& root) {
        std::int64_t pos = 0;
        for (const auto& s : specs) {
            m.files.push_back({s.path, s.length, pos, s.pad});
            pos += s.length;
        }
        m.total_size = pos;
        m.piece_length = piece_length;
        std::mt19937_64 rng(7);
        stream.resize(static_cast<std::size_t>(pos));
        for (auto& c : stream) c = static_cast<char>(rng());
        for (const auto& f : m.files)
            if (f.pad) std::fill_n(stream.begin() + f.offset, f.length, '\0');
        for (std::int64_t off = 0; off < pos; off += piece_length)
            m.piece_hashes.push_back(pw::crypto::sha1(std::string_view(stream).substr(
                static_cast<std::size_t>(off), static_cast<std::size_t>(piece_length))));
        storage = std::make_unique<Storage>(m.files, m.total_size, root);
        auto err = storage->write(0, stream.data(), stream.size());
        if (err) ADD_FAILURE() << err.message();
        storage->close_all();
    }

    std::int64_t piece_end(int p) const { return std::min(m.total_size, (p + 1) * m.piece_length); }
    // Pieces that contain no byte of [begin, end) of the stream.
    std::vector<bool> untouched_by(std::int64_t begin, std::int64_t end) const {
        std::vector<bool> out;
        for (int p = 0; p < m.num_pieces(); ++p)
            out.push_back(piece_end(p) <= begin || p * m.piece_length >= end);
        return out;
    }
};

void flip_byte(const fs::path& file, std::int64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(offset);
    char c = 0;
    f.get(c);
    f.seekp(offset);
    f.put(static_cast<char>(c ^ 0x40));
}

std::vector<bool> operator&&(const std::vector<bool>& a, const std::vector<bool>& b) {
    std::vector<bool> out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] && b[i];
    return out;
}

int count(const std::vector<bool>& v) {
    return static_cast<int>(std::count(v.begin(), v.end(), true));
}

// Files of odd sizes with empty files, a pad file, and pieces spanning three files.
const std::vector<Spec> kSpecs = {
    {"t/a.bin", 40000}, {"t/empty", 0},     {"t/b.bin", 5000},
    {"t/c.bin", 9000},  {"t/d.bin", 50000}, {".pad/10688", 10688, true},
    {"t/e.bin", 30000}, {"t/empty2", 0},
};

}  // namespace

TEST(CheckerTest, IntactDataIsAllHave) {
    TempDir dir;
    Fixture fx(kSpecs, 16384, dir.path());
    ASSERT_FALSE(fs::exists(dir.path() / ".pad"));
    for (unsigned threads : {1u, 3u, 0u}) {
        CheckProgress progress;
        auto have = pw::storage::check_pieces(fx.m, *fx.storage, threads, &progress);
        ASSERT_EQ(have.size(), static_cast<std::size_t>(fx.m.num_pieces()));
        EXPECT_EQ(count(have), fx.m.num_pieces()) << threads;
        EXPECT_EQ(progress.pieces_done.load(), fx.m.num_pieces());
    }
}

TEST(CheckerTest, FindsExactlyTheIntactPieces) {
    TempDir dir;
    Fixture fx(kSpecs, 16384, dir.path());
    const auto& f = fx.m.files;
    // Corrupt one byte in b.bin (in a piece spanning a, b and c) and one in d.bin;
    // truncate e.bin to 20000 of its 30000 bytes: its first piece is still whole.
    flip_byte(dir.path() / "t/b.bin", 100);
    flip_byte(dir.path() / "t/d.bin", 20000);
    fs::resize_file(dir.path() / "t/e.bin", 20000);

    auto expect = fx.untouched_by(f[2].offset + 100, f[2].offset + 101) &&
                  fx.untouched_by(f[4].offset + 20000, f[4].offset + 20001) &&
                  fx.untouched_by(f[6].offset + 20000, fx.m.total_size);
    ASSERT_EQ(count(expect), fx.m.num_pieces() - 3);  // the test itself is meaningful
    ASSERT_TRUE(expect[7]);                           // e.bin's intact first piece
    for (unsigned threads : {1u, 2u, 4u}) {
        auto have = pw::storage::check_pieces(fx.m, *fx.storage, threads);
        EXPECT_EQ(have, expect) << threads;
    }
}

TEST(CheckerTest, MissingFileAndMissingEmptyFile) {
    TempDir dir;
    Fixture fx(kSpecs, 16384, dir.path());
    fs::remove(dir.path() / "t/c.bin");
    const auto& f = fx.m.files;
    auto expect = fx.untouched_by(f[3].offset, f[3].offset + f[3].length);
    auto have = pw::storage::check_pieces(fx.m, *fx.storage, 2);
    EXPECT_EQ(have, expect);
    EXPECT_FALSE(fs::exists(dir.path() / "t/c.bin"));  // checking never creates files
    // Nothing on disk at all.
    fs::remove_all(dir.path() / "t");
    have = pw::storage::check_pieces(fx.m, *fx.storage, 2);
    EXPECT_EQ(count(have), 0);
}

TEST(CheckerTest, LongerFileStillChecksItsPrefix) {
    TempDir dir;
    Fixture fx({{"x/one", 30000}, {"x/two", 30000}}, 16384, dir.path());
    { std::ofstream(dir.path() / "x/one", std::ios::app) << "extra bytes"; }
    auto have = pw::storage::check_pieces(fx.m, *fx.storage, 1);
    EXPECT_EQ(count(have), fx.m.num_pieces());
}

TEST(CheckerTest, PiecesLargerThanOneReadAndManyChunks) {
    TempDir dir;
    // 6 MiB pieces: each is hashed across several 4 MiB reads.
    Fixture big({{"b/1", 9 << 20}, {"b/2", (5 << 20) + 123}}, 6 << 20, dir.path() / "big");
    flip_byte(dir.path() / "big/b/2", 3 << 20);  // in piece 2 (bytes 12..18 MiB)
    auto have = pw::storage::check_pieces(big.m, *big.storage, 2);
    EXPECT_EQ(have, (std::vector<bool>{true, true, false}));

    // 512 KiB pieces: 32 per chunk, so three chunks share the threads.
    Fixture many({{"m/1", 20 << 20}, {"m/2", 3 << 20}, {"m/3", (17 << 20) + 5}}, 512 << 10,
                 dir.path() / "many");
    flip_byte(dir.path() / "many/m/3", (10 << 20) + 1);
    const auto& f = many.m.files;
    auto expect = many.untouched_by(f[2].offset + (10 << 20) + 1, f[2].offset + (10 << 20) + 2);
    CheckProgress progress;
    have = pw::storage::check_pieces(many.m, *many.storage, 3, &progress);
    EXPECT_EQ(have, expect);
    EXPECT_EQ(count(have), many.m.num_pieces() - 1);
    EXPECT_EQ(progress.pieces_done.load(), many.m.num_pieces());
}

TEST(CheckerTest, CancelAndDegenerateInput) {
    TempDir dir;
    Fixture fx(kSpecs, 16384, dir.path());
    CheckProgress progress;
    progress.cancel = true;
    auto have = pw::storage::check_pieces(fx.m, *fx.storage, 2, &progress);
    EXPECT_EQ(have.size(), static_cast<std::size_t>(fx.m.num_pieces()));
    EXPECT_EQ(count(have), 0);
    EXPECT_EQ(progress.pieces_done.load(), 0);

    Metainfo bad = fx.m;
    bad.piece_length = 0;
    EXPECT_EQ(count(pw::storage::check_pieces(bad, *fx.storage, 1)), 0);
    bad = fx.m;
    bad.piece_hashes.push_back({});  // a piece past the end of the data
    have = pw::storage::check_pieces(bad, *fx.storage, 1);
    EXPECT_EQ(count(have), fx.m.num_pieces());
    EXPECT_FALSE(have.back());
}

TEST(CheckerTest, KnownPiecesAreTakenAsGivenAndOnlyTheOthersRead) {
    TempDir dir;
    Fixture fx(kSpecs, 16384, dir.path());
    const int n = fx.m.num_pieces();
    ASSERT_GE(n, 6);
    // Corrupt piece 1 and piece 4. Piece 1 is "known have" (not read, so still have),
    // piece 4 is to be checked (found bad), piece 2 is "known not have" though intact.
    flip_byte(dir.path() / "t/a.bin", 16384 + 5);
    const auto& f = fx.m.files;
    const std::int64_t at4 = 4 * 16384 + 10;
    ASSERT_EQ(f[4].path, "t/d.bin");
    ASSERT_GE(at4, f[4].offset);
    flip_byte(dir.path() / "t/d.bin", at4 - f[4].offset);
    std::vector<signed char> known(static_cast<std::size_t>(n), -1);
    known[1] = 1;
    known[2] = 0;
    for (unsigned threads : {1u, 2u}) {
        CheckProgress progress;
        auto have = pw::storage::check_pieces(fx.m, *fx.storage, threads, &progress, &known);
        ASSERT_EQ(have.size(), static_cast<std::size_t>(n));
        EXPECT_TRUE(have[0]);
        EXPECT_TRUE(have[1]) << "a known piece is not read";
        EXPECT_FALSE(have[2]) << "a known missing piece is not read";
        EXPECT_TRUE(have[3]);
        EXPECT_FALSE(have[4]) << "a piece to check is read";
        EXPECT_EQ(count(have), n - 2);
        EXPECT_EQ(progress.pieces_done.load(), n);
    }
}
