// The daemon's cumulative statistics: session-stats' cumulative-stats (uploaded and
// downloaded bytes, files added, session count, seconds active over every run) and each
// torrent's downloadedEver, uploadedEver, corruptEver, secondsSeeding and
// secondsDownloading, which survive pauses (the engine carries its counters) and restarts
// (the store; a torrent is re-added with its stored totals as AddTorrentParams::*_before).
//
// Timing: the housekeeping thread samples every torrent's state every few seconds (one
// status_all round trip) to count seconds seeding / downloading, and writes the totals
// every minute and at shutdown; the writes run on the store's writer thread, never the
// network thread. A kill -9 loses at most the last minute of counting.
#include <algorithm>
#include <ctime>
#include <iostream>

#include "daemon/daemon.hpp"
#include "meta/metainfo.hpp"

namespace pw::daemon {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto sample_every = std::chrono::seconds(5);
constexpr auto flush_every = std::chrono::seconds(60);

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

std::map<std::string, std::int64_t> session_row(const StatsTotals& t) {
    return {{"uploaded_bytes", t.uploaded},
            {"downloaded_bytes", t.downloaded},
            {"files_added", t.files_added},
            {"session_count", t.session_count},
            {"seconds_active", t.seconds_active}};
}

}  // namespace

void Daemon::load_totals() {
    auto stored = store_->load_totals();
    auto get = [&](const char* k) {
        auto it = stored.session.find(k);
        return it == stored.session.end() || it->second < 0 ? std::int64_t(0) : it->second;
    };
    session_base_.uploaded = get("uploaded_bytes");
    session_base_.downloaded = get("downloaded_bytes");
    session_base_.files_added = get("files_added");
    session_base_.session_count = get("session_count");
    session_base_.seconds_active = get("seconds_active");
    loaded_totals_ = std::move(stored.torrents);
    flushed_totals_ = loaded_totals_;
    // This run counts as a session from its start, also if it is killed.
    auto row = session_base_;
    ++row.session_count;
    store_->put_totals(session_row(row), {});
}

void Daemon::apply_totals(const std::string& hash, piecewise::AddTorrentParams& p,
                          TorrentExtras& e) {
    auto it = loaded_totals_.find(hash);
    if (it == loaded_totals_.end()) return;
    const auto& t = it->second;
    p.downloaded_before = std::max<std::int64_t>(0, t.downloaded);
    p.uploaded_before = std::max<std::int64_t>(0, t.uploaded);
    p.corrupt_before = std::max<std::int64_t>(0, t.corrupt);
    e.stored_totals = t;
    e.seeding_ms = std::max<std::int64_t>(0, t.seconds_seeding) * 1000;
    e.downloading_ms = std::max<std::int64_t>(0, t.seconds_downloading) * 1000;
}

void Daemon::count_files_added(const std::string& torrent) {
    // Transmission counts a torrent's files when it is added; a magnet's are unknown then.
    try {
        auto m = pw::meta::parse(torrent);
        for (auto& f : m.files) files_added_ += f.pad ? 0 : 1;
    } catch (const std::exception&) {
    }
}

void Daemon::sample_totals(bool flush) {
    auto now = Clock::now();
    if (!flush && now - last_sample_ < sample_every) return;
    auto all = session_->status_all();
    auto counters = session_->session_stats();
    std::map<std::string, state::TorrentTotals> changed;
    StatsTotals session;
    {
        std::lock_guard lk(mu_);
        auto dt =
            last_sample_ == Clock::time_point{}
                ? std::int64_t(0)
                : std::chrono::duration_cast<std::chrono::milliseconds>(now - last_sample_).count();
        last_sample_ = now;
        for (auto& [id, st] : all) {
            auto h = hashes_.find(id);
            auto e = extras_.find(id);
            if (h == hashes_.end() || e == extras_.end()) continue;  // removed meanwhile
            auto& ex = e->second;
            // Seconds as Transmission counts them: while seeding, and while downloading
            // (fetching metadata included); never while paused, checking or in error.
            if (!st.paused && st.state == piecewise::TorrentState::seeding)
                ex.seeding_ms += dt;
            else if (!st.paused && (st.state == piecewise::TorrentState::downloading ||
                                    st.state == piecewise::TorrentState::metadata))
                ex.downloading_ms += dt;
            if (!flush && now - last_flush_ < flush_every) continue;
            // A magnet still fetching its metadata reports zero: its stored bytes stand.
            state::TorrentTotals t;
            t.downloaded = std::max(st.downloaded, ex.stored_totals.downloaded);
            t.uploaded = std::max(st.uploaded, ex.stored_totals.uploaded);
            t.corrupt = std::max(st.corrupt, ex.stored_totals.corrupt);
            t.seconds_seeding = ex.seeding_ms / 1000;
            t.seconds_downloading = ex.downloading_ms / 1000;
            auto& last = flushed_totals_[h->second];
            if (!(last == t)) changed[h->second] = last = t;
        }
        if (!flush && now - last_flush_ < flush_every) return;
        last_flush_ = now;
        session = session_base_;
        ++session.session_count;
        session.uploaded += static_cast<std::int64_t>(counters.payload_uploaded);
        session.downloaded += static_cast<std::int64_t>(counters.payload_downloaded);
        session.files_added += files_added_;
        session.seconds_active += unix_now() - started_at_;
    }
    try {
        store_->put_totals(session_row(session), changed);
    } catch (const std::exception& e) {
        std::cerr << "piecewise daemon: statistics not saved: " << e.what() << "\n";
    }
}

StatsSnapshot Daemon::stats() {
    StatsSnapshot s;
    auto all = status_all();  // queued torrents count as active
    auto counters = session_->session_stats();
    for (auto& [id, st] : all) {
        ++s.torrents;
        if (st.paused && !st.queued)
            ++s.paused;
        else
            ++s.active;
        s.down_rate += st.down_rate;
        s.up_rate += st.up_rate;
    }
    // This run's payload, removed torrents included (the engine's session counters).
    s.downloaded = static_cast<std::int64_t>(counters.payload_downloaded);
    s.uploaded = static_cast<std::int64_t>(counters.payload_uploaded);
    std::lock_guard lk(mu_);
    s.seconds_active = unix_now() - started_at_;
    s.files_added = files_added_;
    s.cumulative = session_base_;
    s.cumulative.uploaded += s.uploaded;
    s.cumulative.downloaded += s.downloaded;
    s.cumulative.files_added += s.files_added;
    s.cumulative.session_count += 1;
    s.cumulative.seconds_active += s.seconds_active;
    return s;
}

}  // namespace pw::daemon
