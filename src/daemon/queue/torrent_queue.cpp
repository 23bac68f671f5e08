#include "daemon/queue/torrent_queue.hpp"

#include <algorithm>

namespace pw::daemon::queue {

namespace {
// A torrent just started may still look paused to the engine for a moment (resume waits
// for the pause to settle): not taken as paused again before this.
constexpr auto start_grace = std::chrono::seconds(10);
}  // namespace

void TorrentQueue::add(Id id) {
    if (contains(id)) return;
    Entry e;
    e.position = static_cast<int>(order_.size());
    entries_.emplace(id, e);
    order_.push_back(id);
}

void TorrentQueue::remove(Id id) {
    if (!entries_.erase(id)) return;
    order_.erase(std::find(order_.begin(), order_.end(), id));
    renumber();
}

int TorrentQueue::position(Id id) const {
    auto it = entries_.find(id);
    return it == entries_.end() ? -1 : it->second.position;
}

void TorrentQueue::renumber() {
    for (std::size_t i = 0; i < order_.size(); ++i)
        entries_[order_[i]].position = static_cast<int>(i);
}

std::vector<bool> TorrentQueue::selected(const std::vector<Id>& ids) const {
    std::vector<bool> sel(order_.size(), false);
    for (auto id : ids)
        if (auto it = entries_.find(id); it != entries_.end())
            sel[static_cast<std::size_t>(it->second.position)] = true;
    return sel;
}

void TorrentQueue::move_top(const std::vector<Id>& ids) {
    auto sel = selected(ids);
    std::vector<Id> front, back;
    for (std::size_t i = 0; i < order_.size(); ++i) (sel[i] ? front : back).push_back(order_[i]);
    front.insert(front.end(), back.begin(), back.end());
    order_.swap(front);
    renumber();
}

void TorrentQueue::move_bottom(const std::vector<Id>& ids) {
    auto sel = selected(ids);
    std::vector<Id> front, back;
    for (std::size_t i = 0; i < order_.size(); ++i) (sel[i] ? back : front).push_back(order_[i]);
    front.insert(front.end(), back.begin(), back.end());
    order_.swap(front);
    renumber();
}

void TorrentQueue::move_up(const std::vector<Id>& ids) {
    auto sel = selected(ids);
    for (std::size_t i = 1; i < order_.size(); ++i)
        if (sel[i] && !sel[i - 1]) {
            std::swap(order_[i], order_[i - 1]);
            sel[i] = false;
            sel[i - 1] = true;
        }
    renumber();
}

void TorrentQueue::move_down(const std::vector<Id>& ids) {
    auto sel = selected(ids);
    for (std::size_t i = order_.size(); i-- > 1;)
        if (sel[i - 1] && !sel[i]) {
            std::swap(order_[i], order_[i - 1]);
            sel[i] = true;
            sel[i - 1] = false;
        }
    renumber();
}

void TorrentQueue::set_position(Id id, int position) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    position = std::clamp(position, 0, static_cast<int>(order_.size()) - 1);
    order_.erase(order_.begin() + it->second.position);
    order_.insert(order_.begin() + position, id);
    renumber();
}

void TorrentQueue::reorder(const std::vector<Id>& ids) {
    std::vector<Id> out;
    std::unordered_map<Id, bool> taken;
    for (auto id : ids)
        if (contains(id) && !taken[id]) {
            taken[id] = true;
            out.push_back(id);
        }
    for (auto id : order_)
        if (!taken[id]) out.push_back(id);
    order_.swap(out);
    renumber();
}

void TorrentQueue::set_wanted(Id id, bool wanted) {
    if (auto it = entries_.find(id); it != entries_.end()) it->second.wanted = wanted;
}

void TorrentQueue::set_forced(Id id, bool forced) {
    if (auto it = entries_.find(id); it != entries_.end()) it->second.forced = forced;
}

void TorrentQueue::started(Id id, Hold h, Clock::time_point now) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    auto& e = it->second;
    e.running = true;
    e.confirmed = false;
    e.hold = h;
    e.phase = Phase::checking;  // the engine checks (resume data) before it runs
    e.started_at = e.activity = now;
}

void TorrentQueue::stopped(Id id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    auto& e = it->second;
    e.wanted = e.forced = e.running = false;
    e.phase = Phase::paused;
}

bool TorrentQueue::wanted(Id id) const {
    auto it = entries_.find(id);
    return it != entries_.end() && it->second.wanted;
}

bool TorrentQueue::forced(Id id) const {
    auto it = entries_.find(id);
    return it != entries_.end() && it->second.forced;
}

bool TorrentQueue::running(Id id) const {
    auto it = entries_.find(id);
    return it != entries_.end() && it->second.running;
}

bool TorrentQueue::stalled(const Entry& e, Clock::time_point now) const {
    if (!settings_.stalled_enabled || !e.running) return false;
    if (e.phase != Phase::downloading && e.phase != Phase::seeding && e.phase != Phase::metadata)
        return false;
    return now - std::max(e.activity, e.started_at) >=
           std::chrono::minutes(std::max(settings_.stalled_minutes, 0));
}

bool TorrentQueue::stalled(Id id, Clock::time_point now) const {
    auto it = entries_.find(id);
    return it != entries_.end() && stalled(it->second, now);
}

TorrentQueue::Counts TorrentQueue::counts(Clock::time_point now) const {
    Counts c;
    for (auto& [id, e] : entries_) {
        if (!e.running || stalled(e, now)) continue;
        switch (e.phase) {
            case Phase::metadata:  // a held magnet fetches its metadata, then waits
                if (!e.hold.if_incomplete) ++c.download;
                break;
            case Phase::downloading:
                ++c.download;
                break;
            case Phase::seeding:
                ++c.seed;
                break;
            case Phase::checking:
            case Phase::paused: {  // started, the engine has not shown it running yet
                bool down = !e.known || !e.complete, seed = !e.known || e.complete;
                if (down && !e.hold.if_incomplete) ++c.download;
                if (seed && !e.hold.if_complete) ++c.seed;
                break;
            }
            case Phase::error:
                break;
        }
    }
    return c;
}

bool TorrentQueue::has_slot(bool complete, Clock::time_point now) const {
    auto c = counts(now);
    if (complete) return !settings_.seed_enabled || c.seed < settings_.seed_size;
    return !settings_.download_enabled || c.download < settings_.download_size;
}

Hold TorrentQueue::holds(Clock::time_point now) const {
    auto c = counts(now);
    return {settings_.download_enabled && c.download >= settings_.download_size,
            settings_.seed_enabled && c.seed >= settings_.seed_size};
}

std::vector<Id> TorrentQueue::update(const std::vector<Observation>& obs, Clock::time_point now) {
    for (auto& o : obs) {
        auto it = entries_.find(o.id);
        if (it == entries_.end()) continue;
        auto& e = it->second;
        if (o.phase != Phase::paused) {
            e.running = true;
            e.confirmed = true;
        } else if (e.running && (e.confirmed || e.hold.if_incomplete || e.hold.if_complete ||
                                 now - e.started_at >= start_grace)) {
            // Paused by its hold (a held torrent is never paused when it starts), or by
            // the engine.
            e.running = false;
        }
        if (o.downloaded != e.down || o.uploaded != e.up) {
            // Payload moved (the first sighting counts as none: started() set the time).
            if (e.down >= 0) e.activity = now;
            e.down = o.downloaded;
            e.up = o.uploaded;
        }
        if (o.phase != Phase::paused || !e.running) e.phase = o.phase;
        if (o.phase != Phase::checking) {  // while checking, what is there is not known yet
            e.complete = o.complete;
            e.known = true;
        }
    }
    auto c = counts(now);
    std::vector<Id> start;
    for (auto id : order_) {
        auto& e = entries_[id];
        if (!e.wanted || e.running || e.phase == Phase::error) continue;
        bool seed = e.complete;
        int& n = seed ? c.seed : c.download;
        bool enabled = seed ? settings_.seed_enabled : settings_.download_enabled;
        int size = seed ? settings_.seed_size : settings_.download_size;
        if (enabled && n >= size) continue;
        ++n;
        started(id, {}, now);
        start.push_back(id);
    }
    return start;
}

bool TorrentQueue::busy() const {
    for (auto& [id, e] : entries_)
        if (e.wanted && e.phase != Phase::error &&
            (!e.running || e.phase != Phase::seeding || settings_.seed_enabled))
            return true;
    return false;
}

}  // namespace pw::daemon::queue
