// Control calls the daemon needs on one torrent: starting paused (resume data only, or
// a forced check), re-announcing now, and the detailed status (files and peers).
#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "lsd/discovery_set.hpp"
#include "session/torrent.hpp"
#include "storage/resume.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::EventType;
using piecewise::TorrentState;

void Torrent::start_paused(bool check) {
    // `stopping_` keeps the tick, trackers and incoming peers away: a paused torrent is a
    // shut-down torrent that still answers status.
    stopping_ = true;
    paused_ = true;
    state_ = check ? TorrentState::checking : TorrentState::stopped;
    check_progress_ = std::make_shared<storage::CheckProgress>();
    auto self = shared_from_this();
    auto storage = storage_;
    auto progress = check_progress_;
    auto file = resume_path();
    unsigned threads = ctx_.disk.size();
    ++disk_jobs_;
    auto prios = file_prio_;
    ctx_.disk.post([this, self, storage, progress, file, threads, check, prios] {
        std::optional<std::vector<bool>> have;
        auto resume = check ? std::nullopt : storage::load_resume_file(file, meta_.num_pieces());
        bool trusted = resume && storage::resume_matches(*resume, meta_, storage->root(),
                                                         storage->parts_path());
        auto err = arrange_files(*storage, prios, meta_.piece_length);
        if (err) {
            trusted = false;  // a file could not be arranged: nothing on disk is known
        } else if (check) {
            have = storage::check_pieces(meta_, *storage, threads, progress.get());
            storage::ResumeData r;
            r.info_hash = meta_.info_hash;
            r.save_path = storage->root().string();
            r.have = *have;
            r.priorities = prios;
            storage->close_all();
            r.files = storage::stamp_files(meta_.files, storage->root());
            r.parts = storage::stamp_file(storage->parts_path());
            storage::save_resume_file(file, r);
        } else if (trusted) {
            have = resume->have;
            // Files may have moved (arranged): record their new stamps.
            resume->priorities = prios;
            storage->close_all();
            resume->files = storage::stamp_files(meta_.files, storage->root());
            resume->parts = storage::stamp_file(storage->parts_path());
            storage::save_resume_file(file, *resume);
        }
        asio::post(ctx_.io, [self, have = std::move(have), check]() {
            --self->disk_jobs_;
            if (have)
                for (int i = 0; i < self->meta_.num_pieces(); ++i)
                    if (i < static_cast<int>(have->size()) && (*have)[static_cast<std::size_t>(i)])
                        self->have_.set(i);
            self->recount_wanted();
            if (self->state_ != TorrentState::error) self->state_ = TorrentState::stopped;
            self->settled_ = true;
            if (check)
                self->emit(EventType::torrent_checked,
                           fmt::format("{} of {} pieces present (checked)", self->have_.count(),
                                       self->meta_.num_pieces()));
        });
    });
}

asio::awaitable<void> Torrent::pause(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    if (paused_) co_return;
    paused_ = true;
    co_await shutdown(timeout);
    settled_ = true;
}

void Torrent::reannounce() {
    if (stopping_) return;
    // The tracker loop sleeps on tracker_wake_: waking it announces at once.
    if (tracker_running_) tracker_wake_.cancel();
    if (ctx_.dht && !meta_.is_private && accepting()) dht_lookup();
}

void Torrent::discovery_started() {
    if (stopping_ || meta_.is_private || !accepting()) return;
    if (ctx_.dht) dht_lookup();
    if (ctx_.lsd) ctx_.lsd->announce(meta_.info_hash);
}

void Torrent::detailed_status(piecewise::TorrentStatus& s) const {
    s.paused = paused_;
    s.save_path = storage_->root().string();
    s.piece_length = meta_.piece_length;
    s.files.reserve(meta_.files.size());
    const int n = meta_.num_pieces();
    for (auto& f : meta_.files) {
        if (f.pad) continue;
        piecewise::FileStatus fs;
        fs.path = f.path;
        fs.priority = file_prio_[static_cast<std::size_t>(&f - meta_.files.data())];
        fs.size = f.length;
        if (f.length > 0 && meta_.piece_length > 0) {
            std::int64_t end = f.offset + f.length;
            int first = static_cast<int>(f.offset / meta_.piece_length);
            int last = static_cast<int>((end - 1) / meta_.piece_length);
            for (int p = first; p <= last && p < n; ++p) {
                if (!have_.get(p)) continue;
                std::int64_t pb = std::int64_t(p) * meta_.piece_length;
                std::int64_t pe = pb + meta_.piece_size(p);
                fs.bytes_done += std::min(pe, end) - std::max(pb, f.offset);
            }
        }
        s.files.push_back(std::move(fs));
    }
    for (auto& p : peers_) {
        if (p->closed() || p->choke_id == 0) continue;  // not past the handshake
        piecewise::PeerStatus ps;
        ps.address = p->remote().address().to_string();
        ps.port = p->remote().port();
        ps.client = p->client_name();
        ps.outgoing = p->outgoing();
        ps.downloading_from = p->am_interested && !p->peer_choking;
        ps.uploading_to = p->peer_interested && !p->am_choking;
        ps.down_rate = p->down.rate();
        ps.up_rate = p->up.rate();
        ps.progress = n > 0 ? double(p->seed ? n : p->has.count()) / n : 0;
        s.peer_list.push_back(std::move(ps));
    }
    s.pieces = std::string(have_.wire());
    count_active_peers(s);
}

}  // namespace pw::session
