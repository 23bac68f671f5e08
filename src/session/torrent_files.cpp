// File priorities, selective and sequential download: the Torrent side (coordination).
// The pure mapping (file -> piece priorities, totals) is in swarm/file_priority; picking
// by priority in swarm/piece_picker; the parts file in storage/storage.
//
// A skipped file's pieces are taken out of the picker; a boundary piece (shared with a
// wanted file) stays wanted and its skipped bytes go to the parts file. Interest in a
// peer counts only wanted pieces it has. Setting priorities moves data on a disk thread
// (arrange_files) and never blocks the network thread.
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <filesystem>

#include "session/torrent.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::EventType;
using piecewise::TorrentState;

namespace {
std::vector<swarm::FileSpan> spans(const meta::Metainfo& m) {
    std::vector<swarm::FileSpan> out;
    out.reserve(m.files.size());
    for (auto& f : m.files) out.push_back({f.offset, f.length, f.pad});
    return out;
}
}  // namespace

void Torrent::init_priorities() {
    file_prio_ = swarm::normalise_priorities(spans(meta_), params_.file_priorities);
    piece_prio_ =
        swarm::piece_priorities(spans(meta_), file_prio_, meta_.piece_length, meta_.num_pieces());
    for (int i = 0; i < meta_.num_pieces(); ++i)
        picker_.set_priority(i, piece_prio_[static_cast<std::size_t>(i)]);
    picker_.set_sequential(params_.sequential);
    recount_wanted();
    storage_->set_parts_path(storage_->root() / ("." + meta_.info_hash.hex() + ".parts"));
}

storage::StorageError Torrent::arrange_files(storage::Storage& st, const std::vector<int>& prios,
                                             std::int64_t piece_length) {
    const auto& files = st.files();
    for (std::size_t i = 0; i < files.size() && i < prios.size(); ++i) {
        int f = static_cast<int>(i);
        if (files[i].pad || files[i].length == 0) continue;
        if (prios[i] == 0) {
            st.park_if_absent(f);
            continue;
        }
        // Wanted: bytes parked earlier (only boundary pieces can have any) move into it.
        std::error_code ec;
        bool parked = st.uses_parts(f);
        if (!parked && !std::filesystem::exists(st.full_path(f), ec) &&
            std::filesystem::exists(st.parts_path(), ec))
            parked = st.park_if_absent(f);
        if (!parked) continue;
        auto r = swarm::file_pieces({files[i].offset, files[i].length, false}, piece_length);
        std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
        for (int p : {r.first, r.last})
            ranges.emplace_back(std::int64_t(p) * piece_length, std::int64_t(p + 1) * piece_length);
        if (auto err = st.unpark(f, ranges)) return err;
    }
    st.drop_parts_if_unused();
    return {};
}

void Torrent::recount_wanted() {
    wanted_left_ = 0;
    for (int i = 0; i < meta_.num_pieces(); ++i) wanted_left_ += piece_wanted(i) && !have_.get(i);
}

int Torrent::count_interesting(const PeerConnection& p) const {
    if (p.seed) {
        int n = 0;
        for (int i = 0; i < meta_.num_pieces(); ++i) n += piece_wanted(i) && !have_.get(i);
        return n;
    }
    int n = 0;
    for (int i = 0; i < meta_.num_pieces(); ++i)
        n += p.has.get(i) && piece_wanted(i) && !have_.get(i);
    return n;
}

void Torrent::set_sequential(bool on) {
    params_.sequential = on;
    picker_.set_sequential(on);
    for (auto& q : std::vector(peers_)) {
        q->pick_failed_epoch = ~0ull;
        request_more(*q);
    }
}

void Torrent::set_file_priorities(std::vector<int> prios) {
    auto next = swarm::normalise_priorities(spans(meta_), std::move(prios));
    params_.file_priorities = next;
    if (next == file_prio_) return;
    file_prio_ = next;
    // Data moves (parking, unparking) on the disk pool. A paused torrent does it when it
    // starts again (begin_check arranges the files before anything is read); a checking
    // one when the check is over (on_checked).
    if (!paused_ && state_ != TorrentState::checking) post_arrange();
    apply_priorities();
}

void Torrent::post_arrange() {
    arranged_prio_ = file_prio_;
    ++watch_epoch_;  // files may move: the watch starts over
    watch_base_.clear();
    ++disk_jobs_;
    auto self = shared_from_this();
    auto storage = storage_;
    std::int64_t plen = meta_.piece_length;
    ctx_.disk.post([self, storage, prios = file_prio_, plen] {
        auto err = arrange_files(*storage, prios, plen);
        asio::post(self->ctx_.io, [self, err] {
            --self->disk_jobs_;
            if (err) return self->fail_torrent(err.message());
            self->save_resume();
        });
    });
}

void Torrent::apply_priorities() {
    piece_prio_ =
        swarm::piece_priorities(spans(meta_), file_prio_, meta_.piece_length, meta_.num_pieces());
    for (int i = 0; i < meta_.num_pieces(); ++i) {
        int pr = piece_prio_[static_cast<std::size_t>(i)];
        picker_.set_priority(i, pr);
        // Newly wanted: a candidate again unless had or being downloaded.
        if (pr > 0 && !have_.get(i) && !partials_.count(i)) picker_.add(i);
    }
    recount_wanted();
    if (stopping_ || (state_ != TorrentState::downloading && state_ != TorrentState::seeding))
        return;
    if (state_ == TorrentState::seeding && !wanted_done()) {
        state_ = TorrentState::downloading;
        finished_emitted_ = false;
    }
    for (auto& q : std::vector(peers_)) {
        if (q->closed()) continue;
        q->interesting = count_interesting(*q);
        q->pick_failed_epoch = ~0ull;
        update_interest(*q);
        request_more(*q);
    }
    finish_wanted();
}

void Torrent::finish_wanted() {
    if (state_ != TorrentState::downloading || !wanted_done()) return;
    state_ = TorrentState::seeding;
    completed_pending_ = have_.all();
    if (completed_pending_) tracker_wake_.cancel();
    save_resume();
    if (!finished_emitted_) {
        finished_emitted_ = true;
        emit_finished();
    }
    for (auto& q : std::vector(peers_)) {
        update_interest(*q);
        if (q->seed && is_seed()) q->close("both sides are seeds");
    }
}

void Torrent::fill_wanted_status(piecewise::TorrentStatus& s) const {
    auto t = swarm::wanted_totals(piece_prio_, have_, meta_.piece_length, meta_.total_size);
    s.size_when_done = t.size_when_done;
    s.left_until_done = t.left_until_done;
    s.sequential = params_.sequential;
    std::int64_t avail = 0;
    for (int i = 0; i < meta_.num_pieces(); ++i)
        if (piece_wanted(i) && !have_.get(i) && picker_.availability(i) > 0)
            avail += meta_.piece_size(i);
    s.desired_available = avail;
}

void Torrent::emit_finished() {
    if (part_renames_ > 0) {
        finish_deferred_ = true;  // sent when the last rename is done
        return;
    }
    finish_deferred_ = false;
    emit(EventType::torrent_finished, have_.all() ? "all pieces verified and on disk"
                                                  : "all wanted pieces verified and on disk");
}

bool Torrent::finish_part_files(int piece) {
    // Whether every piece of file f is verified (`piece` counts as verified).
    auto complete = [&](int f) {
        const auto& fe = meta_.files[static_cast<std::size_t>(f)];
        if (fe.pad || fe.length == 0) return false;
        if (have_.all()) return true;
        int first = static_cast<int>(fe.offset / meta_.piece_length);
        int last = static_cast<int>((fe.offset + fe.length - 1) / meta_.piece_length);
        for (int p = first; p <= last; ++p)
            if (p != piece && !have_.get(p)) return false;
        return true;
    };
    std::vector<int> files;
    if (piece < 0) {
        // Any complete file may still carry the suffix (cut off between its last piece and
        // the rename, or vouched for by a record); finish_file() looks.
        for (int f = 0; f < static_cast<int>(meta_.files.size()); ++f)
            if (complete(f)) files.push_back(f);
    } else {
        // Only files seen under the partial name: nothing to do (and no scan) otherwise.
        for (const auto& sl : storage_->map(std::int64_t(piece) * meta_.piece_length,
                                            meta_.piece_size(piece)))
            if (storage_->part_named(sl.file) && complete(sl.file)) files.push_back(sl.file);
    }
    if (files.empty()) return false;
    if (piece < 0) ++part_renames_;
    ++disk_jobs_;
    auto self = shared_from_this();
    ctx_.disk.post([self, piece, storage = storage_, files = std::move(files)] {
        std::string error;
        for (int f : files)
            if (auto err = storage->finish_file(f); err && error.empty()) error = err.message();
        asio::post(self->ctx_.io, [self, piece, error = std::move(error)] {
            --self->disk_jobs_;
            // The data is complete either way: a file that could not be renamed keeps its
            // partial name (and is found under it), so this is reported, not fatal.
            if (!error.empty()) self->emit(EventType::storage_error, "finishing a file: " + error);
            if (piece >= 0) {
                self->on_have_piece(piece);
                for (auto& q : std::vector(self->peers_)) self->request_more(*q);
            } else if (--self->part_renames_ == 0 && self->finish_deferred_) {
                self->emit_finished();
            }
        });
    });
    return true;
}

}  // namespace pw::session
