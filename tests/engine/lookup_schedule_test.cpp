#include "swarm/lookup_schedule.hpp"

#include <gtest/gtest.h>

#include <vector>

using pw::swarm::LookupSchedule;

namespace {
std::vector<int> due_ticks(LookupSchedule& s, int from, int to, int interval) {
    std::vector<int> out;
    for (int t = from; t <= to; ++t)
        if (s.due(t, interval)) out.push_back(t);
    return out;
}
}  // namespace

TEST(LookupSchedule, FirstTickThenEveryInterval) {
    LookupSchedule s;
    EXPECT_EQ(due_ticks(s, 1, 1000, 300), (std::vector<int>{1, 301, 601, 901}));
}

TEST(LookupSchedule, UnheardLookupsAreRetriedWithBackOff) {
    LookupSchedule s;
    ASSERT_TRUE(s.due(1, 900));
    s.finished(2, false);  // retry at 7
    EXPECT_EQ(due_ticks(s, 2, 7, 900), (std::vector<int>{7}));
    s.finished(8, false);  // retry at 18
    EXPECT_EQ(due_ticks(s, 8, 18, 900), (std::vector<int>{18}));
    s.finished(18, true);  // heard: back to the regular interval
    EXPECT_EQ(due_ticks(s, 19, 917, 900), (std::vector<int>{}));
    EXPECT_TRUE(s.due(918, 900));
}

TEST(LookupSchedule, BackOffStopsGrowingAt160) {
    LookupSchedule s;
    int tick = 1;
    ASSERT_TRUE(s.due(tick, 100000));
    for (int i = 0; i < 10; ++i) {
        s.finished(tick, false);
        int next = tick + 1;
        while (!s.due(next, 100000)) ++next;
        EXPECT_EQ(next - tick, std::min(5 << i, 160)) << i;
        tick = next;
    }
}
