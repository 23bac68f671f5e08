// The Daemon's download/seed queues (queue/torrent_queue.hpp decides; this file applies
// its decisions through Session pause/resume) and bandwidth groups (Session's groups).
// Queue settings and groups live in the store's settings table, each torrent's queue
// position and group in torrent_settings, so a restart keeps the order and the groups.
//
// Cost: the queue looks at the engine (one status_all round trip) at most once a
// second from the housekeeping thread, and only while something is queued, downloading
// or checking (or seeding under a seed queue), or after a change; nothing per torrent.
#include <algorithm>
#include <iostream>

#include "daemon/daemon.hpp"

namespace pw::daemon {

using piecewise::TorrentId;
using piecewise::TorrentState;

namespace {

constexpr const char* group_prefix = "group:";

std::optional<std::int64_t> to_i64(const std::string& s) {
    try {
        std::size_t n = 0;
        long long v = std::stoll(s, &n);
        if (n != s.size()) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

queue::Phase phase_of(const piecewise::TorrentStatus& st) {
    if (st.paused) return queue::Phase::paused;
    switch (st.state) {
        case TorrentState::metadata:
            return queue::Phase::metadata;
        case TorrentState::checking:
            return queue::Phase::checking;
        case TorrentState::downloading:
            return queue::Phase::downloading;
        case TorrentState::seeding:
            return queue::Phase::seeding;
        case TorrentState::error:
            return queue::Phase::error;
        case TorrentState::stopped:
            return queue::Phase::paused;
    }
    return queue::Phase::paused;
}

bool complete(const piecewise::TorrentStatus& st) {
    return st.num_pieces > 0 && st.left_until_done == 0;
}

}  // namespace

void Daemon::load_queue_settings() {
    auto kv = store_->load_settings();
    queue::QueueSettings s;
    auto flag = [&](const char* k, bool& out) {
        if (auto it = kv.find(k); it != kv.end()) out = it->second == "1";
    };
    auto num = [&](const char* k, int& out) {
        if (auto it = kv.find(k); it != kv.end())
            if (auto v = to_i64(it->second); v && *v >= 0 && *v <= 100'000'000) out = int(*v);
    };
    flag("download_queue_enabled", s.download_enabled);
    num("download_queue_size", s.download_size);
    flag("seed_queue_enabled", s.seed_enabled);
    num("seed_queue_size", s.seed_size);
    flag("queue_stalled_enabled", s.stalled_enabled);
    num("queue_stalled_minutes", s.stalled_minutes);
    queue_.set_settings(s);
    for (auto& [k, v] : kv) {
        if (k.rfind(group_prefix, 0) != 0) continue;
        auto name = k.substr(std::char_traits<char>::length(group_prefix));
        if (auto g = decode_group(name, v); g && !name.empty())
            groups_[name] = *g;
        else
            std::cerr << "piecewise daemon: stored bandwidth group " << name
                      << " unreadable, left out\n";
    }
}

void Daemon::apply_groups() {
    for (auto& [name, g] : groups_) session_->set_bandwidth_group(g.engine());
}

std::map<std::string, queue::Hold> Daemon::startup_holds(const std::vector<state::TorrentRow>& rows,
                                                         std::vector<std::string>& order) {
    auto pos = [&](const state::TorrentRow& r) -> std::int64_t {
        if (auto it = stored_extras_.find(r.info_hash); it != stored_extras_.end())
            if (auto p = it->second.find("queue_position"); p != it->second.end())
                if (auto v = to_i64(p->second); v && *v >= 0) return *v;
        return INT64_MAX;  // none stored (an older database): after the others, by addition
    };
    std::vector<const state::TorrentRow*> sorted;
    for (auto& r : rows) sorted.push_back(&r);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](auto* a, auto* b) { return pos(*a) < pos(*b); });
    // Rows are added in their order of addition (torrent ids stay as they were); each
    // unpaused one of unknown completeness counts against both queues unless held.
    const auto& s = queue_.settings();
    int down = 0, seed = 0;
    std::map<std::string, queue::Hold> out;
    for (auto* r : sorted) {
        order.push_back(r->info_hash);
        if (r->paused) continue;
        queue::Hold h{s.download_enabled && down >= s.download_size,
                      s.seed_enabled && seed >= s.seed_size};
        down += !h.if_incomplete;
        seed += !h.if_complete;
        out[r->info_hash] = h;
    }
    return out;
}

void Daemon::prepare_group(const std::string& hash, TorrentExtras& e,
                           piecewise::AddTorrentParams& p) {
    auto it = stored_extras_.find(hash);
    if (it == stored_extras_.end()) return;
    if (auto g = it->second.find("group"); g != it->second.end()) {
        e.group = g->second;
        p.bandwidth_group = g->second;
    }
}

void Daemon::queue_added(TorrentId id, bool paused, const queue::Hold& h) {
    queue_.add(id);
    queue_.set_wanted(id, !paused);
    if (!paused) queue_.started(id, h, queue::Clock::now());
    queue_dirty_ = true;
}

void Daemon::save_positions() {
    std::vector<std::pair<std::string, std::string>> changed;
    const auto& order = queue_.order();
    for (std::size_t p = 0; p < order.size(); ++p) {
        if (p < saved_order_.size() && saved_order_[p] == order[p]) continue;
        if (auto h = hashes_.find(order[p]); h != hashes_.end())
            changed.emplace_back(h->second, std::to_string(p));
    }
    if (!changed.empty()) store_->set_torrent_settings("queue_position", changed);
    saved_order_ = order;
}

queue::QueueSettings Daemon::queue_settings() {
    std::lock_guard lk(mu_);
    return queue_.settings();
}

void Daemon::set_queue_settings(const queue::QueueSettings& s) {
    std::lock_guard lk(mu_);
    store_->set_setting("download_queue_enabled", s.download_enabled ? "1" : "0");
    store_->set_setting("download_queue_size", std::to_string(s.download_size));
    store_->set_setting("seed_queue_enabled", s.seed_enabled ? "1" : "0");
    store_->set_setting("seed_queue_size", std::to_string(s.seed_size));
    store_->set_setting("queue_stalled_enabled", s.stalled_enabled ? "1" : "0");
    store_->set_setting("queue_stalled_minutes", std::to_string(s.stalled_minutes));
    queue_.set_settings(s);
    queue_dirty_ = true;
    house_cv_.notify_all();  // a bigger queue starts what waits now, not in a second
}

bool Daemon::queue_start(TorrentId id, const piecewise::TorrentStatus& st) {
    queue_.set_wanted(id, true);
    queue_dirty_ = true;
    // Running already (a start-now only lifts the queue). An errored torrent is not
    // paused but stopped: starting it is how the user resumes it once the cause is fixed.
    if (!st.paused && st.state != TorrentState::error) return true;
    if (!queue_.forced(id) && !queue_.has_slot(complete(st), queue::Clock::now()))
        return true;  // queued: the housekeeping starts it when a slot frees
    if (!session_->resume(id)) return false;
    queue_.started(id, {}, queue::Clock::now());
    return true;
}

bool Daemon::start_now(TorrentId id) {
    {
        std::lock_guard lk(mu_);
        if (!hashes_.count(id)) return false;
        queue_.set_forced(id, true);
    }
    return start(id);
}

int Daemon::queue_position(TorrentId id) {
    std::lock_guard lk(mu_);
    return queue_.position(id);
}

bool Daemon::queue_stalled(TorrentId id) {
    std::lock_guard lk(mu_);
    return queue_.stalled(id, queue::Clock::now());
}

void Daemon::queue_move(QueueMove how, const std::vector<TorrentId>& ids) {
    std::lock_guard lk(mu_);
    switch (how) {
        case QueueMove::top:
            queue_.move_top(ids);
            break;
        case QueueMove::up:
            queue_.move_up(ids);
            break;
        case QueueMove::down:
            queue_.move_down(ids);
            break;
        case QueueMove::bottom:
            queue_.move_bottom(ids);
            break;
    }
    save_positions();
    queue_dirty_ = true;
}

bool Daemon::set_queue_position(TorrentId id, int position) {
    std::lock_guard lk(mu_);
    if (!queue_.contains(id)) return false;
    queue_.set_position(id, position);
    save_positions();
    queue_dirty_ = true;
    return true;
}

// Also fills save_path with the download dir of a torrent still in the incomplete dir.
void Daemon::fill_queued(TorrentId id, piecewise::TorrentStatus& st) {
    // Started by the user and paused in the engine: waiting for a slot (or about to run).
    st.queued = st.paused && st.state != TorrentState::error && queue_.wanted(id);
    // In the incomplete dir: the download dir it moves to (torrent-get's downloadDir).
    if (auto f = final_dirs_.find(id); f != final_dirs_.end()) st.save_path = f->second;
}

std::optional<piecewise::TorrentStatus> Daemon::status(TorrentId id) {
    auto st = session_->status(id);
    if (st) {
        std::lock_guard lk(mu_);
        fill_queued(id, *st);
    }
    return st;
}

std::vector<std::pair<TorrentId, piecewise::TorrentStatus>> Daemon::status_all() {
    auto all = session_->status_all();
    std::lock_guard lk(mu_);
    for (auto& [id, st] : all) fill_queued(id, st);
    return all;
}

std::optional<std::vector<std::pair<TorrentId, piecewise::TorrentStatus>>> Daemon::queue_observe() {
    {
        std::lock_guard lk(mu_);
        if (!queue_dirty_ && !queue_.busy()) return std::nullopt;
        queue_dirty_ = false;
    }
    return session_->status_all();
}

void Daemon::queue_decide(const std::vector<std::pair<TorrentId, piecewise::TorrentStatus>>& all) {
    std::vector<queue::Observation> obs;
    obs.reserve(all.size());
    for (auto& [id, st] : all)
        obs.push_back({id, phase_of(st), complete(st), st.downloaded, st.uploaded});
    for (auto id : queue_.update(obs, queue::Clock::now()))
        if (!session_->resume(id)) queue_.stopped(id);  // removed meanwhile
}

std::vector<GroupLimits> Daemon::groups() {
    std::lock_guard lk(mu_);
    std::vector<GroupLimits> out;
    for (auto& [name, g] : groups_) out.push_back(g);
    return out;
}

void Daemon::set_group(const GroupLimits& g) {
    std::lock_guard lk(mu_);
    session_->set_bandwidth_group(g.engine());  // throws Error for a bad group
    store_->set_setting(group_prefix + g.name, encode_group(g));
    groups_[g.name] = g;
}

bool Daemon::set_torrent_group(TorrentId id, const std::string& name) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    if (!name.empty() && !groups_.count(name)) {
        // As Transmission: naming a group makes it (without limits).
        GroupLimits g;
        g.name = name;
        session_->set_bandwidth_group(g.engine());
        store_->set_setting(group_prefix + name, encode_group(g));
        groups_[name] = g;
    }
    if (!session_->set_torrent_group(id, name)) return false;
    store_->set_torrent_setting(h->second, "group", name);
    extras_[id].group = name;
    return true;
}

}  // namespace pw::daemon
