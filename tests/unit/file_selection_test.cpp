// File index lists (--files) and BEP 53's magnet so=.
#include "meta/file_selection.hpp"

#include <gtest/gtest.h>

#include "meta/magnet.hpp"
#include "meta/metainfo.hpp"

using namespace pw::meta;

TEST(FileSelection, ParsesIndicesAndRanges) {
    auto r = parse_index_list("0,2-3,7");
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0], (IndexRange{0, 0}));
    EXPECT_EQ(r[1], (IndexRange{2, 3}));
    EXPECT_EQ(r[2], (IndexRange{7, 7}));
    EXPECT_EQ(format_index_list(r), "0,2-3,7");
    EXPECT_EQ(selection_priorities(r, 8, true), (std::vector<int>{4, 0, 4, 4, 0, 0, 0, 4}));
    // Huge ranges stay ranges.
    auto big = parse_index_list("5-2147483647");
    EXPECT_EQ(selection_priorities(big, 7, false), (std::vector<int>{0, 0, 0, 0, 0, 4, 4}));
}

TEST(FileSelection, RejectsBadLists) {
    for (const char* bad :
         {"", ",", "1,", ",1", "a", "1-", "-1", "3-1", "1--2", "1 ", "2147483648", "0x1", "1-2-3"})
        EXPECT_THROW(parse_index_list(bad), MetainfoError) << bad;
    std::string many;
    for (int i = 0; i < 10001; ++i) many += std::to_string(i) + ",";
    many += "1";
    EXPECT_THROW(parse_index_list(many), MetainfoError);
}

TEST(FileSelection, OutOfRangeIsAnErrorOnlyWhenStrict) {
    auto r = parse_index_list("1,4");
    try {
        selection_priorities(r, 3, true);
        FAIL() << "no throw";
    } catch (const MetainfoError& e) {
        EXPECT_NE(std::string(e.what()).find("no file 4"), std::string::npos);
    }
    EXPECT_EQ(selection_priorities(r, 3, false), (std::vector<int>{0, 4, 0}));
}

TEST(FileSelection, MagnetSelectOnly) {
    auto m = parse_magnet(
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&so=0,2,4-6&so=9");
    ASSERT_EQ(m.select_only.size(), 4u);
    EXPECT_EQ(m.select_only[2], (IndexRange{4, 6}));
    EXPECT_EQ(m.select_only[3], (IndexRange{9, 9}));
    auto back = parse_magnet(make_magnet(m));
    EXPECT_EQ(back.select_only, m.select_only);
    EXPECT_TRUE(parse_magnet("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a")
                    .select_only.empty());
    EXPECT_THROW(
        parse_magnet("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&so=3-1"),
        MetainfoError);
    EXPECT_THROW(parse_magnet("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&so="),
                 MetainfoError);
}
