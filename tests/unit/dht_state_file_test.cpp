// The DHT state file: reads bounded in size, writes on the writer's own thread, the
// latest snapshot winning, finish() waiting for the last write, errors reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "dht/node_id.hpp"
#include "dht/state_file.hpp"

using namespace pw::dht;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path =
        fs::temp_directory_path() / ("pw-dht-state-" + random_node_id().hex().substr(0, 10));
    TempDir() { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(DhtStateFile, ReadIsBoundedAndMissingFileIsNullopt) {
    TempDir d;
    auto p = (d.path / "s").string();
    EXPECT_FALSE(read_state_file(p, 100).has_value());
    std::ofstream(p, std::ios::binary) << std::string(101, 'x');
    EXPECT_FALSE(read_state_file(p, 100).has_value());
    auto got = read_state_file(p, 101);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, std::string(101, 'x'));
}

TEST(DhtStateFile, FinishWritesTheLatestSnapshotOffTheCallersThread) {
    TempDir d;
    auto p = d.path / "dht.state";
    std::vector<std::string> errors;
    {
        StateFileWriter w(p.string(), [&](std::string e) { errors.push_back(std::move(e)); });
        for (int i = 0; i < 50; ++i) w.save("snapshot " + std::to_string(i));
        w.finish();
        EXPECT_GE(w.writes(), 1u);
        EXPECT_LE(w.writes(), 50u);  // snapshots not started yet are replaced
        EXPECT_EQ(slurp(p), "snapshot 49");
        w.save("after finish");  // dropped
        w.finish();
    }
    EXPECT_EQ(slurp(p), "snapshot 49");
    EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
    EXPECT_TRUE(errors.empty());
}

TEST(DhtStateFile, DestructorWaitsForTheQueuedWrite) {
    TempDir d;
    auto p = d.path / "dht.state";
    {
        StateFileWriter w(p.string(), nullptr);
        w.save(std::string(64 * 1024, 'n'));
    }
    EXPECT_EQ(fs::file_size(p), 64u * 1024u);
}

TEST(DhtStateFile, UnwritablePathIsReportedFromTheWriterThread) {
    TempDir d;
    auto p = d.path / "missing-dir" / "dht.state";
    std::vector<std::string> errors;
    std::thread::id caller = std::this_thread::get_id(), reporter;
    {
        StateFileWriter w(p.string(), [&](std::string e) {
            reporter = std::this_thread::get_id();
            errors.push_back(std::move(e));
        });
        w.save("x");
        w.finish();
        EXPECT_EQ(w.writes(), 1u);
    }
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("cannot write"), std::string::npos);
    EXPECT_NE(reporter, caller);
    EXPECT_FALSE(fs::exists(p));
}
