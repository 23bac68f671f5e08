// Seed limit modes (0 global, 1 own, 2 unlimited), label checks, trackerList text and the
// stored JSON forms: pure functions.
#include "daemon/parse/seed_policy.hpp"

#include <gtest/gtest.h>

using namespace pw::daemon;

TEST(SeedPolicy, ModesPickGlobalOwnOrNone) {
    SessionSeedLimits s{1.5, true, 20, true};
    TorrentSeedLimits t{3.0, 0, 7, 0};
    auto e = effective_seed_limits(s, t);
    EXPECT_EQ(e.ratio, 1.5);
    EXPECT_EQ(e.idle_minutes, 20);
    t.ratio_mode = 1;
    t.idle_mode = 1;
    e = effective_seed_limits(s, t);
    EXPECT_EQ(e.ratio, 3.0);
    EXPECT_EQ(e.idle_minutes, 7);
    t.ratio_mode = 2;
    t.idle_mode = 2;
    e = effective_seed_limits(s, t);
    EXPECT_LT(e.ratio, 0);
    EXPECT_LE(e.idle_minutes, 0);
    // Global mode with the session's limits off: none.
    s.ratio_limited = false;
    s.idle_limited = false;
    t.ratio_mode = 0;
    t.idle_mode = 0;
    e = effective_seed_limits(s, t);
    EXPECT_LT(e.ratio, 0);
    EXPECT_LE(e.idle_minutes, 0);
    // An own idle limit of 0 minutes is no limit (Transmission: never idle-stopped).
    t.idle_mode = 1;
    t.idle_minutes = 0;
    EXPECT_LE(effective_seed_limits(s, t).idle_minutes, 0);
    // A ratio of 0 is a limit: stop as soon as complete.
    t.ratio_mode = 1;
    t.ratio = 0;
    EXPECT_EQ(effective_seed_limits(s, t).ratio, 0);
}

TEST(SeedPolicy, Labels) {
    std::string why;
    auto l = check_labels({"tv", "hd", "tv"}, why);
    ASSERT_TRUE(l);
    EXPECT_EQ(*l, (std::vector<std::string>{"tv", "hd"}));
    EXPECT_FALSE(check_labels({"a,b"}, why));
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(check_labels({""}, why));
    EXPECT_FALSE(check_labels({std::string(257, 'x')}, why));
    EXPECT_TRUE(check_labels({}, why));
}

TEST(SeedPolicy, TrackerListText) {
    auto t = parse_tracker_list(
        "http://a/announce\n udp://b:1 \n\n\nhttp://c/announce\r\nhttp://a/announce\n");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0], (std::vector<std::string>{"http://a/announce", "udp://b:1"}));
    EXPECT_EQ(t[1], (std::vector<std::string>{"http://c/announce"}));
    EXPECT_EQ(format_tracker_list(t), "http://a/announce\nudp://b:1\n\nhttp://c/announce\n");
    EXPECT_TRUE(parse_tracker_list("").empty());
    EXPECT_TRUE(parse_tracker_list("\n\n  \n").empty());
    EXPECT_EQ(parse_tracker_list(format_tracker_list(t)), t);
}

TEST(SeedPolicy, StoredForms) {
    std::vector<std::string> v{"a", "b\"c", "ü"};
    EXPECT_EQ(decode_strings(encode_strings(v)), v);
    std::vector<std::vector<std::string>> tiers{{"http://x/a", "udp://y:1"}, {"http://z/a"}};
    EXPECT_EQ(decode_tiers(encode_tiers(tiers)), tiers);
    EXPECT_FALSE(decode_strings("not json"));
    EXPECT_FALSE(decode_strings("[1,2]"));
    EXPECT_FALSE(decode_strings("{}"));
    EXPECT_FALSE(decode_tiers("[[1]]"));
    EXPECT_FALSE(decode_tiers("[\"a\"]"));
    EXPECT_FALSE(decode_tiers("[[\"a\""));
}
