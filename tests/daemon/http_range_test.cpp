// Range header resolution (RFC 9110 section 14) and the /stream/ path: pure functions.
#include "daemon/parse/http_range.hpp"

#include <gtest/gtest.h>

using namespace pw::daemon::parse;

namespace {
std::string show(const RangeAnswer& a) {
    switch (a.kind) {
        case RangeAnswer::whole:
            return "whole " + std::to_string(a.range.first) + "-" + std::to_string(a.range.last);
        case RangeAnswer::partial:
            return "partial " + std::to_string(a.range.first) + "-" + std::to_string(a.range.last);
        case RangeAnswer::unsatisfiable:
            return "416";
    }
    return "?";
}
std::string r(std::string_view h, std::int64_t len = 1000) {
    return show(resolve_range(h, len));
}
}  // namespace

TEST(HttpRange, SingleForms) {
    EXPECT_EQ(r(""), "whole 0-999");
    EXPECT_EQ(r("bytes=0-99"), "partial 0-99");
    EXPECT_EQ(r("bytes=100-"), "partial 100-999");
    EXPECT_EQ(r("bytes=-100"), "partial 900-999");
    EXPECT_EQ(r("bytes=999-999"), "partial 999-999");
    EXPECT_EQ(r("bytes=0-0"), "partial 0-0");
    EXPECT_EQ(r("BYTES=5-9"), "partial 5-9");  // the unit is case-insensitive
}

TEST(HttpRange, PastTheEndIsClippedOrUnsatisfiable) {
    EXPECT_EQ(r("bytes=500-5000"), "partial 500-999");
    EXPECT_EQ(r("bytes=-5000"), "partial 0-999");
    EXPECT_EQ(r("bytes=1000-"), "416");
    EXPECT_EQ(r("bytes=1000-2000"), "416");
    EXPECT_EQ(r("bytes=-0"), "416");
    EXPECT_EQ(r("bytes=99999999999999999999999-"), "416");  // saturates, past the end
    EXPECT_EQ(r("bytes=0-99999999999999999999999"), "partial 0-999");
    EXPECT_EQ(r("bytes=1000-1001,2000-"), "416");
}

TEST(HttpRange, InvalidIsIgnored) {
    for (auto h : {"bytes", "bytes=", "bytes=,", "bytes=abc", "bytes=5", "bytes=9-5", "bytes=--5",
                   "bytes=1-2-3", "bytes=+1-2", "bytes=1 -2", "bytes=0x10-", "items=0-5",
                   "bytes=0-5,junk", "=0-5", "bytes=-", "bytes=-1-2"})
        EXPECT_EQ(r(h), "whole 0-999") << h;
}

TEST(HttpRange, ListsCoalesceOrFallBackToWhole) {
    EXPECT_EQ(r("bytes=0-99, 100-199"), "partial 0-199");  // touching
    EXPECT_EQ(r("bytes=50-150,0-99"), "partial 0-150");    // overlapping, out of order
    EXPECT_EQ(r("bytes=0-9,0-9,0-9"), "partial 0-9");
    EXPECT_EQ(r("bytes=0-99,200-299"), "whole 0-999");     // disjoint: no multipart
    EXPECT_EQ(r("bytes=0-99,5000-6000"), "partial 0-99");  // the unsatisfiable one drops
    EXPECT_EQ(r("bytes= 0-9 , ,10-19 "), "partial 0-19");  // OWS and empty list elements
    EXPECT_EQ(r("bytes=-10,990-"), "partial 990-999");
    std::string many = "bytes=0-0";
    for (int i = 0; i < max_ranges; ++i) many += ",0-0";
    EXPECT_EQ(r(many), "whole 0-999");  // too many specs: ignored
}

TEST(HttpRange, EmptyRepresentationIsWhole) {
    EXPECT_EQ(r("bytes=0-5", 0), "whole 0--1");
    EXPECT_EQ(r("bytes=-5", 0), "whole 0--1");
}

TEST(StreamTarget, Parses) {
    std::string h(40, 'a');
    auto t = parse_stream_target("/stream/" + h + "/3");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->info_hash, h);
    EXPECT_EQ(t->file_index, 3);
    t = parse_stream_target("/stream/" + std::string(40, 'F') + "/0/movie%20name.mkv?x=1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->info_hash, std::string(40, 'f'));
    EXPECT_EQ(t->file_index, 0);
    for (std::string bad : std::vector<std::string>{
             "/stream/", "/stream/" + h, "/stream/" + h + "/", "/stream/" + h + "/x",
             "/stream/" + h + "/-1", "/stream/" + h + "/01", "/stream/" + h + "/1234567890",
             "/stream/" + h.substr(1) + "g/1", "/streams/" + h + "/1", "/stream/" + h + "0/1"})
        EXPECT_FALSE(parse_stream_target(bad)) << bad;
}
