// The daemon's download and seed queues (Transmission's download-queue-*, seed-queue-*,
// queue-stalled-*; rpc-spec.md 3.3 `queue_position`, 4.1 session keys, 4.6 queue
// movement). Pure: no I/O, no clock of its own (callers pass the time), no engine calls.
//
// Every torrent has a position (0 = top; new ones go to the bottom; removal closes the
// gap). A torrent the user started is "wanted"; it runs, or waits ("queued") while its
// queue is full: the download queue when it still needs pieces, the seed queue when it
// has them all. At most `size` running torrents of a direction count against its queue;
// a stalled one (no payload moved for stalled_minutes, as Transmission's isStalled) and
// one still checking under a hold do not. As in Transmission, nothing running is stopped
// to make room (a smaller size takes effect as torrents finish), and start-now torrents
// ("forced") bypass the queue but occupy a slot.
//
// The daemon reports what the engine says (update(), at most once a second) and what it
// did (started(), stopped()); update() answers which queued torrents to start, in queue
// order. A torrent of unknown completeness (new, re-added at startup) is started with
// holds(): the engine pauses it after its check when its queue turns out to be full;
// until its completeness is seen it counts against both queues (unless held for one).
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pw::daemon::queue {

using Clock = std::chrono::steady_clock;
using Id = int;

struct QueueSettings {
    bool download_enabled = true;  // Transmission's defaults
    int download_size = 5;
    bool seed_enabled = false;
    int seed_size = 10;
    bool stalled_enabled = true;
    int stalled_minutes = 30;
    bool operator==(const QueueSettings&) const = default;
};

// The engine's view of one torrent (paused: the engine does not run it).
enum class Phase { paused, checking, metadata, downloading, seeding, error };
struct Observation {
    Id id = 0;
    Phase phase = Phase::paused;
    bool complete = false;  // every wanted piece verified (known from resume data when paused)
    std::int64_t downloaded = 0,
                 uploaded = 0;  // payload counters (any origin: only changes matter)
};

// AddTorrentParams::hold_if_incomplete / hold_if_complete for a torrent started now.
struct Hold {
    bool if_incomplete = false;
    bool if_complete = false;
};

class TorrentQueue {
  public:
    const QueueSettings& settings() const { return settings_; }
    void set_settings(const QueueSettings& s) { settings_ = s; }

    // Ordering. add: at the bottom, neither wanted nor running.
    void add(Id id);
    void remove(Id id);
    bool contains(Id id) const { return entries_.count(id) != 0; }
    int position(Id id) const;  // -1: unknown
    const std::vector<Id>& order() const { return order_; }
    // Several ids keep their relative order; unknown ids are ignored. A torrent never
    // jumps over another one that moves with it.
    void move_top(const std::vector<Id>& ids);
    void move_up(const std::vector<Id>& ids);
    void move_down(const std::vector<Id>& ids);
    void move_bottom(const std::vector<Id>& ids);
    void set_position(Id id, int position);  // clamped to [0, n)
    // `ids` first, in that order, then the others as they were (a restart's stored order).
    void reorder(const std::vector<Id>& ids);

    // What the daemon did. started: the engine runs it now (with these holds);
    // stopped: by the user or a seed limit (no longer wanted, not forced).
    void set_wanted(Id id, bool wanted);
    void set_forced(Id id, bool forced);
    void started(Id id, Hold h, Clock::time_point now);
    void stopped(Id id);
    bool wanted(Id id) const;
    bool forced(Id id) const;
    bool running(Id id) const;
    // Wanted and waiting for a slot; `complete` tells which queue (seed: status 5).
    bool queued(Id id) const { return wanted(id) && !running(id); }
    bool stalled(Id id, Clock::time_point now) const;

    // Whether a torrent of known completeness may start now (a free slot, or no queue).
    bool has_slot(bool complete, Clock::time_point now) const;
    // The holds for a torrent of unknown completeness started now.
    Hold holds(Clock::time_point now) const;

    // Refreshes the torrents' phases and activity, then picks the queued torrents that
    // get a free slot (marked started, without holds) in queue order.
    std::vector<Id> update(const std::vector<Observation>& obs, Clock::time_point now);
    // Something runs or waits in a queue (the daemon skips its pass when not).
    bool busy() const;

  private:
    struct Entry {
        int position = 0;
        bool wanted = false, forced = false, running = false;
        bool confirmed = false;  // seen running since started()
        Hold hold;
        Phase phase = Phase::paused;
        bool complete = false;
        bool known = false;  // `complete` was observed (not while checking)
        std::int64_t down = -1, up = -1;
        Clock::time_point started_at{}, activity{};
    };
    struct Counts {
        int download = 0, seed = 0;
    };
    Counts counts(Clock::time_point now) const;
    bool stalled(const Entry& e, Clock::time_point now) const;
    void renumber();
    std::vector<bool> selected(const std::vector<Id>& ids) const;  // by position

    QueueSettings settings_;
    std::vector<Id> order_;
    std::unordered_map<Id, Entry> entries_;
};

}  // namespace pw::daemon::queue
