// The daemon's SQLite state: round trip, schema version, damaged files.
#include "daemon/state/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using pw::daemon::state::Store;
using pw::daemon::state::StoreError;
using pw::daemon::state::TorrentRow;

namespace {

struct StoreTest : ::testing::Test {
    fs::path dir;
    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-store-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    std::string db() const { return (dir / "state.sqlite").string(); }
};

TorrentRow row(const std::string& hash, bool paused) {
    TorrentRow r;
    r.info_hash = hash;
    r.torrent = std::string(
        "d4:info\0\xff"
        "e",
        10);  // binary-safe
    r.download_dir = "/data/dl";
    r.paused = paused;
    r.added_date = 1700000000;
    return r;
}

}  // namespace

TEST_F(StoreTest, RoundTripKeepsOrderAndFields) {
    {
        Store s(db());
        EXPECT_TRUE(s.load().empty());
        s.put(row("bb", false));
        s.put(row("aa", true));
        auto m = row("cc", false);
        m.torrent.clear();
        m.magnet = "magnet:?xt=urn:btih:cc";
        s.put(m);
        s.set_paused("bb", true);
        s.set_torrent("cc", "d4:infoe");
        s.remove("aa");
    }
    Store s(db());
    auto rows = s.load();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].info_hash, "bb");
    EXPECT_TRUE(rows[0].paused);
    EXPECT_EQ(rows[0].torrent, row("bb", false).torrent);
    EXPECT_EQ(rows[0].download_dir, "/data/dl");
    EXPECT_EQ(rows[0].added_date, 1700000000);
    EXPECT_EQ(rows[1].info_hash, "cc");
    EXPECT_EQ(rows[1].magnet, "magnet:?xt=urn:btih:cc");
    EXPECT_EQ(rows[1].torrent, "d4:infoe");
    EXPECT_LT(rows[0].position, rows[1].position);
}

TEST_F(StoreTest, UsesWalAndRecordsTheSchemaVersion) {
    { Store s(db()); }
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db().c_str(), &h), SQLITE_OK);
    auto one = [&](const char* sql) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(h, sql, -1, &st, nullptr);
        sqlite3_step(st);
        std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return v;
    };
    EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(one("PRAGMA user_version"), std::to_string(pw::daemon::state::schema_version));
    sqlite3_exec(h, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
    sqlite3_close(h);
    try {
        Store s(db());
        FAIL() << "a newer schema was accepted";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
    }
}

TEST_F(StoreTest, NotADatabaseIsAClearErrorAndIsLeftAlone) {
    std::string junk(8192, 'x');
    std::ofstream(db(), std::ios::binary) << junk;
    try {
        Store s(db());
        FAIL() << "garbage was accepted";
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("state.sqlite"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not a database"), std::string::npos) << e.what();
    }
    std::ifstream in(db(), std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), junk);
}

TEST_F(StoreTest, TornFileIsAClearError) {
    {
        Store s(db());
        for (int i = 0; i < 200; ++i) s.put(row("h" + std::to_string(i), false));
    }
    // Checkpointed into the main file on close; now tear it: keep the header page only
    // and scribble over the rest.
    auto size = fs::file_size(db());
    ASSERT_GT(size, 8192u);
    {
        std::fstream f(db(), std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(4096);
        std::string junk(size - 4096, '\x5a');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    EXPECT_THROW(
        {
            Store s(db());
            s.load();
        },
        StoreError);
}
