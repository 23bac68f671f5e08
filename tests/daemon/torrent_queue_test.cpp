// The pure download/seed queue (src/daemon/queue): ordering and moves, who runs, the
// stalled rule and holds, on a made-up clock.
#include "daemon/queue/torrent_queue.hpp"

#include <gtest/gtest.h>

using namespace pw::daemon::queue;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1000);

TorrentQueue make(int n, QueueSettings s = {}) {
    TorrentQueue q;
    q.set_settings(s);
    for (int i = 1; i <= n; ++i) q.add(i);
    return q;
}

Observation obs(Id id, Phase p, bool complete = false, std::int64_t down = 0) {
    return {id, p, complete, down, 0};
}

}  // namespace

TEST(TorrentQueue, PositionsAndMoves) {
    auto q = make(5);
    EXPECT_EQ(q.order(), (std::vector<Id>{1, 2, 3, 4, 5}));
    EXPECT_EQ(q.position(3), 2);
    EXPECT_EQ(q.position(99), -1);
    q.move_top({4, 2});  // keep their relative order
    EXPECT_EQ(q.order(), (std::vector<Id>{2, 4, 1, 3, 5}));
    q.move_bottom({2});
    EXPECT_EQ(q.order(), (std::vector<Id>{4, 1, 3, 5, 2}));
    q.move_up({3, 4});  // 4 is at the top already; 3 passes 1
    EXPECT_EQ(q.order(), (std::vector<Id>{4, 3, 1, 5, 2}));
    q.move_up({4, 3});  // a block at the top stays
    EXPECT_EQ(q.order(), (std::vector<Id>{4, 3, 1, 5, 2}));
    q.move_down({1, 5});  // moves as a block past 2
    EXPECT_EQ(q.order(), (std::vector<Id>{4, 3, 2, 1, 5}));
    q.move_down({5, 77});  // the bottom one stays; unknown ids are ignored
    EXPECT_EQ(q.order(), (std::vector<Id>{4, 3, 2, 1, 5}));
    q.set_position(5, 0);
    EXPECT_EQ(q.order(), (std::vector<Id>{5, 4, 3, 2, 1}));
    q.set_position(5, 100);  // clamped
    EXPECT_EQ(q.position(5), 4);
    q.set_position(4, -3);
    EXPECT_EQ(q.position(4), 0);
    q.remove(3);  // the gap closes
    EXPECT_EQ(q.order(), (std::vector<Id>{4, 2, 1, 5}));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(q.position(q.order()[std::size_t(i)]), i);
    q.add(9);
    EXPECT_EQ(q.position(9), 4);
    q.reorder({9, 5, 9, 42});  // listed first (once; unknown ids ignored), the rest as they were
    EXPECT_EQ(q.order(), (std::vector<Id>{9, 5, 4, 2, 1}));
}

TEST(TorrentQueue, OneDownloadAtATimeNextStartsWhenItFinishes) {
    QueueSettings s;
    s.download_size = 1;
    auto q = make(3, s);
    auto now = t0;
    // Torrent 1 starts without a hold; the others are started with holds (their
    // completeness is unknown until checked).
    for (Id id : {1, 2, 3}) {
        q.set_wanted(id, true);
        auto h = q.holds(now);
        EXPECT_EQ(h.if_incomplete, id != 1) << id;
        EXPECT_FALSE(h.if_complete);  // no seed queue
        q.started(id, h, now);
    }
    // 2 and 3 checked, incomplete: the engine paused them. They wait, in order.
    now += seconds(1);
    auto start = q.update(
        {obs(1, Phase::downloading), obs(2, Phase::checking), obs(3, Phase::checking)}, now);
    EXPECT_TRUE(start.empty());
    now += seconds(1);
    start = q.update(
        {obs(1, Phase::downloading, false, 100), obs(2, Phase::paused), obs(3, Phase::paused)},
        now);
    EXPECT_TRUE(start.empty());
    EXPECT_TRUE(q.queued(2));
    EXPECT_TRUE(q.queued(3));
    EXPECT_FALSE(q.queued(1));
    // 3 goes first now.
    q.move_top({3});
    // 1 finishes: 3 gets the slot, not 2.
    now += seconds(1);
    start = q.update(
        {obs(1, Phase::seeding, true, 200), obs(2, Phase::paused), obs(3, Phase::paused)}, now);
    EXPECT_EQ(start, std::vector<Id>{3});
    EXPECT_TRUE(q.running(3));
    // Still looks paused to the engine for a moment: not counted as free again.
    now += seconds(1);
    start =
        q.update({obs(1, Phase::seeding, true), obs(2, Phase::paused), obs(3, Phase::paused)}, now);
    EXPECT_TRUE(start.empty());
    EXPECT_TRUE(q.running(3));
    now += seconds(1);
    start = q.update(
        {obs(1, Phase::seeding, true), obs(2, Phase::paused), obs(3, Phase::downloading)}, now);
    EXPECT_TRUE(start.empty());
    now += seconds(1);
    start = q.update(
        {obs(1, Phase::seeding, true), obs(2, Phase::paused), obs(3, Phase::seeding, true)}, now);
    EXPECT_EQ(start, std::vector<Id>{2});
}

TEST(TorrentQueue, StalledDownloadDoesNotCount) {
    QueueSettings s;
    s.download_size = 1;
    s.stalled_minutes = 30;
    auto q = make(2, s);
    auto now = t0;
    q.set_wanted(1, true);
    q.started(1, q.holds(now), now);
    q.set_wanted(2, true);  // known incomplete, paused: waits
    EXPECT_FALSE(q.has_slot(false, now));
    q.update({obs(1, Phase::downloading, false, 10), obs(2, Phase::paused)}, now);
    // Traffic keeps it active.
    now += minutes(20);
    EXPECT_TRUE(
        q.update({obs(1, Phase::downloading, false, 20), obs(2, Phase::paused)}, now).empty());
    now += minutes(29);
    EXPECT_TRUE(
        q.update({obs(1, Phase::downloading, false, 20), obs(2, Phase::paused)}, now).empty());
    EXPECT_FALSE(q.stalled(1, now));
    // 30 minutes without a byte: stalled, no longer counted; 2 starts.
    now += minutes(1);
    EXPECT_EQ(q.update({obs(1, Phase::downloading, false, 20), obs(2, Phase::paused)}, now),
              std::vector<Id>{2});
    EXPECT_TRUE(q.stalled(1, now));
    EXPECT_TRUE(q.running(1));  // a stalled torrent keeps running
    // Without the stalled rule it would have waited.
    s.stalled_enabled = false;
    auto r = make(2, s);
    r.set_wanted(1, true);
    r.started(1, {}, t0);
    r.set_wanted(2, true);
    r.update({obs(1, Phase::downloading), obs(2, Phase::paused)}, t0);
    EXPECT_TRUE(
        r.update({obs(1, Phase::downloading), obs(2, Phase::paused)}, t0 + minutes(90)).empty());
}

TEST(TorrentQueue, SeedQueueAndDisabledQueues) {
    QueueSettings s;
    s.download_enabled = false;
    s.seed_enabled = true;
    s.seed_size = 2;
    auto q = make(4, s);
    auto now = t0;
    for (Id id : {1, 2, 3, 4}) q.set_wanted(id, true);
    // Known complete (resume data): seed slots; no download queue: always a slot.
    EXPECT_TRUE(q.has_slot(false, now));
    auto start = q.update({obs(1, Phase::paused, true), obs(2, Phase::paused, true),
                           obs(3, Phase::paused, true), obs(4, Phase::paused, false)},
                          now);
    EXPECT_EQ(start, (std::vector<Id>{1, 2, 4}));
    EXPECT_TRUE(q.queued(3));
    EXPECT_FALSE(q.has_slot(true, now));
    EXPECT_TRUE(q.holds(now).if_complete);
    EXPECT_FALSE(q.holds(now).if_incomplete);
    // A bigger queue lets it in at the next pass; a user stop frees a slot too.
    auto bigger = s;
    bigger.seed_size = 3;
    q.set_settings(bigger);
    start = q.update({obs(1, Phase::seeding, true), obs(2, Phase::seeding, true),
                      obs(3, Phase::paused, true), obs(4, Phase::downloading)},
                     now + seconds(1));
    EXPECT_EQ(start, std::vector<Id>{3});
    q.stopped(1);
    EXPECT_FALSE(q.wanted(1));
    EXPECT_FALSE(q.queued(1));
    EXPECT_TRUE(q.has_slot(true, now + seconds(2)));
}

TEST(TorrentQueue, ForcedCountsErrorsDoNotAndBusy) {
    QueueSettings s;
    s.download_size = 1;
    auto q = make(3, s);
    auto now = t0;
    EXPECT_FALSE(q.busy());
    q.set_wanted(1, true);
    q.set_forced(1, true);
    q.started(1, {}, now);  // start-now: runs whatever the queue says, and counts
    EXPECT_TRUE(q.busy());
    q.set_wanted(2, true);
    q.update({obs(1, Phase::downloading), obs(2, Phase::paused)}, now);
    EXPECT_TRUE(q.queued(2));
    // An error does not hold a slot, and a torrent in error is not started again.
    q.update({obs(1, Phase::error), obs(2, Phase::paused)}, now + seconds(1));
    EXPECT_TRUE(q.running(2));
    // Only seeds left and no seed queue: nothing to watch.
    q.stopped(1);
    q.update({obs(1, Phase::paused), obs(2, Phase::seeding, true)}, now + seconds(2));
    EXPECT_FALSE(q.busy());
}

TEST(TorrentQueue, HeldTorrentThatPausedBeforeBeingSeenRunning) {
    QueueSettings s;
    s.download_size = 1;
    auto q = make(2, s);
    auto now = t0;
    q.set_wanted(1, true);
    q.started(1, q.holds(now), now);
    q.set_wanted(2, true);
    auto h = q.holds(now);
    ASSERT_TRUE(h.if_incomplete);
    q.started(2, h, now);
    // Its check was quick: the first pass already sees it paused, by its hold: queued.
    q.update({obs(1, Phase::downloading), obs(2, Phase::paused)}, now + seconds(1));
    EXPECT_TRUE(q.queued(2));
    // A torrent resumed from the queue (no hold) may look paused for a moment: it keeps
    // its slot for the grace, then counts as paused.
    q.stopped(1);
    EXPECT_EQ(q.update({obs(1, Phase::paused), obs(2, Phase::paused)}, now + seconds(2)),
              std::vector<Id>{2});
    q.set_wanted(1, true);
    EXPECT_TRUE(q.update({obs(1, Phase::paused), obs(2, Phase::paused)}, now + seconds(3)).empty());
    EXPECT_TRUE(q.running(2));
    EXPECT_TRUE(q.queued(1));
    EXPECT_EQ(q.update({obs(1, Phase::paused), obs(2, Phase::paused)}, now + seconds(13)),
              std::vector<Id>{1});  // 2 never ran: its slot is free again
    EXPECT_TRUE(q.queued(2));
}

TEST(TorrentQueue, HeldMagnetFetchingMetadataTakesNoSlot) {
    QueueSettings s;
    s.download_size = 1;
    auto q = make(2, s);
    auto now = t0;
    q.set_wanted(1, true);
    q.started(1, {}, now);
    q.set_wanted(2, true);
    q.started(2, q.holds(now), now);  // a magnet added to a full queue: held
    q.update({obs(1, Phase::metadata), obs(2, Phase::metadata)}, now + seconds(1));
    EXPECT_FALSE(q.has_slot(false, now + seconds(1)));  // 1 holds the slot, 2 does not
    q.stopped(1);
    EXPECT_TRUE(q.has_slot(false, now + seconds(2)));
}
