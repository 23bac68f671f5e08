// The alternative speed limits' schedule (Transmission's "turtle mode" clock).
//
// The window runs from `begin` to `end` (minutes after local midnight) on each day whose
// bit is set in `days` (bit 0 Sunday ... bit 6 Saturday, Transmission's tr_sched_day):
// when end <= begin it runs past midnight into the next day (Saturday's into Sunday),
// and begin == end is the whole day. The schedule switches alt speed on when the window
// opens and off when it closes; in between, the user may switch it by hand, and that
// holds until the next opening or closing (as in Transmission). Pure: the caller passes
// the local weekday and minute.
#pragma once

#include <optional>

namespace pw::swarm {

// weekday 0 = Sunday; minute 0..1439.
inline bool in_alt_speed_window(int weekday, int minute, int begin, int end, int days) {
    constexpr int day_minutes = 24 * 60;
    auto day_set = [days](int d) { return (days >> (((d % 7) + 7) % 7)) & 1; };
    if (end <= begin) end += day_minutes;
    // Today's window, or yesterday's running past midnight.
    if (day_set(weekday) && minute >= begin && minute < end) return true;
    if (day_set(weekday - 1) && minute + day_minutes >= begin && minute + day_minutes < end)
        return true;
    return false;
}

class AltSpeedSchedule {
  public:
    // A setting of the schedule changed: the next update() applies the window again.
    void reset() { applied_.reset(); }
    // The alt speed state to switch to, when the window opened or closed since the last
    // call (or after reset()); nullopt: leave it as it is.
    std::optional<bool> update(bool in_window) {
        if (applied_ && *applied_ == in_window) return std::nullopt;
        applied_ = in_window;
        return in_window;
    }

  private:
    std::optional<bool> applied_;
};

}  // namespace pw::swarm
