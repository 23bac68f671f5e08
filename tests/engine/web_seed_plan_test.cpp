// Web seed request planning (BEP 19): URLs of single- and multi-file torrents, percent-
// encoding per path component, runs of pieces split at file boundaries, padding files.
#include "swarm/web_seed_plan.hpp"

#include <gtest/gtest.h>

namespace pw::swarm {
namespace {

meta::Metainfo single(std::int64_t size) {
    meta::Metainfo m;
    m.name = "file name.iso";
    m.piece_length = 16384;
    m.total_size = size;
    m.files.push_back({m.name, size, 0, false});
    return m;
}

meta::Metainfo multi(const std::vector<std::pair<std::string, std::int64_t>>& files) {
    meta::Metainfo m;
    m.name = "top";
    m.multi_file = true;
    m.piece_length = 16384;
    for (auto& [path, len] : files) {
        m.files.push_back({"top/" + path, len, m.total_size, path.rfind(".pad/", 0) == 0});
        m.total_size += len;
    }
    return m;
}

TEST(WebSeedPlan, PercentEncodesEachComponent) {
    EXPECT_EQ(percent_encode_component("a b/c%?#é~._-"), "a%20b%2Fc%25%3F%23%C3%A9~._-");
    EXPECT_EQ(percent_encode_component(""), "");
}

TEST(WebSeedPlan, SingleFileUrl) {
    auto m = single(100);
    EXPECT_EQ(web_seed_file_url("http://127.0.0.1/x/file.iso", m, 0),
              "http://127.0.0.1/x/file.iso");
    EXPECT_EQ(web_seed_file_url("http://127.0.0.1/x/", m, 0), "http://127.0.0.1/x/file%20name.iso");
}

TEST(WebSeedPlan, MultiFileUrl) {
    auto m = multi({{"dir/a b.txt", 10}, {"c#.bin", 20}});
    EXPECT_EQ(web_seed_file_url("http://127.0.0.1/pub/", m, 0),
              "http://127.0.0.1/pub/top/dir/a%20b.txt");
    // A missing trailing slash is added (the entry names a folder for multi-file torrents).
    EXPECT_EQ(web_seed_file_url("http://127.0.0.1/pub", m, 1), "http://127.0.0.1/pub/top/c%23.bin");
}

TEST(WebSeedPlan, SingleFileRange) {
    auto m = single(40000);
    auto r = plan_web_seed_range("http://127.0.0.1/f", m, 16384, 100000);  // clamped to the end
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].file_offset, 16384);
    EXPECT_EQ(r[0].length, 40000 - 16384);
    EXPECT_EQ(r[0].file_size, 40000);
    EXPECT_EQ(r[0].torrent_offset, 16384);
    EXPECT_TRUE(plan_web_seed_range("http://127.0.0.1/f", m, 40000, 10).empty());
    EXPECT_TRUE(plan_web_seed_range("http://127.0.0.1/f", m, 0, 0).empty());
    EXPECT_TRUE(plan_web_seed_range("http://127.0.0.1/f", m, -1, 10).empty());
}

TEST(WebSeedPlan, PieceSpanningFiles) {
    // Files: a [0,10000) empty [10000,10000) b [10000,20000) pad [20000,20384) c [20384,40000)
    auto m = multi({{"a", 10000}, {"empty", 0}, {"b", 10000}, {".pad/384", 384}, {"c", 19616}});
    auto r = plan_web_seed_range("http://127.0.0.1/", m, 5000, 20000);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].url, "http://127.0.0.1/top/a");
    EXPECT_EQ(r[0].file_offset, 5000);
    EXPECT_EQ(r[0].length, 5000);
    EXPECT_EQ(r[1].url, "http://127.0.0.1/top/b");
    EXPECT_EQ(r[1].file, 2);
    EXPECT_EQ(r[1].file_offset, 0);
    EXPECT_EQ(r[1].length, 10000);
    EXPECT_EQ(r[2].url, "");  // padding: zeros, not requested
    EXPECT_EQ(r[2].length, 384);
    EXPECT_EQ(r[3].url, "http://127.0.0.1/top/c");
    EXPECT_EQ(r[3].file_offset, 0);
    EXPECT_EQ(r[3].length, 25000 - 20384);
    EXPECT_EQ(r[3].torrent_offset, 20384);
    std::int64_t sum = 0;
    for (auto& x : r) sum += x.length;
    EXPECT_EQ(sum, 20000);
}

}  // namespace
}  // namespace pw::swarm
