// torrent-set / torrent-add file selection for the daemon: Transmission's wanted flags and
// low/normal/high priorities mapped onto the engine's levels (0 skip, 1 low, 4 normal,
// 7 high), applied through Session and committed to the store.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "daemon/daemon.hpp"
#include "meta/metainfo.hpp"

namespace pw::daemon {

std::vector<int> apply_file_change(std::vector<int> prios, const FileChange& c) {
    const int n = static_cast<int>(prios.size());
    auto each = [&](const FileList& l, auto fn) {
        if (!l.present) return;
        if (l.indices.empty()) {  // Transmission: an empty list means every file
            for (int i = 0; i < n; ++i) fn(prios[static_cast<std::size_t>(i)]);
            return;
        }
        for (int i : l.indices) {
            if (i < 0 || i >= n)
                throw piecewise::Error("no file " + std::to_string(i) + " (the torrent has " +
                                       std::to_string(n) + (n == 1 ? " file)" : " files)"));
            fn(prios[static_cast<std::size_t>(i)]);
        }
    };
    each(c.unwanted, [](int& p) { p = 0; });
    each(c.wanted, [](int& p) {
        if (p == 0) p = 4;
    });
    // A priority changes a wanted file's level; a skipped file stays skipped.
    each(c.low, [](int& p) {
        if (p) p = 1;
    });
    each(c.normal, [](int& p) {
        if (p) p = 4;
    });
    each(c.high, [](int& p) {
        if (p) p = 7;
    });
    return prios;
}

std::vector<int> with_pad_files(const std::vector<int>& listed, const std::vector<bool>& is_pad) {
    std::vector<int> out;
    std::size_t k = 0;
    for (bool pad : is_pad) out.push_back(pad ? 0 : (k < listed.size() ? listed[k++] : 4));
    if (is_pad.empty()) out = listed;
    return out;
}

std::vector<bool> Daemon::pad_flags(const std::string& hash) {
    std::string bytes;
    for (auto& row : store_->load())
        if (row.info_hash == hash) bytes = row.torrent;
    std::error_code ec;
    if (bytes.empty() && std::filesystem::exists(torrent_file_for(hash), ec)) {
        std::ifstream in(torrent_file_for(hash), std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::vector<bool> out;
    try {
        for (auto& f : pw::meta::parse(bytes).files) out.push_back(f.pad);
    } catch (const std::exception&) {
        out.clear();
    }
    return out;
}

bool Daemon::set_files(piecewise::TorrentId id, const FileChange& c) {
    std::lock_guard lk(mu_);
    auto h = hashes_.find(id);
    if (h == hashes_.end()) return false;
    auto st = session_->status(id);
    if (!st) return false;
    std::vector<int> prios;
    for (auto& f : st->files) prios.push_back(f.priority);
    if (c.files()) {
        if (st->num_pieces == 0)
            throw piecewise::Error("the torrent's file list is not known yet (no metadata)");
        prios = apply_file_change(std::move(prios), c);
        if (!session_->set_file_priorities(id, with_pad_files(prios, pad_flags(h->second))))
            return false;
    }
    bool seq = c.sequential.value_or(st->sequential);
    if (c.sequential && !session_->set_sequential(id, seq)) return false;
    store_->set_file_options(h->second, {with_pad_files(prios, pad_flags(h->second)), seq});
    queue_dirty_ = true;  // a seed with files wanted again downloads: the queue counts it
    return true;
}

}  // namespace pw::daemon
