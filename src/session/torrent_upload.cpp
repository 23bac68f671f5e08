// Uploading: the choker and serving requests from the disk pool (BEP 3), with the
// fast extension's rejects and allowed fast pieces (BEP 6, see torrent_fast.cpp) and,
// when super-seeding, only the pieces a peer was told of (BEP 16, torrent_super_seed.cpp).
//
// Queued requests for consecutive blocks make one run (one disk-pool job). To a TCP peer
// without MSE, the run's PIECE messages go through a pipe: the worker writes each header
// into it and splices each payload in from the files, and the peer's writer splices the
// pipe to the socket (storage/splice_pipe.hpp), so the payload is never copied in user
// space. Otherwise (encrypted, uTP, no pipe to be had, past the end of the stream, a file
// system without splice) the run is read (preadv) into one buffer, and each block is sent
// straight from that buffer.
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>

#include "session/torrent.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::TorrentState;

namespace {
constexpr std::uint32_t max_block_request = 128 * 1024;  // larger requests break the protocol
constexpr std::size_t max_requests_in = 2000;            // twice the `reqq` we advertise
constexpr int reads_per_peer = 4;                        // runs being read at once
constexpr std::int64_t max_run = 256 * 1024;             // bytes per run

// A run's PIECE messages in a pipe, or no pipe (and maybe an error) when they could not
// be put there.
struct SplicedRun {
    std::unique_ptr<storage::SplicePipe> pipe;
    std::size_t bytes = 0;  // headers and payloads
    storage::StorageError err;
};

// On a disk worker: the run at stream offset `offset` into a new pipe. No pipe and no
// error: read it instead (no pipe to be had, the pipe full, no splice for these files).
SplicedRun splice_run(storage::Storage& st, const std::vector<peer::InRequest>& run,
                      std::int64_t offset, std::int64_t run_bytes) {
    SplicedRun out;
    auto pipe = storage::SplicePipe::make(
        storage::SplicePipe::slots_for(run.size(), static_cast<std::size_t>(run_bytes)));
    if (!pipe) return out;
    std::string header;
    std::int64_t at = offset;
    for (auto& r : run) {
        header.clear();
        wire::put_piece_header(header, r.piece, r.begin, r.length);
        // A write this small into a pipe is all or nothing (PIPE_BUF).
        if (::write(pipe->write_fd(), header.data(), header.size()) !=
            static_cast<ssize_t>(header.size()))
            return out;
        if (auto err = st.splice_to(at, r.length, pipe->write_fd())) {
            if (err.ec != storage::make_error_code(storage::StorageErrc::no_splice))
                out.err = std::move(err);
            return out;
        }
        out.bytes += header.size() + r.length;
        at += r.length;
    }
    out.pipe = std::move(pipe);
    return out;
}
}  // namespace

void Torrent::set_choke(PeerConnection& p, bool choke) {
    if (p.am_choking == choke || p.closed()) return;
    p.am_choking = choke;
    p.send_simple(choke ? wire::MsgId::choke : wire::MsgId::unchoke);
    if (choke && p.fast) {
        // BEP 6: choke first, then reject each queued request, except the allowed fast
        // ones, which are still served.
        auto& q = p.requests_in;
        q.erase(std::remove_if(q.begin(), q.end(),
                               [&](const peer::InRequest& r) {
                                   if (allowed_fast_out(p, r.piece)) return false;
                                   p.send_reject(r.piece, r.begin, r.length);
                                   return true;
                               }),
                q.end());
        serve(p);
    } else if (choke) {
        p.requests_in.clear();  // BEP 3: requests are dropped on choke
    } else {
        p.dropped_requests = 0;
        serve(p);
    }
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
    // libtorrent's v2 and hybrid pieces on the wire include the alignment padding after a
    // file (the torrent's tail too): those bytes are served as zeros (BEP 47).
    if (meta_.format != meta::Format::v1) psize = meta_.piece_length;
    if (m.length == 0 || m.length > max_block_request ||
        std::int64_t(m.begin) + std::int64_t(m.length) > psize) {
        p.close("request past the end of the piece or of bad length");
        return;
    }
    // Requests we do not serve are rejected (BEP 6) or, without the fast extension,
    // ignored, up to a bound: one sent before it saw our choke, one for a piece we do
    // not have (libtorrent and Transmission do not hang up on that either).
    if (p.am_choking && !allowed_fast_out(p, m.index)) {
        drop_request(p, m.index, m.begin, m.length);
        return;
    }
    if (!have_.get(static_cast<int>(m.index)) ||
        (p.super_seed && !p.super_told.get(static_cast<int>(m.index)))) {
        drop_request(p, m.index, m.begin, m.length);
        return;
    }
    if (p.requests_in.size() >= max_requests_in) {
        if (!p.fast) {
            p.close("request flood");
            return;
        }
        drop_request(p, m.index, m.begin, m.length);
        return;
    }
    p.requests_in.push_back({m.index, m.begin, m.length});
    serve(p);
}

void Torrent::handle_cancel(PeerConnection& p, const wire::Message& m) {
    auto it = std::find_if(p.requests_in.begin(), p.requests_in.end(), [&](auto& r) {
        return r.piece == m.index && r.begin == m.begin && r.length == m.length;
    });
    if (it == p.requests_in.end()) return;
    p.requests_in.erase(it);
    // BEP 6: every request gets exactly one answer, a cancelled one too.
    if (p.fast) p.send_reject(m.index, m.begin, m.length);
}

void Torrent::on_send_drained(PeerConnection& p) { serve(p); }

void Torrent::serve(PeerConnection& p) {
    if (stopping_ || state_ == TorrentState::error) return;
    auto self = shared_from_this();
    // While we choke a fast peer its queue holds only allowed fast requests (set_choke).
    while (!p.closed() && (!p.am_choking || p.fast) && !p.requests_in.empty() &&
           p.reads_in_flight < reads_per_peer && p.send_queue_bytes() < send_high_water(p)) {
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
        const std::int64_t total = meta_.total_size;
        // Past the end of the stream (v2 tail padding, zeros: see handle_request) the run
        // is read, as it is for peers the pipe cannot serve.
        const bool splice = p.can_splice() && offset + run_bytes <= total;
        ctx_.disk.post_urgent([this, self, storage, conn, run = std::move(run), offset, run_bytes,
                               total, splice]() mutable {
            SplicedRun spliced;
            if (splice) spliced = splice_run(*storage, run, offset, run_bytes);
            std::shared_ptr<char[]> buf;
            storage::StorageError err = std::move(spliced.err);
            if (!spliced.pipe && !err) {
                buf.reset(new char[static_cast<std::size_t>(run_bytes)]);
                std::int64_t avail = std::clamp<std::int64_t>(total - offset, 0, run_bytes);
                std::memset(buf.get() + avail, 0, static_cast<std::size_t>(run_bytes - avail));
                if (avail > 0) err = storage->read(offset, buf.get(), static_cast<std::size_t>(avail));
            }
            asio::post(ctx_.io, [self, conn, run = std::move(run), buf = std::move(buf), err,
                                 pipe = std::move(spliced.pipe), piped = spliced.bytes,
                                 run_bytes]() mutable {
                --self->disk_jobs_;
                --conn->reads_in_flight;
                if (err) {
                    // Nothing read is sent: a short read never goes out as a piece.
                    self->fail_storage(err);
                    return;
                }
                // BEP 6 lets requests being processed complete after a choke.
                if (conn->closed() || (conn->am_choking && !conn->fast)) return;
                if (pipe)
                    conn->send_spliced(std::move(pipe), piped, static_cast<std::size_t>(run_bytes));
                std::size_t at = 0;
                for (auto& r : run) {
                    if (buf)
                        conn->send_piece(r.piece, r.begin, buf, std::string_view(buf.get() + at, r.length));
                    at += r.length;
                    self->up_rate_.add(r.length);  // conn->up counts in send_piece/send_spliced
                    self->uploaded_ += r.length;
                    self->ctx_.counters.payload_up += r.length;
                }
                if (conn->super_seed)
                    for (auto& r : run) self->super_seed_sent(*conn, r.piece, r.begin, r.length);
                conn->last_payload = Clock::now();
                self->serve(*conn);
            });
        });
    }
}

}  // namespace pw::session
