// Uploading: the choker and serving requests from the disk pool (BEP 3).
//
// Queued requests for consecutive blocks are served as one run by one disk-pool job. The
// job splices the run's file pages into a pipe between the PIECE headers, and the
// connection splices the pipe into the socket: the payload never passes through user
// space. Where that is not possible (pipe limits, a file system without splice) the run
// is read (one preadv) into one buffer and each block sent straight from there.
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "session/torrent.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::TorrentState;

namespace {
constexpr std::uint32_t max_block_request = 128 * 1024;  // larger requests break the protocol
constexpr std::size_t max_requests_in = 2000;            // twice the `reqq` we advertise
constexpr int reads_per_peer = 4;                        // runs being read at once
constexpr std::int64_t max_run = 256 * 1024;             // bytes per run
constexpr std::size_t send_high_water = 1u << 20;
}  // namespace

void Torrent::set_choke(PeerConnection& p, bool choke) {
    if (p.am_choking == choke || p.closed()) return;
    p.am_choking = choke;
    p.send_simple(choke ? wire::MsgId::choke : wire::MsgId::unchoke);
    if (choke) p.requests_in.clear();  // BEP 3: requests are dropped on choke
    else serve(p);
}

void Torrent::rechoke() {
    std::vector<swarm::ChokeCandidate> cands;
    for (auto& q : peers_) {
        if (q->closed()) continue;
        cands.push_back({q->choke_id, q->peer_interested, q->snubbed, q->down.rate(), q->up.rate(),
                         !q->am_choking});
    }
    auto unchoke = choker_.rechoke(cands, is_seed());
    for (auto& q : std::vector(peers_)) {
        bool keep = std::find(unchoke.begin(), unchoke.end(), q->choke_id) != unchoke.end();
        set_choke(*q, !keep);
    }
}

void Torrent::handle_request(PeerConnection& p, const wire::Message& m) {
    if (m.index >= static_cast<std::uint32_t>(meta_.num_pieces())) {
        p.close("request: piece index out of range");
        return;
    }
    std::int64_t psize = meta_.piece_size(static_cast<int>(m.index));
    if (m.length == 0 || m.length > max_block_request ||
        std::int64_t(m.begin) + std::int64_t(m.length) > psize) {
        p.close("request past the end of the piece or of bad length");
        return;
    }
    if (p.am_choking) return;  // sent before it saw our choke
    if (!have_.get(static_cast<int>(m.index))) {
        p.close("requested a piece we do not have");
        return;
    }
    if (p.requests_in.size() >= max_requests_in) {
        p.close("request flood");
        return;
    }
    p.requests_in.push_back({m.index, m.begin, m.length});
    serve(p);
}

void Torrent::handle_cancel(PeerConnection& p, const wire::Message& m) {
    auto it = std::find_if(p.requests_in.begin(), p.requests_in.end(), [&](auto& r) {
        return r.piece == m.index && r.begin == m.begin && r.length == m.length;
    });
    if (it != p.requests_in.end()) p.requests_in.erase(it);
}

void Torrent::on_send_drained(PeerConnection& p) { serve(p); }

std::shared_ptr<peer::Pipe> Torrent::splice_run(storage::Storage& storage,
                                                const std::vector<peer::InRequest>& run,
                                                std::int64_t offset, std::int64_t run_bytes) {
    // A page per slot, plus a slot per header and for a page split by a file boundary.
    std::size_t need = static_cast<std::size_t>(run_bytes) + run.size() * 2 * 4096 + 4096;
    std::shared_ptr<peer::Pipe> pipe = peer::Pipe::make(std::max<std::size_t>(need, 64 * 1024));
    if (!pipe) return nullptr;
    std::string header;
    for (auto& r : run) {
        header.clear();
        wire::put_piece_header(header, r.piece, r.begin, r.length);
        if (::write(pipe->write_fd(), header.data(), header.size()) != static_cast<ssize_t>(header.size()))
            return nullptr;
        if (storage.splice_to(offset, r.length, pipe->write_fd())) return nullptr;
        offset += r.length;
    }
    return pipe;
}

void Torrent::serve(PeerConnection& p) {
    if (stopping_ || state_ == TorrentState::error) return;
    auto self = shared_from_this();
    while (!p.closed() && !p.am_choking && !p.requests_in.empty() &&
           p.reads_in_flight < reads_per_peer && p.send_queue_bytes() < send_high_water) {
        // The run: the first request and the ones after it that continue it in the same piece.
        std::vector<peer::InRequest> run{p.requests_in.front()};
        p.requests_in.pop_front();
        std::int64_t run_bytes = run[0].length;
        while (!p.requests_in.empty()) {
            auto& next = p.requests_in.front();
            auto& last = run.back();
            if (next.piece != last.piece || next.begin != last.begin + last.length ||
                run_bytes + next.length > max_run)
                break;
            run_bytes += next.length;
            run.push_back(next);
            p.requests_in.pop_front();
        }
        ++p.reads_in_flight;
        ++disk_jobs_;
        auto storage = storage_;
        auto conn = p.shared_from_this();
        std::int64_t offset = std::int64_t(run[0].piece) * meta_.piece_length + run[0].begin;
        bool try_splice = splice_uploads_;
        ctx_.disk.post([this, self, storage, conn, run = std::move(run), offset, run_bytes,
                        try_splice]() mutable {
            if (try_splice) {
                if (auto pipe = splice_run(*storage, run, offset, run_bytes)) {
                    std::size_t wire_bytes = static_cast<std::size_t>(run_bytes) + run.size() * wire::piece_header_size;
                    asio::post(ctx_.io, [self, conn, run = std::move(run), pipe = std::move(pipe), wire_bytes,
                                         run_bytes]() mutable {
                        --self->disk_jobs_;
                        --conn->reads_in_flight;
                        if (conn->closed() || conn->am_choking) return;
                        conn->send_spliced(std::move(pipe), wire_bytes, run_bytes);
                        self->up_rate_.add(run_bytes);
                        self->uploaded_ += run_bytes;
                        self->serve(*conn);
                    });
                    return;
                }
                asio::post(ctx_.io, [self] { self->splice_uploads_ = false; });
            }
            std::shared_ptr<char[]> buf(new char[static_cast<std::size_t>(run_bytes)]);
            auto err = storage->read(offset, buf.get(), static_cast<std::size_t>(run_bytes));
            asio::post(ctx_.io, [self, conn, run = std::move(run), buf = std::move(buf), err] {
                --self->disk_jobs_;
                --conn->reads_in_flight;
                if (err) {
                    self->fail_torrent(err.message());
                    return;
                }
                if (conn->closed() || conn->am_choking) return;
                std::size_t at = 0;
                for (auto& r : run) {
                    conn->send_piece(r.piece, r.begin, buf, std::string_view(buf.get() + at, r.length));
                    at += r.length;
                    self->up_rate_.add(r.length);
                    self->uploaded_ += r.length;
                }
                self->serve(*conn);
            });
        });
    }
}

}  // namespace pw::session
