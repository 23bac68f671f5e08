// Judging web seed responses (BEP 19 ranged GETs): Content-Range, Retry-After and the
// verdicts, including hostile replies (wrong ranges, wrong sizes, garbage headers).
#include "swarm/parse/web_seed_response.hpp"

#include <gtest/gtest.h>

namespace pw::swarm {
namespace {

TEST(WebSeedResponse, ContentRange) {
    auto r = parse_content_range("bytes 10-19/100");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 10);
    EXPECT_EQ(r->last, 19);
    EXPECT_EQ(r->total, 100);
    auto star = parse_content_range(" Bytes 0-0/* ");
    ASSERT_TRUE(star);
    EXPECT_EQ(star->total, -1);
    for (const char* bad : {"", "bytes", "bytes 10-9/100", "bytes 0-99/99", "bytes -1-5/10",
                            "items 0-1/2", "bytes 0-1", "bytes 0/1-2", "bytes a-b/c",
                            "bytes 0-99999999999999999999/1", "bytes 1-2/3x"})
        EXPECT_FALSE(parse_content_range(bad)) << bad;
}

TEST(WebSeedResponse, RetryAfter) {
    EXPECT_EQ(parse_retry_after("2"), 2);
    EXPECT_EQ(parse_retry_after(" 0 "), 1);
    EXPECT_EQ(parse_retry_after("999999"), 3600);
    EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
    EXPECT_FALSE(parse_retry_after(""));
    EXPECT_FALSE(parse_retry_after("-5"));
}

TEST(WebSeedResponse, Verdicts) {
    RangeAsked a{100, 50, 1000};
    auto ok = judge_response(206, "bytes 100-149/1000", 50, "", a);
    EXPECT_EQ(ok.kind, ResponseVerdict::body);
    EXPECT_EQ(ok.skip, 0);
    EXPECT_FALSE(ok.close_after);
    EXPECT_EQ(judge_response(206, "bytes 100-149/*", std::nullopt, "", a).kind,
              ResponseVerdict::body);
    // Hostile or broken: another range, another file size, a length that disagrees.
    EXPECT_EQ(judge_response(206, "bytes 0-49/1000", 50, "", a).kind, ResponseVerdict::error);
    EXPECT_EQ(judge_response(206, "bytes 100-149/999", 50, "", a).kind, ResponseVerdict::error);
    EXPECT_EQ(judge_response(206, "bytes 100-149/1000", 51, "", a).kind, ResponseVerdict::error);
    EXPECT_EQ(judge_response(206, "", 50, "", a).kind, ResponseVerdict::error);
    // No range support: the whole file, skipped to the range, then the connection goes.
    auto whole = judge_response(200, "", 1000, "", a);
    EXPECT_EQ(whole.kind, ResponseVerdict::body);
    EXPECT_EQ(whole.skip, 100);
    EXPECT_TRUE(whole.close_after);
    EXPECT_FALSE(judge_response(200, "", 1000, "", {0, 1000, 1000}).close_after);
    EXPECT_EQ(judge_response(200, "", 999, "", a).kind, ResponseVerdict::error);
    auto busy = judge_response(503, "", 0, "7", a);
    EXPECT_EQ(busy.kind, ResponseVerdict::busy);
    EXPECT_EQ(busy.retry_after, 7);
    EXPECT_EQ(judge_response(429, "", 0, "soon", a).retry_after, 0);
    EXPECT_EQ(judge_response(302, "", 0, "", a).kind, ResponseVerdict::redirect);
    EXPECT_EQ(judge_response(404, "", 0, "", a).kind, ResponseVerdict::not_found);
    EXPECT_EQ(judge_response(500, "", 0, "", a).kind, ResponseVerdict::error);
    EXPECT_EQ(judge_response(206, "bytes 100-149/1000", 50, "", {900, 200, 1000}).kind,
              ResponseVerdict::error);  // asked past the file: never accepted
}

}  // namespace
}  // namespace pw::swarm
