// `create --format v2|hybrid` (BEP 52, BEP 47): the files libtorrent 2.0.8 hashed for
// tests/unit/data/v2/multi_*.torrent give the same info-hashes here (same info dictionary
// byte for byte), and the result verifies piece by piece.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "meta/creator.hpp"
#include "meta/metainfo.hpp"
#include "meta/piece_hasher.hpp"

namespace pw::meta {
namespace {

namespace fs = std::filesystem;

std::string data(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed * 13) % 251);
    return s;
}

class CreatorV2 : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("pw-creator-v2-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        const std::pair<const char*, std::size_t> files[] = {
            {"a/empty.bin", 0}, {"a/small.bin", 1000}, {"b.bin", 16384},
            {"c.bin", 40000},   {"d.bin", 100000},     {"e.bin", 65536}};
        int seed = 0;
        for (auto [path, size] : files) {
            fs::path p = root_ / "multi" / path;
            fs::create_directories(p.parent_path());
            std::string d = data(size, seed++);
            std::ofstream(p, std::ios::binary)
                .write(d.data(), static_cast<std::streamsize>(d.size()));
        }
    }
    void TearDown() override { fs::remove_all(root_); }

    Metainfo make(Format f, std::int64_t piece = 32768) {
        CreateOptions o;
        o.piece_size = piece;
        o.creation_date = 0;
        o.threads = 3;
        o.format = f;
        return parse(create_torrent(root_ / "multi", o));
    }

    // Every piece of the torrent, read back from the files through its own layout.
    void expect_verifies(const Metainfo& m) {
        std::string stream(static_cast<std::size_t>(m.total_size), '\0');
        for (const auto& f : m.files) {
            if (f.pad || f.length == 0) continue;
            std::ifstream in(root_ / f.path, std::ios::binary);
            in.read(stream.data() + f.offset, f.length);
        }
        for (int p = 0; p < m.num_pieces(); ++p)
            EXPECT_TRUE(piece_matches(
                m, p,
                std::string_view(stream).substr(static_cast<std::size_t>(p * m.piece_length),
                                                static_cast<std::size_t>(m.piece_size(p)))))
                << p;
    }

    fs::path root_;
};

TEST_F(CreatorV2, V2OnlyMatchesLibtorrent) {
    Metainfo m = make(Format::v2);
    EXPECT_EQ(m.format, Format::v2);
    EXPECT_EQ(m.info_hash_v2->hex(),
              "adc579a98ace7c26ed6c08f39fb28d743f86d8d19f4d86024ec8cef2f5792582");
    expect_verifies(m);
}

TEST_F(CreatorV2, HybridMatchesLibtorrent) {
    Metainfo m = make(Format::hybrid);
    EXPECT_EQ(m.format, Format::hybrid);
    EXPECT_EQ(m.info_hash.hex(), "11e99ff2c5352dfe4bd2f0a9642aabe003a5c21b");
    EXPECT_EQ(m.info_hash_v2->hex(),
              "e5d207cda4d82e1f63ab4ff70615996a95ea28378b3f63938e6ca1af1e41843f");
    expect_verifies(m);
}

TEST_F(CreatorV2, SingleFileAndPieceSizes) {
    CreateOptions o;
    o.creation_date = 0;
    o.format = Format::v2;
    o.piece_size = 16384;
    Metainfo m = parse(create_torrent(root_ / "multi" / "d.bin", o));
    EXPECT_FALSE(m.multi_file);
    EXPECT_EQ(m.num_pieces(), 7);
    o.piece_size = 20000;
    EXPECT_THROW(create_torrent(root_ / "multi" / "d.bin", o), std::runtime_error);
    expect_verifies(make(Format::v2, 1 << 20));  // every file smaller than a piece
    expect_verifies(make(Format::hybrid, 16384));
}

}  // namespace
}  // namespace pw::meta
