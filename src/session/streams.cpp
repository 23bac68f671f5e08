#include "session/streams.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "session/torrent.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::StreamRead;

StreamRegistry::StreamRegistry(asio::io_context& io, storage::DiskPool& disk,
                               const Torrents& torrents)
    : io_(io), disk_(disk), torrents_(torrents), timer_(io) {}

StreamRegistry::~StreamRegistry() {
    close_all();
}

void StreamRegistry::close_all() {
    auto reads = std::move(pending_);
    pending_.clear();
    std::vector<piecewise::TorrentId> ids;
    for (auto& [sid, s] : streams_) ids.push_back(s.torrent);
    streams_.clear();
    for (auto id : ids) refocus(id);
    for (auto& r : reads) r.done({StreamRead::Status::closed, {}, {}});
}

piecewise::StreamInfo StreamRegistry::open(piecewise::TorrentId id, int listed_index) {
    using Status = piecewise::StreamInfo::Status;
    piecewise::StreamInfo info;
    auto it = torrents_.find(id);
    if (it == torrents_.end()) return info;
    const auto& m = it->second->metainfo();
    const auto& prios = it->second->file_priorities();
    // Count files as TorrentStatus::files does: pad files left out.
    int listed = -1;
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        if (m.files[i].pad || ++listed != listed_index) continue;
        Stream s;
        s.torrent = id;
        s.begin = m.files[i].offset;
        s.size = m.files[i].length;
        auto sid = next_id_++;
        streams_[sid] = s;
        info.status = Status::ok;
        info.id = sid;
        info.path = m.files[i].path;
        info.size = s.size;
        info.priority = i < prios.size() ? prios[i] : 4;
        schedule_tick();
        return info;
    }
    info.status = Status::no_file;
    return info;
}

void StreamRegistry::set_window(piecewise::StreamId sid, std::int64_t offset, std::int64_t length) {
    auto it = streams_.find(sid);
    if (it == streams_.end()) return;
    it->second.win_offset = std::clamp<std::int64_t>(offset, 0, it->second.size);
    it->second.win_length = std::max<std::int64_t>(length, 0);
    refocus(it->second.torrent);
}

void StreamRegistry::close(piecewise::StreamId sid) {
    auto it = streams_.find(sid);
    if (it == streams_.end()) return;
    auto id = it->second.torrent;
    streams_.erase(it);
    std::vector<Read> ended;
    std::erase_if(pending_, [&](Read& r) {
        if (r.stream != sid) return false;
        ended.push_back(std::move(r));
        return true;
    });
    refocus(id);
    for (auto& r : ended) r.done({StreamRead::Status::closed, {}, {}});
}

void StreamRegistry::read(piecewise::StreamId sid, std::int64_t offset, std::size_t max_len,
                          std::function<void(StreamRead)> done) {
    auto it = streams_.find(sid);
    if (it == streams_.end()) return done({StreamRead::Status::closed, {}, {}});
    max_len = std::clamp<std::size_t>(max_len, 1, max_read);
    it->second.win_offset = std::clamp<std::int64_t>(offset, 0, it->second.size);
    it->second.win_length = static_cast<std::int64_t>(max_len);
    refocus(it->second.torrent);
    Read r{sid, offset, max_len, std::move(done)};
    if (!try_read(r)) pending_.push_back(std::move(r));
}

void StreamRegistry::refocus(piecewise::TorrentId id) {
    auto it = torrents_.find(id);
    if (it == torrents_.end()) {
        attached_.erase(id);
        return;
    }
    Torrent& t = *it->second;
    if (attached_[id].lock() != it->second) {
        attached_[id] = it->second;
        std::weak_ptr<StreamRegistry> weak = shared_from_this();
        t.on_piece_verified = [weak, id](int) {
            if (auto self = weak.lock()) self->wake(id);
        };
    }
    std::vector<swarm::StreamSpan> spans;
    auto plen = t.metainfo().piece_length;
    auto ahead = swarm::readahead_bytes(t.stream_rate(), plen);
    for (auto& [sid, s] : streams_) {
        if (s.torrent != id || s.win_length <= 0) continue;
        auto b = s.begin + s.win_offset;
        auto e = s.begin + std::min(s.size, s.win_offset + s.win_length + ahead);
        spans.push_back({b, e});
    }
    t.set_stream_focus(spans);
    if (spans.empty() && !std::any_of(streams_.begin(), streams_.end(),
                                      [id](auto& kv) { return kv.second.torrent == id; })) {
        t.on_piece_verified = nullptr;
        attached_.erase(id);
    }
}

bool StreamRegistry::try_read(Read& r) {
    auto sit = streams_.find(r.stream);
    if (sit == streams_.end()) {
        r.done({StreamRead::Status::closed, {}, {}});
        return true;
    }
    const Stream& s = sit->second;
    auto tit = torrents_.find(s.torrent);
    if (tit == torrents_.end()) {
        r.done({StreamRead::Status::closed, {}, {}});
        return true;
    }
    if (r.offset < 0 || r.offset >= s.size) {
        r.done({StreamRead::Status::ok, {}, {}});  // end of file
        return true;
    }
    const Torrent& t = *tit->second;
    auto plen = t.metainfo().piece_length;
    std::int64_t pos = s.begin + r.offset;
    int piece = static_cast<int>(pos / plen);
    if (!t.piece_verified(piece)) {
        if (t.stream_piece_wanted(piece)) return false;  // wait for it
        r.done({StreamRead::Status::not_wanted, {}, {}});
        return true;
    }
    // As far as the verified pieces from here reach, within the file and max_len.
    std::int64_t end = std::min(s.begin + s.size, pos + static_cast<std::int64_t>(r.max_len));
    int last = piece;
    while (std::int64_t(last + 1) * plen < end && t.piece_verified(last + 1)) ++last;
    end = std::min(end, std::int64_t(last + 1) * plen);
    auto storage = t.stream_storage();
    auto n = static_cast<std::size_t>(end - pos);
    disk_.post([storage, pos, n, done = std::move(r.done)] {
        StreamRead out;
        out.data.resize(n);
        if (auto err = storage->read(pos, out.data.data(), n)) {
            out = {StreamRead::Status::failed, {}, err.message()};
        }
        done(std::move(out));
    });
    return true;
}

void StreamRegistry::wake(piecewise::TorrentId id) {
    std::vector<Read> ready;
    for (std::size_t i = 0; i < pending_.size();) {
        auto s = streams_.find(pending_[i].stream);
        if (s != streams_.end() && s->second.torrent != id) {
            ++i;
            continue;
        }
        if (try_read(pending_[i])) {
            pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
}

void StreamRegistry::schedule_tick() {
    if (ticking_) return;
    ticking_ = true;
    timer_.expires_after(std::chrono::seconds(1));
    std::weak_ptr<StreamRegistry> weak = shared_from_this();
    timer_.async_wait([weak](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->tick();
    });
}

void StreamRegistry::tick() {
    ticking_ = false;
    std::vector<piecewise::TorrentId> ids;
    for (auto& [sid, s] : streams_) ids.push_back(s.torrent);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    // A replaced torrent gets our hook and the focus; the read-ahead follows the rate.
    for (auto id : ids) {
        refocus(id);
        wake(id);
    }
    if (!streams_.empty()) schedule_tick();
}

}  // namespace pw::session
