// When a torrent looks itself up in the DHT (BEP 5 get_peers, which also announces it):
// at its first tick, then every `interval` ticks (the caller picks 15 minutes, or 5 while
// downloading with few peers). A lookup that no node acknowledged (the node had not
// bootstrapped yet, or its neighbours were away) is retried after 5 ticks, then 10, 20,
// ... up to 160, instead of leaving the torrent unknown to the DHT until the next regular
// lookup. Pure: ticks are counted by the caller (one a second).
#pragma once

#include <algorithm>

namespace pw::swarm {

class LookupSchedule {
public:
    // True when a lookup is due at `tick`; the caller then starts one.
    bool due(int tick, int interval) {
        bool retry = retry_at_ >= 0 && tick >= retry_at_;
        if (tick != 1 && tick - last_ < interval && !retry) return false;
        retry_at_ = -1;
        last_ = tick;
        return true;
    }
    // The lookup started at or before `tick` ended; `heard`: some node acknowledged it.
    void finished(int tick, bool heard) {
        if (heard) {
            unheard_ = 0;
            return;
        }
        unheard_ = std::min(unheard_ + 1, 6);
        retry_at_ = tick + (5 << (unheard_ - 1));
    }

private:
    int last_ = 0;       // tick of the last lookup
    int retry_at_ = -1;  // tick of the retry after an unheard lookup; -1: none
    int unheard_ = 0;    // unheard lookups in a row
};

}  // namespace pw::swarm
