// Files changed behind our back while we hold them complete (storage/file_change.hpp):
// every 5 s a disk job stamps up to 64 settled files (round robin) and the network thread
// compares each stamp with the one taken when the file settled. A change, like a failed
// read, stops the torrent with one line naming the file and marks the file suspect, so the
// resume data no longer vouches for it: a restart (torrent-start) or a recheck hashes it
// again and the pieces now missing are fetched from peers.
//
// Why not verify each piece as it is uploaded: that costs a read of the whole piece and a
// hash per piece served (libtorrent and Transmission do not either). Between a change and
// the next watch pass, a file rewritten in place may serve wrong bytes; peers hash-fail
// them (and ban us at worst), nothing wrong is ever stored by them.
#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "session/torrent.hpp"
#include "storage/file_change.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::TorrentState;

namespace {
constexpr std::size_t files_per_pass = 64;
}

bool Torrent::file_settled(int file) const {
    const auto& f = meta_.files[static_cast<std::size_t>(file)];
    if (f.pad || f.length == 0 || meta_.piece_length <= 0) return false;
    // A skipped file may live in the parts file (and be moved out of it): not watched.
    if (file_prio_[static_cast<std::size_t>(file)] == 0) return false;
    int first = static_cast<int>(f.offset / meta_.piece_length);
    int last = static_cast<int>((f.offset + f.length - 1) / meta_.piece_length);
    for (int p = first; p <= last; ++p)
        if (!have_.get(p)) return false;
    return true;
}

void Torrent::watch_files() {
    if (watch_running_ || stopping_ || !accepting() || meta_.files.empty()) return;
    const std::size_t n = meta_.files.size();
    if (watch_base_.size() != n) watch_base_.assign(n, std::nullopt);
    std::vector<int> files;
    for (std::size_t k = 0; k < n && files.size() < files_per_pass; ++k) {
        int i = static_cast<int>((watch_cursor_ + k) % n);
        if (file_settled(i)) files.push_back(i);
    }
    watch_cursor_ = files.empty() ? 0 : (static_cast<std::size_t>(files.back()) + 1) % n;
    if (files.empty()) return;
    watch_running_ = true;
    ++disk_jobs_;
    auto self = shared_from_this();
    auto storage = storage_;
    int epoch = watch_epoch_;
    ctx_.disk.post([self, storage, files = std::move(files), epoch]() mutable {
        std::vector<storage::FileStamp> now;
        for (int i : files) now.push_back(storage::stamp_file(storage->full_path(i)));
        asio::post(self->ctx_.io, [self, files = std::move(files), now = std::move(now), epoch] {
            --self->disk_jobs_;
            self->watch_running_ = false;
            if (epoch != self->watch_epoch_ || self->stopping_ || !self->accepting()) return;
            if (self->watch_base_.size() != self->meta_.files.size()) return;
            for (std::size_t k = 0; k < files.size(); ++k) {
                auto& base = self->watch_base_[static_cast<std::size_t>(files[k])];
                if (!base) {
                    base = now[k];  // settled since the last pass: its stamp from now on
                    continue;
                }
                const auto& f = self->meta_.files[static_cast<std::size_t>(files[k])];
                if (auto what = storage::file_change(*base, now[k], f.length)) {
                    self->fail_file(
                        files[k], fmt::format("file changed on disk: {}: {}",
                                              self->storage_->full_path(files[k]).string(), *what));
                    return;
                }
            }
        });
    });
}

void Torrent::fail_file(int file, const std::string& why) {
    if (suspect_.size() != meta_.files.size()) suspect_.assign(meta_.files.size(), 0);
    if (file >= 0 && file < static_cast<int>(suspect_.size()))
        suspect_[static_cast<std::size_t>(file)] = 1;
    fail_torrent(why);
}

void Torrent::fail_storage(const storage::StorageError& err) {
    // Compared by name only (no stat on the network thread): the file's own name or its
    // partial one (storage.hpp).
    int file = -1;
    const auto root = storage_->root();
    for (std::size_t i = 0; i < meta_.files.size() && file < 0 && !err.file.empty(); ++i) {
        std::string own = (root / meta_.files[i].path).string();
        if (err.file == own || err.file == own + ".part") file = static_cast<int>(i);
    }
    fail_file(file, err.message());
}

}  // namespace pw::session
