// Torrent creation (BEP 3, 12, 27): create -> parse round trips with independently
// computed piece hashes, pieces spanning files, determinism, auto piece size, and
// cross-checks against mktorrent and libtorrent when they are installed.
#include "meta/creator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "bencode/bencode.hpp"
#include "meta/metainfo.hpp"

namespace pw::meta {
namespace {

namespace fs = std::filesystem;

class CreatorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() /
                ("pw-creator-test-" + std::to_string(::getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(root_);
    }
    void TearDown() override { fs::remove_all(root_); }

    // Writes `size` pseudo-random bytes (seeded) and returns them.
    std::string write(const fs::path& rel, std::size_t size, unsigned seed) {
        fs::path p = root_ / rel;
        fs::create_directories(p.parent_path());
        std::mt19937 rng(seed);
        std::string data(size, '\0');
        for (auto& c : data) c = static_cast<char>(rng());
        std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(size));
        return data;
    }

    static CreateOptions fixed_options(std::int64_t piece) {
        CreateOptions o;
        o.piece_size = piece;
        o.creation_date = 0;
        o.created_by = "test";
        o.threads = 2;
        return o;
    }

    static void expect_hashes(const Metainfo& m, const std::string& payload) {
        ASSERT_EQ(m.total_size, static_cast<std::int64_t>(payload.size()));
        std::int64_t n = (m.total_size + m.piece_length - 1) / m.piece_length;
        ASSERT_EQ(m.num_pieces(), n);
        for (int i = 0; i < m.num_pieces(); ++i) {
            auto chunk =
                std::string_view(payload).substr(static_cast<std::size_t>(i * m.piece_length),
                                                 static_cast<std::size_t>(m.piece_size(i)));
            EXPECT_EQ(m.piece_hashes[static_cast<std::size_t>(i)], crypto::sha1(chunk))
                << "piece " << i;
        }
    }

    fs::path root_;
};

TEST(AutoPieceSize, PowersOfTwoAimingAtAThousandPieces) {
    EXPECT_EQ(auto_piece_size(0), 16 << 10);
    EXPECT_EQ(auto_piece_size(1), 16 << 10);
    EXPECT_EQ(auto_piece_size(10 << 20), 16 << 10);
    EXPECT_EQ(auto_piece_size(1ll << 30), 1 << 20);
    EXPECT_EQ(auto_piece_size(4ll << 30), 4 << 20);
    EXPECT_EQ(auto_piece_size(1ll << 40), 16 << 20);
    for (std::int64_t size = 64ll << 20; size <= 16ll << 30; size = size * 3 / 2) {
        std::int64_t ps = auto_piece_size(size);
        EXPECT_EQ(ps & (ps - 1), 0) << size;
        std::int64_t pieces = (size + ps - 1) / ps;
        EXPECT_GE(pieces, 1000) << size;
        EXPECT_LE(pieces, 2001) << size;
    }
}

TEST_F(CreatorTest, SingleFileRoundTrip) {
    std::string data = write("payload.bin", 100000, 1);
    CreateOptions o = fixed_options(16384);
    o.trackers = {"http://127.0.0.1:6969/announce"};
    o.comment = "a comment";
    std::string t = create_torrent(root_ / "payload.bin", o);
    Metainfo m = parse(t);
    EXPECT_EQ(m.name, "payload.bin");
    EXPECT_FALSE(m.multi_file);
    EXPECT_EQ(m.piece_length, 16384);
    expect_hashes(m, data);
    ASSERT_EQ(m.trackers.size(), 1u);
    EXPECT_EQ(m.trackers[0][0], "http://127.0.0.1:6969/announce");
    EXPECT_EQ(m.comment, "a comment");
    EXPECT_EQ(m.created_by, "test");
    EXPECT_EQ(m.creation_date, 0);
    EXPECT_FALSE(m.is_private);
    auto doc = bencode::decode(t);
    EXPECT_FALSE(doc.root().find("announce-list"));
    EXPECT_FALSE(doc.root().find("creation date"));
    EXPECT_FALSE(doc.root().find("info").find("private"));
    EXPECT_FALSE(doc.root().find("url-list"));
}

TEST_F(CreatorTest, WebSeedsWritten) {
    write("payload.bin", 40000, 2);
    CreateOptions o = fixed_options(16384);
    o.web_seeds = {"http://127.0.0.1:8080/payload.bin"};
    Metainfo one = parse(create_torrent(root_ / "payload.bin", o));
    EXPECT_EQ(one.url_list, o.web_seeds);
    const std::string t1 = create_torrent(root_ / "payload.bin", o);  // the document views it
    auto doc1 = bencode::decode(t1);
    EXPECT_TRUE(doc1.root().find("url-list").is_string());  // one URL: the plain BEP 19 form
    o.web_seeds = {"http://127.0.0.1:8080/", "https://127.0.0.1:8443/mirror/"};
    Metainfo two = parse(create_torrent(root_ / "payload.bin", o));
    EXPECT_EQ(two.url_list, o.web_seeds);
}

TEST_F(CreatorTest, DeterministicAcrossThreadCounts) {
    write("d/a", 70000, 2);
    write("d/b/c", 12345, 3);
    CreateOptions o = fixed_options(16384);
    o.threads = 1;
    std::string one = create_torrent(root_ / "d", o);
    o.threads = 4;
    EXPECT_EQ(create_torrent(root_ / "d", o), one);
    o.threads = 0;
    EXPECT_EQ(create_torrent(root_ / "d/", o), one);
}

TEST_F(CreatorTest, MultiFilePiecesSpanFiles) {
    // Sorted order: ".hidden", "a", "sub/b" (empty), "sub/c", "z".
    std::string a = write("t/a", 10000, 4);
    std::string hidden = write("t/.hidden", 5, 5);
    write("t/sub/b", 0, 6);
    std::string c = write("t/sub/c", 30000, 7);
    std::string z = write("t/z", 16384, 8);
    CreateOptions o = fixed_options(16384);
    o.is_private = true;
    o.trackers = {"http://127.0.0.1/1", "udp://127.0.0.1:2", "http://127.0.0.1/3"};
    Metainfo m = parse(create_torrent(root_ / "t", o));
    EXPECT_TRUE(m.multi_file);
    EXPECT_TRUE(m.is_private);
    EXPECT_EQ(m.name, "t");
    std::vector<std::pair<std::string, std::int64_t>> files;
    for (auto& f : m.files) files.emplace_back(f.path, f.length);
    EXPECT_EQ(
        files,
        (std::vector<std::pair<std::string, std::int64_t>>{
            {"t/.hidden", 5}, {"t/a", 10000}, {"t/sub/b", 0}, {"t/sub/c", 30000}, {"t/z", 16384}}));
    expect_hashes(m, hidden + a + c + z);
    ASSERT_EQ(m.trackers.size(), 3u);
    EXPECT_EQ(m.trackers[1], std::vector<std::string>{"udp://127.0.0.1:2"});
}

TEST_F(CreatorTest, SymlinkedDirectoriesNotFollowed) {
    write("outside/secret", 100, 9);
    std::string in = write("t/in", 100, 10);
    fs::create_directory_symlink(root_ / "outside", root_ / "t" / "link");
    Metainfo m = parse(create_torrent(root_ / "t", fixed_options(16384)));
    ASSERT_EQ(m.files.size(), 1u);
    EXPECT_EQ(m.files[0].path, "t/in");
    expect_hashes(m, in);
}

TEST_F(CreatorTest, ProgressReportsAllPieces) {
    write("p.bin", 16384 * 10 + 1, 11);
    CreateOptions o = fixed_options(16384);
    std::vector<std::pair<std::int64_t, std::int64_t>> calls;
    o.progress = [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); };
    create_torrent(root_ / "p.bin", o);
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back(), std::make_pair(std::int64_t{11}, std::int64_t{11}));
    for (std::size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i].first, calls[i - 1].first);
}

TEST_F(CreatorTest, AutoPieceSizeUsed) {
    write("small", 1000, 12);
    CreateOptions o = fixed_options(0);
    EXPECT_EQ(parse(create_torrent(root_ / "small", o)).piece_length, 16384);
}

TEST_F(CreatorTest, Errors) {
    write("empty", 0, 13);
    fs::create_directories(root_ / "emptydir" / "sub");
    write("zeros/a", 0, 14);
    EXPECT_THROW(create_torrent(root_ / "empty", fixed_options(0)), std::runtime_error);
    EXPECT_THROW(create_torrent(root_ / "emptydir", fixed_options(0)), std::runtime_error);
    EXPECT_THROW(create_torrent(root_ / "zeros", fixed_options(0)), std::runtime_error);
    EXPECT_THROW(create_torrent(root_ / "missing", fixed_options(0)), std::runtime_error);
    write("x", 10, 15);
    EXPECT_THROW(create_torrent(root_ / "x", fixed_options(-5)), std::runtime_error);
    try {
        create_torrent(root_ / "empty", fixed_options(0));
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no data"), std::string::npos) << e.what();
    }
}

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST_F(CreatorTest, SameInfoHashAsMktorrent) {
    if (::access("/usr/bin/mktorrent", X_OK) != 0) GTEST_SKIP() << "mktorrent not installed";
    write("m/one.bin", 100000, 16);
    write("m/sub/two.bin", 50000, 17);
    write("m/three", 1, 18);
    write("single.bin", 300000, 19);
    for (const char* target : {"m", "single.bin"}) {
        fs::path out = root_ / (std::string(target) + ".mk.torrent");
        std::string cmd = "/usr/bin/mktorrent -l 15 -a http://127.0.0.1/announce -o '" +
                          out.string() + "' '" + (root_ / target).string() + "' >/dev/null 2>&1";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
        Metainfo theirs = parse(read_file(out));
        Metainfo ours = parse(create_torrent(root_ / target, fixed_options(1 << 15)));
        EXPECT_EQ(ours.info_hash.hex(), theirs.info_hash.hex()) << target;
        EXPECT_EQ(ours.info_bytes, theirs.info_bytes) << target;
    }
}

TEST_F(CreatorTest, LibtorrentAgrees) {
    if (std::system("/usr/bin/python3 -c 'import libtorrent' >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "python3-libtorrent not installed";
    write("lt/a.bin", 40000, 20);
    write("lt/b/c.bin", 20000, 21);
    CreateOptions o = fixed_options(16384);
    o.trackers = {"http://127.0.0.1/a", "http://127.0.0.1/b"};
    std::string t = create_torrent(root_ / "lt", o);
    Metainfo ours = parse(t);
    fs::path file = root_ / "lt.torrent";
    std::ofstream(file, std::ios::binary) << t;
    fs::path script = root_ / "check.py";
    std::ofstream(script)
        << "import libtorrent as lt, sys\n"
           "ti = lt.torrent_info(sys.argv[1])\n"
           "fs = ti.files()\n"
           "print(str(ti.info_hashes().v1), ti.num_pieces(), ti.total_size(),\n"
           "      ','.join(fs.file_path(i).replace('\\\\', '/') for i in range(fs.num_files())),\n"
           "      len(list(ti.trackers())))\n";
    fs::path result = root_ / "result.txt";
    std::string cmd = "/usr/bin/python3 '" + script.string() + "' '" + file.string() + "' > '" +
                      result.string() + "' 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(result);
    std::string expected = ours.info_hash.hex() + " " + std::to_string(ours.num_pieces()) + " " +
                           std::to_string(ours.total_size) + " lt/a.bin,lt/b/c.bin 2\n";
    EXPECT_EQ(read_file(result), expected);
}

}  // namespace
}  // namespace pw::meta
