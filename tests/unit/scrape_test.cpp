// BEP 48 scrape: URL derivation from announce URLs, the GET URL, and reply parsing.
#include "tracker/parse/scrape.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace pw;
using namespace pw::tracker;

namespace {

Sha1Digest digest(char fill) {
    return Sha1Digest::from_bytes(std::string(20, fill));
}

std::string stats(std::string_view hash20, std::string_view inner) {
    return "20:" + std::string(hash20) + "d" + std::string(inner) + "e";
}

}  // namespace

TEST(ScrapeUrl, DerivedFromAnnounce) {
    EXPECT_EQ(scrape_url_from_announce("http://t.example/announce"), "http://t.example/scrape");
    EXPECT_EQ(scrape_url_from_announce("http://t.example:6969/x/announce"),
              "http://t.example:6969/x/scrape");
    EXPECT_EQ(scrape_url_from_announce("http://t.example/announce?passkey=abc"),
              "http://t.example/scrape?passkey=abc");
    EXPECT_EQ(scrape_url_from_announce("http://t.example/x/announce.php"),
              "http://t.example/x/scrape.php");
    EXPECT_EQ(scrape_url_from_announce("http://t.example/announce#frag"),
              "http://t.example/scrape");
    EXPECT_EQ(scrape_url_from_announce("udp://127.0.0.1:6969/announce"),
              "udp://127.0.0.1:6969/scrape");
    // A '/' inside the query does not count as a path separator.
    EXPECT_EQ(scrape_url_from_announce("http://t/announce?next=/a/announce"),
              "http://t/scrape?next=/a/announce");
}

TEST(ScrapeUrl, Unsupported) {
    EXPECT_FALSE(scrape_url_from_announce("http://t.example/a"));
    EXPECT_FALSE(scrape_url_from_announce("http://t.example/announce/x"));
    EXPECT_FALSE(scrape_url_from_announce("http://t.example/x_announce"));
    EXPECT_FALSE(scrape_url_from_announce("http://t.example"));
    EXPECT_FALSE(scrape_url_from_announce("http://t.example?announce"));
    EXPECT_FALSE(scrape_url_from_announce("http://t.example/"));
    EXPECT_FALSE(scrape_url_from_announce("announce"));
    EXPECT_FALSE(scrape_url_from_announce(""));
}

TEST(ScrapeUrl, BuildsInfoHashParameters) {
    std::vector<Sha1Digest> one{digest('\x01')};
    std::string encoded;
    for (int i = 0; i < 20; ++i) encoded += "%01";
    EXPECT_EQ(build_scrape_url("http://t/scrape", one), "http://t/scrape?info_hash=" + encoded);
    EXPECT_EQ(build_scrape_url("http://t/scrape?", one), "http://t/scrape?info_hash=" + encoded);
    std::vector<Sha1Digest> two{digest('a'), digest('b')};
    EXPECT_EQ(build_scrape_url("http://t/scrape?pk=1", two),
              "http://t/scrape?pk=1&info_hash=" + std::string(20, 'a') +
                  "&info_hash=" + std::string(20, 'b'));
}

TEST(ScrapeReplyParse, Bep48Example) {
    std::string x(20, 'x'), y(20, 'y');
    std::string body = "d5:filesd" +
                       stats(x, "8:completei11e10:downloadedi13772e10:incompletei19e") +
                       stats(y, "8:completei21e10:downloadedi206e10:incompletei20e") + "ee";
    ScrapeReply r = parse_scrape_response(body);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    ASSERT_EQ(r.files.size(), 2u);
    EXPECT_EQ(r.files[Sha1Digest::from_bytes(x)], (ScrapeStats{11, 19, 13772}));
    EXPECT_EQ(r.files[Sha1Digest::from_bytes(y)], (ScrapeStats{21, 20, 206}));
}

TEST(ScrapeReplyParse, FailureReason) {
    ScrapeReply r = parse_scrape_response("d14:failure reason11:not allowede");
    EXPECT_EQ(r.failure_reason, "not allowed");
    EXPECT_TRUE(r.files.empty());
    r = parse_scrape_response("d14:failure reason0:e");
    EXPECT_FALSE(r.failure_reason.empty());
}

TEST(ScrapeReplyParse, BadEntriesSkippedMissingCountsUnknown) {
    std::string x(20, 'x');
    std::string body = "d5:filesd" + std::string("3:abcd8:completei1ee") +  // key not 20 bytes
                       stats(x, "8:completei-4e10:incompletei2e") +         // negative, missing
                       "20:" + std::string(20, 'z') + "i5e" +               // value not a dict
                       "ee";
    ScrapeReply r = parse_scrape_response(body);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    ASSERT_EQ(r.files.size(), 1u);
    EXPECT_EQ(r.files.begin()->second, (ScrapeStats{-1, 2, -1}));
}

TEST(ScrapeReplyParse, Malformed) {
    for (std::string body :
         {std::string(""), std::string("garbage"), std::string("le"), std::string("de"),
          std::string("d5:filesle"), std::string("d5:filesd20:xxxxxxxxxxxxxxxxxxxxd8:completei1e"),
          std::string("d5:filesdee trailing")}) {
        ScrapeReply r = parse_scrape_response(body);
        EXPECT_FALSE(r.failure_reason.empty()) << body;
        EXPECT_TRUE(r.files.empty()) << body;
    }
    EXPECT_TRUE(parse_scrape_response("d5:filesdee").failure_reason.empty());
}

TEST(ScrapeReplyParse, FileCountIsCapped) {
    std::string body = "d5:filesd";
    for (int i = 0; i < 10; ++i) {
        std::string h(20, 'h');
        h[19] = static_cast<char>('a' + i);
        body += stats(h, "8:completei1e");
    }
    body += "ee";
    ScrapeReply r = parse_scrape_response(body, 4);
    EXPECT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_LE(r.files.size(), 4u);
    // Far more values than the cap allows is refused outright rather than walked.
    std::string huge = "d5:filesd";
    for (int i = 0; i < 3000; ++i) {
        std::string key = std::to_string(10000 + i);
        huge += std::to_string(key.size()) + ":" + key + "i1e";
    }
    huge += "ee";
    EXPECT_FALSE(parse_scrape_response(huge, 10).failure_reason.empty());
}
