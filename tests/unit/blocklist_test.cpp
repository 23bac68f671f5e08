// Blocklist parsing (P2P plaintext, eMule DAT, gzip) and the range set's lookup.
#include "filter/parse/blocklist.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

using namespace pw::filter;

namespace {

std::uint32_t v4(const char* s) {
    std::uint32_t a = 0;
    EXPECT_TRUE(parse_ipv4(s, a)) << s;
    return a;
}

Ip6 v6(const char* s) {
    Ip6 a{};
    EXPECT_TRUE(parse_ipv6(s, a)) << s;
    return a;
}

std::string gzip(const std::string& text, int level = 6) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&zs, text.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

}  // namespace

TEST(Blocklist, ParsesIpv4WithLeadingZerosAsDecimal) {
    std::uint32_t a = 0;
    ASSERT_TRUE(parse_ipv4("001.002.003.010", a));
    EXPECT_EQ(a, 0x0102030au);
    EXPECT_TRUE(parse_ipv4("0.0.0.0", a));
    EXPECT_EQ(a, 0u);
    EXPECT_TRUE(parse_ipv4("255.255.255.255", a));
    EXPECT_EQ(a, 0xffffffffu);
    for (const char* bad : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.4 ", "0001.2.3.4",
                            "a.b.c.d", "", "1.2.3.-4", "1.2.3.4x"})
        EXPECT_FALSE(parse_ipv4(bad, a)) << bad;
}

TEST(Blocklist, P2pFormatWithColonsInTheName) {
    auto r = parse_blocklist(
        "# comment\n"
        "\n"
        "Some name:1.2.3.4-1.2.3.255\n"
        "Evil Corp: Inc:10.0.0.0-10.0.0.9\r\n"
        "  // another comment\n"
        "spaces allowed : 20.0.0.1 - 20.0.0.2\n");
    ASSERT_TRUE(r.error.empty());
    EXPECT_EQ(r.lines, 3u);
    EXPECT_EQ(r.skipped, 0u);
    ASSERT_EQ(r.ranges.v4().size(), 3u);
    EXPECT_EQ(r.ranges.v4()[0], (Range4{v4("1.2.3.4"), v4("1.2.3.255")}));
    EXPECT_TRUE(r.ranges.contains_v4(v4("10.0.0.9")));
    EXPECT_FALSE(r.ranges.contains_v4(v4("10.0.0.10")));
    EXPECT_TRUE(r.ranges.contains_v4(v4("20.0.0.2")));
    EXPECT_FALSE(r.ranges.contains_v4(v4("1.2.3.3")));
}

TEST(Blocklist, DatFormatHonoursTheAccessLevel) {
    auto r = parse_blocklist(
        "001.002.003.004 - 001.002.003.255 , 000 , Some org\n"
        "005.000.000.000 - 005.000.000.255 , 127 , still blocked\n"
        "006.000.000.000 - 006.000.000.255 , 128 , allowed\n"
        "007.000.000.000 - 007.000.000.010 , 200\n"
        "008.000.000.000 - 008.000.000.001\n"
        "009.000.000.000 - 009.000.000.001 , abc , bad level\n");
    ASSERT_TRUE(r.error.empty());
    EXPECT_EQ(r.lines, 6u);
    EXPECT_EQ(r.skipped, 1u);
    EXPECT_EQ(r.allowed, 2u);
    EXPECT_TRUE(r.ranges.contains_v4(v4("1.2.3.4")));
    EXPECT_TRUE(r.ranges.contains_v4(v4("5.0.0.200")));
    EXPECT_FALSE(r.ranges.contains_v4(v4("6.0.0.1")));
    EXPECT_FALSE(r.ranges.contains_v4(v4("7.0.0.1")));
    EXPECT_TRUE(r.ranges.contains_v4(v4("8.0.0.1")));
    EXPECT_FALSE(r.ranges.contains_v4(v4("9.0.0.1")));
}

TEST(Blocklist, ByteOrderMarkAtTheStartIsIgnored) {
    auto dat = parse_blocklist(
        "\xEF\xBB\xBF"
        "001.002.003.004 - 001.002.003.255 , 000 , x\n");
    EXPECT_EQ(dat.skipped, 0u);
    EXPECT_TRUE(dat.ranges.contains_v4(v4("1.2.3.4")));
    auto comment = parse_blocklist("\xEF\xBB\xBF# comment\na:1.1.1.1-1.1.1.1\n");
    EXPECT_EQ(comment.lines, 1u);
    EXPECT_EQ(comment.skipped, 0u);
}

TEST(Blocklist, Ipv6RangesInBothFormats) {
    auto r = parse_blocklist(
        "v6 net:2001:db8::-2001:db8::ffff\n"
        "name:with:colons:fe80::1-fe80::2\n"
        "2a00:1450:: - 2a00:1450::ff , 000 , dat v6\n"
        "mapped:::ffff:9.9.9.0-::ffff:9.9.9.9\n"
        "mixed:1.2.3.4-::1\n");
    ASSERT_TRUE(r.error.empty());
    EXPECT_EQ(r.lines, 5u);
    EXPECT_EQ(r.skipped, 1u);
    EXPECT_EQ(r.ranges.v6().size(), 3u);
    EXPECT_TRUE(r.ranges.contains_v6(v6("2001:db8::1234")));
    EXPECT_FALSE(r.ranges.contains_v6(v6("2001:db8::1:0")));
    EXPECT_TRUE(r.ranges.contains_v6(v6("fe80::2")));
    EXPECT_FALSE(r.ranges.contains_v6(v6("fe80::3")));
    EXPECT_TRUE(r.ranges.contains_v6(v6("2a00:1450::80")));
    // An IPv4-mapped range is an IPv4 range, and mapped addresses are looked up as IPv4.
    EXPECT_TRUE(r.ranges.contains_v4(v4("9.9.9.5")));
    EXPECT_TRUE(r.ranges.contains_v6(v6("::ffff:9.9.9.9")));
    EXPECT_FALSE(r.ranges.contains_v6(v6("::ffff:9.9.9.10")));
}

TEST(Blocklist, GarbageLinesAreSkippedAndCounted) {
    std::string text =
        "hello world\n"
        "name:1.2.3.4\n"
        "name:1.2.3.4-\n"
        "name:1.2.3.9-1.2.3.4\n"  // first > last
        "name:1.2.3.4-1.2.3.5-1.2.3.6\n"
        "name:300.1.1.1-300.1.1.2\n"
        "good:1.1.1.1-1.1.1.1\n" +
        std::string(10000, 'x') + "\n" + std::string("\0\xff\x01 binary", 10) + "\n";
    auto r = parse_blocklist(text);
    ASSERT_TRUE(r.error.empty());
    EXPECT_EQ(r.lines, 9u);
    EXPECT_EQ(r.skipped, 8u);
    EXPECT_EQ(r.ranges.size(), 1u);
    EXPECT_TRUE(r.ranges.contains_v4(v4("1.1.1.1")));
}

TEST(Blocklist, MergesOverlappingAdjacentAndUnsortedRanges) {
    auto r = parse_blocklist(
        "c:10.0.0.20-10.0.0.30\n"
        "a:10.0.0.0-10.0.0.10\n"
        "b:10.0.0.5-10.0.0.19\n"    // overlaps a, touches c
        "d:10.0.0.32-10.0.0.40\n"   // gap at .31
        "e:10.0.0.33-10.0.0.34\n"   // inside d
        "f:10.0.0.0-10.0.0.10\n");  // duplicate
    ASSERT_EQ(r.ranges.v4().size(), 2u);
    EXPECT_EQ(r.ranges.v4()[0], (Range4{v4("10.0.0.0"), v4("10.0.0.30")}));
    EXPECT_EQ(r.ranges.v4()[1], (Range4{v4("10.0.0.32"), v4("10.0.0.40")}));
    EXPECT_FALSE(r.ranges.contains_v4(v4("10.0.0.31")));
    EXPECT_TRUE(r.ranges.contains_v4(v4("10.0.0.31") + 1));
}

TEST(Blocklist, EdgesOfTheAddressSpace) {
    auto r = parse_blocklist(
        "low:0.0.0.0-0.0.0.0\n"
        "high:255.255.255.255-255.255.255.255\n"
        "v6 top:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        "v6 top "
        "again:ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"
        "v6 zero:::-::\n");
    ASSERT_TRUE(r.error.empty());
    EXPECT_EQ(r.skipped, 0u);
    EXPECT_TRUE(r.ranges.contains_v4(0));
    EXPECT_FALSE(r.ranges.contains_v4(1));
    EXPECT_TRUE(r.ranges.contains_v4(0xffffffffu));
    EXPECT_FALSE(r.ranges.contains_v4(0xfffffffeu));
    EXPECT_EQ(r.ranges.v6().size(), 2u);
    EXPECT_TRUE(r.ranges.contains_v6(v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
    EXPECT_FALSE(r.ranges.contains_v6(v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff")));
    EXPECT_TRUE(r.ranges.contains_v6(v6("::")));
    EXPECT_FALSE(r.ranges.contains_v6(v6("::1")));

    // The whole IPv4 space in two touching halves merges into one range.
    auto all = parse_blocklist("a:128.0.0.0-255.255.255.255\nb:0.0.0.0-127.255.255.255\n");
    ASSERT_EQ(all.ranges.v4().size(), 1u);
    EXPECT_EQ(all.ranges.v4()[0], (Range4{0, 0xffffffffu}));
}

TEST(Blocklist, EmptyAndCommentOnlyInputsYieldNothing) {
    for (const char* in : {"", "\n\n", "# only\n# comments", "   \t\r\n"}) {
        auto r = parse_blocklist(in);
        EXPECT_TRUE(r.error.empty());
        EXPECT_TRUE(r.ranges.empty());
        EXPECT_EQ(r.lines, 0u);
    }
    auto last_line_without_newline = parse_blocklist("a:1.1.1.1-1.1.1.2");
    EXPECT_EQ(last_line_without_newline.ranges.size(), 1u);
}

TEST(Blocklist, GzipCompressedInEitherFormat) {
    std::string text =
        "Some name:1.2.3.4-1.2.3.255\n"
        "005.000.000.000 - 005.000.000.255 , 000 , dat\n";
    auto r = parse_blocklist(gzip(text));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_TRUE(r.gzip);
    EXPECT_EQ(r.lines, 2u);
    EXPECT_EQ(r.ranges.size(), 2u);
    EXPECT_TRUE(r.ranges.contains_v4(v4("5.0.0.7")));

    // Two members in a row (as `cat a.gz b.gz` gives) are both read.
    auto two = parse_blocklist(gzip("a:1.1.1.1-1.1.1.1\n") + gzip("b:2.2.2.2-2.2.2.2\n"));
    ASSERT_TRUE(two.error.empty()) << two.error;
    EXPECT_EQ(two.ranges.size(), 2u);

    // A large list crosses many inflate output chunks; lines split between them.
    std::string big;
    for (int i = 0; i < 50000; ++i)
        big += "range " + std::to_string(i) + ":10." + std::to_string(i / 256 % 256) + "." +
               std::to_string(i % 256) + ".0-10." + std::to_string(i / 256 % 256) + "." +
               std::to_string(i % 256) + ".127\n";
    auto many = parse_blocklist(gzip(big, 9));
    ASSERT_TRUE(many.error.empty());
    EXPECT_EQ(many.lines, 50000u);
    EXPECT_EQ(many.skipped, 0u);
    EXPECT_EQ(many.ranges.size(), 50000u);
}

TEST(Blocklist, CorruptTruncatedOrOversizedGzipIsAnError) {
    std::string z = gzip("a:1.1.1.1-1.1.1.1\nb:2.2.2.2-2.2.2.2\n");
    auto truncated = parse_blocklist(std::string_view(z).substr(0, z.size() - 6));
    EXPECT_NE(truncated.error.find("truncated"), std::string::npos) << truncated.error;
    EXPECT_TRUE(truncated.ranges.empty());

    std::string corrupt = z;
    for (std::size_t i = 10; i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
    EXPECT_FALSE(parse_blocklist(corrupt).error.empty());

    EXPECT_FALSE(parse_blocklist("\x1f\x8b").error.empty());

    // A bomb: 64 MiB of one byte inflates past a 1 MiB limit and stops there.
    auto bomb = parse_blocklist(gzip(std::string(64 << 20, '#'), 9), 1 << 20);
    EXPECT_NE(bomb.error.find("inflates to more than"), std::string::npos) << bomb.error;
}

TEST(Blocklist, LookupAgreesWithALinearScan) {
    std::mt19937 rng(7);
    std::vector<Range4> in;
    for (int i = 0; i < 600; ++i) {
        std::uint32_t a = rng() % 30000, len = rng() % 50;
        in.push_back({a, a + len});
    }
    IpRanges set(in, {});
    for (std::size_t i = 1; i < set.v4().size(); ++i)
        ASSERT_GT(set.v4()[i].first, set.v4()[i - 1].last + 1);  // disjoint, not adjacent
    for (std::uint32_t x = 0; x < 30100; ++x) {
        bool want = false;
        for (auto& r : in) want = want || (r.first <= x && x <= r.last);
        ASSERT_EQ(set.contains_v4(x), want) << x;
    }
}
