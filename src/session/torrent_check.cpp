// Startup: trust the fast-resume record for the files that still match it, hash the
// pieces touching the others (everything without a usable record); then start trackers,
// peers and the periodic tick.
#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "lsd/discovery_set.hpp"
#include "session/torrent.hpp"
#include "storage/file_change.hpp"
#include "storage/resume.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::EventType;
using piecewise::TorrentState;

std::filesystem::path Torrent::resume_path() const {
    return std::filesystem::path(ctx_.resume_dir) / (meta_.info_hash.hex() + ".resume");
}

void Torrent::begin_check() {
    state_ = TorrentState::checking;
    check_progress_ = std::make_shared<storage::CheckProgress>();
    auto self = shared_from_this();
    auto storage = storage_;
    auto progress = check_progress_;
    auto file = resume_path();
    unsigned threads = ctx_.disk.size();
    bool create_files = !params_.upload_only;
    auto prios = file_prio_;
    arranged_prio_ = prios;
    ctx_.disk.post([this, self, storage, progress, file, threads, create_files, prios] {
        std::vector<bool> have;
        // What the resume record vouches for; the pieces it cannot vouch for (they touch
        // files changed since it was written) are hashed, all of them without a record.
        std::optional<std::vector<signed char>> plan;
        if (auto r = storage::load_resume_file(file, meta_.num_pieces()))
            plan = storage::resume_plan(*r, meta_, storage::stamp_files(meta_.files, storage->root()),
                                        storage->root(), storage::stamp_file(storage->parts_path()));
        const auto rechecked =
            plan ? std::count(plan->begin(), plan->end(), -1) : meta_.num_pieces();
        // Skipped files live in the parts file, files wanted again get their parked bytes
        // back: decided before anything is read (the record was judged just above).
        storage::StorageError err = arrange_files(*storage, prios, meta_.piece_length);
        std::string how;
        if (plan && rechecked == 0) {
            have.reserve(plan->size());
            for (signed char k : *plan) have.push_back(k == 1);
            how = "resume data";
        } else {
            have = storage::check_pieces(meta_, *storage, threads, progress.get(),
                                         plan ? &*plan : nullptr);
            how = plan ? fmt::format("resume data, {} pieces of changed files checked", rechecked)
                       : "checked";
        }
        // Zero-length files are never written by pieces: create them (and the
        // directory tree) now, as other clients do.
        if (create_files && !err) err = storage->create_empty_files();
        asio::post(ctx_.io, [self, have = std::move(have), how = std::move(how), err]() mutable {
            if (err) return self->fail_torrent(err.message());
            self->on_checked(std::move(have), how);
        });
    });
}

void Torrent::on_checked(std::vector<bool> have, const std::string& how) {
    if (stopping_) return;
    for (int i = 0; i < meta_.num_pieces(); ++i)
        if (i < static_cast<int>(have.size()) && have[static_cast<std::size_t>(i)]) {
            have_.set(i);
            picker_.remove(i);
        }
    recount_wanted();
    // Priorities changed during the check: move the files' data for them now.
    if (file_prio_ != arranged_prio_) post_arrange();
    state_ = wanted_done() ? TorrentState::seeding : TorrentState::downloading;
    emit(EventType::torrent_checked,
         fmt::format("{} of {} pieces present ({})", have_.count(), meta_.num_pieces(), how));
    if (!params_.upload_only) finish_part_files(-1);  // complete files get their own names
    if (state_ == TorrentState::seeding) {
        finished_emitted_ = true;
        emit_finished();
    }
    // Record the check so a restart can trust it (and, after files were arranged, their
    // new stamps).
    save_resume();
    // A client's queue holds it: paused now, before any announce or peer (resume() starts it).
    bool hold = state_ == TorrentState::seeding ? params_.hold_if_complete
                                                : params_.hold_if_incomplete;
    params_.hold_if_incomplete = params_.hold_if_complete = false;
    if (hold) {
        paused_ = true;  // at once: never seen running
        asio::co_spawn(
            ctx_.io,
            [self = shared_from_this()]() -> asio::awaitable<void> {
                co_await self->shutdown(std::chrono::seconds(1));
                self->settled_ = true;
            },
            asio::detached);
        return;
    }

    if (ctx_.lsd && !meta_.is_private) ctx_.lsd->announce(meta_.info_hash);  // BEP 14
    auto self = shared_from_this();
    if (!trackers_.empty()) {
        tracker_running_ = true;
        asio::co_spawn(ctx_.io, tracker_loop(), asio::detached);
    }
    tick();
    schedule_tick();
}

void Torrent::schedule_tick() {
    // Once a second: connections, timeouts; every ten seconds: rechoke.
    auto self = shared_from_this();
    // On the next whole second of the steady clock, the same for every torrent: a
    // thousand idle torrents then cost one wakeup a second, not a thousand spread over it.
    auto now = std::chrono::steady_clock::now();
    tick_timer_.expires_at(std::chrono::floor<std::chrono::seconds>(now) + std::chrono::seconds(1));
    tick_timer_.async_wait([self](boost::system::error_code ec) {
        if (ec || self->stopping_) return;
        self->tick();
        self->schedule_tick();
    });
}

void Torrent::save_resume() {
    if (state_ == TorrentState::checking) return;
    pieces_since_resume_ = 0;
    storage::ResumeData r;
    r.info_hash = meta_.info_hash;
    r.save_path = storage_->root().string();
    r.have = have_.to_vector();
    r.priorities = file_prio_;
    auto storage = storage_;
    auto file = resume_path();
    auto files = meta_.files;
    ++disk_jobs_;
    auto self = shared_from_this();
    ctx_.disk.post([self, storage, file, files, r = std::move(r), suspect = suspect_]() mutable {
        r.files = storage::stamp_files(files, storage->root());
        // A file whose reads failed or that changed behind our back: not vouched for.
        for (std::size_t i = 0; i < suspect.size() && i < r.files.size(); ++i)
            if (suspect[i]) r.files[i] = storage::suspect_stamp;
        r.parts = storage::stamp_file(storage->parts_path());
        storage::save_resume_file(file, r);
        asio::post(self->ctx_.io, [self] { --self->disk_jobs_; });
    });
}

}  // namespace pw::session
