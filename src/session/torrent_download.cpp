// Downloading: interest, picking blocks, the request pipeline, endgame, hash checks
// and smart-ban (BEP 3 leaves all of it to the client).
//
// Piece hashes are computed incrementally: each block is fed to the piece's SHA-1 on the
// network thread right after it is copied into the piece buffer, while it is still in
// this core's cache (16 KiB, a few microseconds per block), as long as the blocks before
// it are in; a block that arrives early is hashed when the gap closes. Hashing the
// finished piece on a worker instead reads it back from another core's cache and costs
// about 0.4 CPU seconds more per GiB on this project's benchmark machine. The disk pool
// then only writes the verified piece (and hashes blocks for smart-ban after a failure).
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <boost/asio/post.hpp>
#include <cstring>
#include <functional>

#include "session/endpoint.hpp"
#include "session/torrent.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::EventType;
using piecewise::TorrentState;

namespace {
constexpr int min_queue = 8;
constexpr int max_queue = 1000;
constexpr double queue_seconds = 1.5;  // requests cover this much time at the peer's rate
constexpr auto request_timeout = std::chrono::seconds(20);
constexpr auto endgame_timeout = std::chrono::seconds(5);
constexpr int strikes_to_ban = 5;
}  // namespace

std::uint32_t Torrent::block_length(int piece, int block) const {
    std::int64_t size = meta_.piece_size(piece);
    std::int64_t begin = std::int64_t(block) * wire::block_size;
    return static_cast<std::uint32_t>(std::min<std::int64_t>(wire::block_size, size - begin));
}

bool Torrent::in_endgame() const { return picker_.num_candidates() == 0 && !partials_.empty(); }

int Torrent::queue_target(const PeerConnection& p) const {
    if (p.snubbed) return 1;
    double rate = p.down.rate();
    int target = static_cast<int>(rate * queue_seconds / wire::block_size);
    target = std::max(target, min_queue);
    return static_cast<int>(std::min<std::int64_t>({target, max_queue, p.reqq}));
}

void Torrent::update_interest(PeerConnection& p) {
    bool want = !params_.upload_only && state_ == TorrentState::downloading && p.interesting > 0;
    if (want == p.am_interested) return;
    p.am_interested = want;
    p.send_simple(want ? wire::MsgId::interested : wire::MsgId::not_interested);
    if (!want) release_requests(p, true);
}

void Torrent::handle_have(PeerConnection& p, std::uint32_t piece) {
    if (piece >= static_cast<std::uint32_t>(meta_.num_pieces())) {
        p.close("have: piece index out of range");
        return;
    }
    int i = static_cast<int>(piece);
    if (p.has.get(i)) return;
    p.has.set(i);
    p.pick_failed_epoch = ~0ull;
    p.endgame_failed_epoch = ~0ull;
    if (p.seed) return;
    picker_.inc(i);
    super_seed_piece_changed(i);
    if (p.closed()) return;
    if (!have_.get(i) && piece_wanted(i)) ++p.interesting;
    if (p.has.all()) {
        // Count it as a seed from now on.
        picker_.dec_all(p.has);
        picker_.add_seed();
        p.seed = true;
        if (is_seed()) {
            p.close("both sides are seeds");
            return;
        }
    }
    update_interest(p);
    request_more(p);
}

void Torrent::handle_bitfield(PeerConnection& p, std::string_view bits) {
    const int n = meta_.num_pieces();
    if (bits.size() != static_cast<std::size_t>((n + 7) / 8)) {
        p.close("bitfield of the wrong size");
        return;
    }
    // Spare bits after the last piece are ignored rather than fatal, as libtorrent and
    // Transmission do: they carry nothing, and rejecting them only loses a peer.
    std::string masked(bits);
    if (n % 8 && !masked.empty())
        masked.back() =
            static_cast<char>(static_cast<std::uint8_t>(masked.back()) & (0xff << (8 - n % 8)));
    swarm::Bitfield b(n);
    b.assign_wire(masked);
    // Haves that came before the first bitfield are folded in. A later bitfield replaces
    // what we knew: aria2 sends a whole bitfield instead of HAVEs whenever 20 or more
    // pieces wait to be announced, and libtorrent and Transmission accept it the same way.
    if (!p.got_bitfield)
        for (int i = 0; i < p.has.size(); ++i)
            if (p.has.get(i)) b.set(i);
    set_peer_pieces(p, b);
}

void Torrent::set_peer_pieces(PeerConnection& p, const swarm::Bitfield& b) {
    if (p.seed)
        picker_.remove_seed();
    else
        picker_.dec_all(p.has);
    p.has = b;
    p.got_bitfield = true;
    p.seed = b.all();
    if (p.seed)
        picker_.add_seed();
    else
        picker_.inc_all(b);
    if (p.seed && is_seed()) {
        p.close("both sides are seeds");
        return;
    }
    super_seed_peer_pieces(p);
    p.pick_failed_epoch = ~0ull;
    p.endgame_failed_epoch = ~0ull;
    p.interesting = count_interesting(p);  // wanted pieces it has and we lack
    // Blocks asked of pieces it no longer claims go back to the pool (and are cancelled).
    release_requests_if(
        p, true, [&](const peer::OutRequest& r) { return !b.get(static_cast<int>(r.piece)); });
    update_interest(p);
    request_more(p);
}

void Torrent::take_block(PartialPiece& pp, int b, peer::OutRequest& out) {
    if (pp.state[b] == PartialPiece::free_block) pp.state[b] = PartialPiece::requested;
    ++pp.requests[b];
    out.piece = static_cast<std::uint32_t>(pp.piece);
    out.begin = static_cast<std::uint32_t>(b) * wire::block_size;
    out.length = block_length(pp.piece, b);
    out.sent = Clock::now();
}

int Torrent::next_free_block(PartialPiece& pp) {
    for (int b = pp.free_hint; b < pp.num_blocks; ++b)
        if (pp.state[b] == PartialPiece::free_block) {
            pp.free_hint = b + 1;
            return b;
        }
    pp.free_hint = pp.num_blocks;
    return -1;
}

bool Torrent::cache_full() const {
    return cache_used_ + meta_.piece_length > ctx_.settings.cache_bytes && !partials_.empty();
}

PartialPiece& Torrent::new_partial(int piece) {
    std::int64_t psize = meta_.piece_size(piece);
    picker_.remove(piece);
    PartialPiece& pp = partials_[piece];
    pp.piece = piece;
    pp.num_blocks = static_cast<int>((psize + wire::block_size - 1) / wire::block_size);
    pp.data.reset(new char[static_cast<std::size_t>(psize)]);
    pp.hasher = std::make_unique<meta::PieceHasher>(meta_, piece);
    pp.state.assign(static_cast<std::size_t>(pp.num_blocks), PartialPiece::free_block);
    pp.requests.assign(static_cast<std::size_t>(pp.num_blocks), 0);
    pp.senders.assign(static_cast<std::size_t>(pp.num_blocks), tcp::endpoint());
    cache_used_ += psize;
    ++ctx_.counters.pieces_picked;
    return pp;
}

void Torrent::start_piece(PeerConnection& p, int piece, peer::OutRequest& out) {
    PartialPiece& pp = new_partial(piece);
    pp.free_hint = 1;
    if (pp.num_blocks > 1) open_partials_.insert(piece);
    p.current_piece = piece;
    take_block(pp, 0, out);
}

bool Torrent::pick_allowed_fast(PeerConnection& p, peer::OutRequest& out) {
    for (auto idx : p.allowed_fast_in) {
        int piece = static_cast<int>(idx);
        if (!p.has.get(piece) || have_.get(piece)) continue;
        if (auto f = partials_.find(piece); f != partials_.end()) {
            if (f->second.hashing) continue;
            if (int b = next_free_block(f->second); b >= 0) {
                p.current_piece = piece;
                take_block(f->second, b, out);
                return true;
            }
        } else if (picker_.is_candidate(piece) && !cache_full()) {
            start_piece(p, piece, out);
            return true;
        }
    }
    return false;
}

bool Torrent::pick_block(PeerConnection& p, peer::OutRequest& out) {
    // 1. Continue the piece this peer is on: a peer fetches whole pieces when it can, so
    //    blocks arrive in order (hashed as they land) and a bad piece has one sender.
    if (auto f = partials_.find(p.current_piece); f != partials_.end() && !f->second.hashing) {
        if (int b = next_free_block(f->second); b >= 0) {
            take_block(f->second, b, out);
            return true;
        }
    }
    // 2. Start a piece the peer suggested (BEP 6: likely in its cache), else the rarest
    //    piece this peer has, if the cache has room. pick() walks every candidate when the
    //    peer has none of them: that is remembered until a piece becomes a candidate again
    //    or the peer announces more.
    // 1b. A piece a streaming reader waits for, started by another peer (torrent_stream.cpp).
    if (pick_focus_partial(p, out)) return true;
    bool full = cache_full();
    while (!p.suggested.empty() && !full) {
        int s = static_cast<int>(p.suggested.front());
        p.suggested.pop_front();
        if (p.has.get(s) && picker_.is_candidate(s)) {
            start_piece(p, s, out);
            return true;
        }
    }
    if (picker_.num_candidates() > 0 && p.pick_failed_epoch != picker_.epoch() && !full) {
        int piece = picker_.pick(p.has, p.seed);
        if (piece < 0) p.pick_failed_epoch = picker_.epoch();
        if (piece >= 0) {
            start_piece(p, piece, out);
            return true;
        }
    }
    // 3. Help finish pieces others started (only those that may have a free block).
    for (auto it = open_partials_.begin(); it != open_partials_.end();) {
        int idx = *it;
        auto found = partials_.find(idx);
        if (found == partials_.end() || found->second.hashing) {
            it = open_partials_.erase(it);
            continue;
        }
        PartialPiece& pp = found->second;
        if (!p.has.get(idx)) {
            ++it;
            continue;
        }
        if (int b = next_free_block(pp); b >= 0) {
            p.current_piece = idx;
            take_block(pp, b, out);
            return true;
        }
        it = open_partials_.erase(it);
    }
    if (picker_.num_candidates() > 0) return false;  // not the endgame yet
    // 3. Endgame: every piece is started; ask for blocks others are slow to deliver.
    // Nothing new turns up for this peer until a request is released somewhere or the
    // peer announces more pieces: until then a failed scan is not repeated.
    if (p.endgame_failed_epoch == endgame_epoch_) return false;
    for (auto& [idx, pp] : partials_) {
        if (pp.hashing || !p.has.get(idx)) continue;
        for (int b = 0; b < pp.num_blocks; ++b) {
            if (pp.state[b] != PartialPiece::requested || pp.requests[b] >= 2) continue;
            auto begin = static_cast<std::uint32_t>(b) * wire::block_size;
            bool mine = std::any_of(p.requests_out.begin(), p.requests_out.end(), [&](auto& r) {
                return r.piece == static_cast<std::uint32_t>(idx) && r.begin == begin;
            });
            if (mine) continue;
            take_block(pp, b, out);
            return true;
        }
    }
    p.endgame_failed_epoch = endgame_epoch_;
    return false;
}

void Torrent::request_more(PeerConnection& p) {
    if (p.closed() || !p.am_interested || stopping_ || state_ != TorrentState::downloading) return;
    // A peer that chokes us still serves its allowed fast pieces (BEP 6).
    if (p.peer_choking && (!p.fast || p.allowed_fast_in.empty())) return;
    int target = queue_target(p);
    bool sent = false;
    while (static_cast<int>(p.requests_out.size()) < target) {
        peer::OutRequest r;
        if (!(p.peer_choking ? pick_allowed_fast(p, r) : pick_block(p, r))) break;
        p.requests_out.push_back(r);
        p.send_request(r);
        sent = true;
    }
    if (sent) p.flush();
}

void Torrent::remember_cancelled(PeerConnection& p, const peer::OutRequest& r) {
    if (p.cancelled.size() >= 4096) p.cancelled.pop_front();
    p.cancelled.push_back(r);
}

void Torrent::release_requests(PeerConnection& p, bool send_cancel) {
    release_requests_if(p, send_cancel, [](const peer::OutRequest&) { return true; });
}

void Torrent::release_requests_if(PeerConnection& p, bool send_cancel,
                                  const std::function<bool(const peer::OutRequest&)>& which) {
    bool released = false;
    for (auto it = p.requests_out.begin(); it != p.requests_out.end();) {
        if (!which(*it)) {
            ++it;
            continue;
        }
        release_one(p, *it, send_cancel);
        released = true;
        it = p.requests_out.erase(it);
    }
    if (released) ++endgame_epoch_;
}

void Torrent::release_one(PeerConnection& p, const peer::OutRequest& r, bool send_cancel,
                          bool remember) {
    auto it = partials_.find(static_cast<int>(r.piece));
    if (it != partials_.end()) {
        PartialPiece& pp = it->second;
        int b = static_cast<int>(r.begin / wire::block_size);
        if (pp.requests[b] > 0) --pp.requests[b];
        if (pp.state[b] == PartialPiece::requested && pp.requests[b] == 0) {
            pp.state[b] = PartialPiece::free_block;
            pp.free_hint = std::min(pp.free_hint, b);
            open_partials_.insert(pp.piece);
        }
    }
    if (send_cancel) p.send_cancel(r.piece, r.begin, r.length);
    if (remember) remember_cancelled(p, r);
}

void Torrent::handle_block(PeerConnection& p, const wire::Message& m) {
    auto it_req = std::find_if(p.requests_out.begin(), p.requests_out.end(), [&](auto& r) {
        return r.piece == m.index && r.begin == m.begin && r.length == m.payload.size();
    });
    if (it_req == p.requests_out.end()) {
        // A block we cancelled (endgame, choke, timeout) may still arrive; anything
        // else was never asked for.
        auto c = std::find_if(p.cancelled.begin(), p.cancelled.end(), [&](auto& r) {
            return r.piece == m.index && r.begin == m.begin && r.length == m.payload.size();
        });
        if (c == p.cancelled.end()) {
            p.close("sent data that was not requested");
            return;
        }
        p.cancelled.erase(c);
        ++p.unwanted_blocks;
        p.last_block = Clock::now();
        return;
    }
    p.requests_out.erase(it_req);
    auto len = static_cast<std::int64_t>(m.payload.size());
    p.down.add(len);
    down_rate_.add(len);
    downloaded_ += len;
    ctx_.counters.payload_down += static_cast<std::uint64_t>(len);
    p.last_block = Clock::now();
    p.last_payload = p.last_block;
    p.snubbed = false;

    auto it = partials_.find(static_cast<int>(m.index));
    if (it != partials_.end() && !it->second.hashing) {
        PartialPiece& pp = it->second;
        int b = static_cast<int>(m.begin / wire::block_size);
        if (pp.requests[b] > 0) --pp.requests[b];
        if (pp.state[b] != PartialPiece::received)
            store_block(pp, b, m.payload.data(), p.peer_key, &p);
    }
    request_more(p);
}

void Torrent::store_block(PartialPiece& pp, int b, const char* data, const tcp::endpoint& from,
                          const PeerConnection* except) {
    std::memcpy(pp.data.get() + std::int64_t(b) * wire::block_size, data,
                block_length(pp.piece, b));
    pp.state[b] = PartialPiece::received;
    pp.senders[b] = from;
    ++pp.received_count;
    while (pp.hashed_blocks < pp.num_blocks &&
           pp.state[pp.hashed_blocks] == PartialPiece::received) {
        auto at = std::size_t(pp.hashed_blocks) * wire::block_size;
        pp.hasher->update(pp.data.get() + at, block_length(pp.piece, pp.hashed_blocks));
        ++pp.hashed_blocks;
    }
    // Endgame duplicates: cancel the same block at the peers that still have it requested.
    const auto piece = static_cast<std::uint32_t>(pp.piece);
    const auto begin = static_cast<std::uint32_t>(b) * wire::block_size;
    for (auto& q : peers_) {
        if (pp.requests[b] == 0) break;
        if (q.get() == except) continue;
        auto r = std::find_if(q->requests_out.begin(), q->requests_out.end(),
                              [&](auto& x) { return x.piece == piece && x.begin == begin; });
        if (r == q->requests_out.end()) continue;
        q->send_cancel(r->piece, r->begin, r->length);
        remember_cancelled(*q, *r);
        q->requests_out.erase(r);
        --pp.requests[b];
    }
    if (pp.received_count == pp.num_blocks) piece_complete(pp);
}

void Torrent::piece_complete(PartialPiece& pp) {
    pp.hashing = true;
    ++disk_jobs_;
    int piece = pp.piece;
    std::int64_t size = meta_.piece_size(piece);
    std::int64_t offset = std::int64_t(piece) * meta_.piece_length;
    // Every block is in, so the incremental hash covers the whole piece.
    bool ok = pp.hasher->finish();
    pp.hasher.reset();
    std::shared_ptr<char[]> data(pp.data.release());
    std::vector<tcp::endpoint> senders = pp.senders;
    // Earlier failed attempts: (sender, hash of the block it sent) per block.
    std::vector<std::pair<tcp::endpoint, Sha1Digest>> previous;
    if (auto f = failed_blocks_.find(piece); f != failed_blocks_.end()) previous = f->second;
    auto storage = storage_;
    auto self = shared_from_this();
    ctx_.disk.post([=, this, previous = std::move(previous), senders = std::move(senders)]() mutable {
        storage::StorageError err;
        std::vector<Sha1Digest> block_hashes;
        std::vector<tcp::endpoint> liars;
        std::optional<meta::ReceivedLeaves> got;
        auto nblocks = (size + wire::block_size - 1) / wire::block_size;
        if (ok) {
            err = storage->write(offset, data.get(), static_cast<std::size_t>(size));
            // Smart-ban: a block that differs from the good data came from a liar.
            for (std::size_t b = 0; b < previous.size() && std::int64_t(b) < nblocks; ++b) {
                auto begin = std::int64_t(b) * wire::block_size;
                auto len = std::min<std::int64_t>(wire::block_size, size - begin);
                auto h = crypto::sha1(std::string_view(data.get() + begin, static_cast<std::size_t>(len)));
                if (h != previous[b].second) liars.push_back(previous[b].first);
            }
        } else {
            for (std::int64_t b = 0; b < nblocks; ++b) {
                auto begin = b * wire::block_size;
                auto len = std::min<std::int64_t>(wire::block_size, size - begin);
                block_hashes.push_back(
                    crypto::sha1(std::string_view(data.get() + begin, static_cast<std::size_t>(len))));
            }
            // BEP 52: the blocks' leaf hashes, to judge them by (meta/local_leaves.hpp) or
            // to compare with a peer's once it sends them.
            if (!meta_.piece_hashes_v2.empty() && meta::span_of_piece(meta_, piece))
                got = meta::received_leaves(meta_, piece,
                                            std::string_view(data.get(), static_cast<std::size_t>(size)));
        }
        // A failed piece's bytes go back: a v2 piece may be narrowed to its bad blocks.
        if (ok) data.reset();
        asio::post(ctx_.io, [self, piece, ok, err, block_hashes = std::move(block_hashes),
                             senders = std::move(senders), liars = std::move(liars),
                             data = std::move(data), got = std::move(got)]() mutable {
            self->on_piece_checked(piece, ok, err, std::move(block_hashes), std::move(senders),
                                   std::move(liars), std::move(data), std::move(got));
        });
    });
}

void Torrent::on_piece_checked(int piece, bool ok, storage::StorageError err,
                               std::vector<Sha1Digest> block_hashes,
                               std::vector<tcp::endpoint> senders,
                               std::vector<tcp::endpoint> liars, std::shared_ptr<char[]> data,
                               std::optional<meta::ReceivedLeaves> got) {
    --disk_jobs_;
    if (!ok && !err) {
        ++hash_failures_;
        corrupt_bytes_ += meta_.piece_size(piece);
        ++ctx_.counters.hash_failures;
        std::set<tcp::endpoint> involved(senders.begin(), senders.end());
        emit(EventType::piece_failed, fmt::format("piece {} failed its hash check ({} peer(s) sent it)",
                                                  piece, involved.size()));
        if (state_ != TorrentState::error && !stopping_) {
            // BEP 52: the piece stays while its leaf hashes are fetched to find the bad blocks.
            if (data && got && narrow_failed_piece(piece, data, std::move(*got), block_hashes, senders))
                return;
            cache_used_ -= meta_.piece_size(piece);
            partials_.erase(piece);
            open_partials_.erase(piece);
            piece_failed_whole(piece, block_hashes, senders);
            return;
        }
    }
    cache_used_ -= meta_.piece_size(piece);
    partials_.erase(piece);
    open_partials_.erase(piece);
    if (err) {
        picker_.add(piece);
        fail_torrent(err.message());
        return;
    }
    for (auto& l : liars) ban(l, "sent corrupt data (smart-ban)");
    if (ok) {
        failed_blocks_.erase(piece);
        proven_leaves_.erase(piece);
        // A file this piece completes may still be "<name>.part": it gets its own name
        // first, so that nothing reports the piece (or the torrent) done before that.
        if (finish_part_files(piece)) return;
        on_have_piece(piece);
        // The cache has room again: peers that ran dry can ask for more.
        for (auto& q : std::vector(peers_)) request_more(*q);
        return;
    }
    picker_.add(piece);  // failed while stopping: nothing more to do
}

void Torrent::piece_failed_whole(int piece, const std::vector<Sha1Digest>& block_hashes,
                                 const std::vector<tcp::endpoint>& senders) {
    picker_.add(piece);
    refetched_bytes_ += meta_.piece_size(piece);
    ctx_.counters.refetched_bytes += static_cast<std::uint64_t>(meta_.piece_size(piece));
    std::set<tcp::endpoint> involved(senders.begin(), senders.end());
    auto& record = failed_blocks_[piece];
    record.clear();
    for (std::size_t b = 0; b < senders.size() && b < block_hashes.size(); ++b)
        record.emplace_back(senders[b], block_hashes[b]);
    if (involved.size() == 1) {
        ban(*involved.begin(), "sent a piece that failed its hash check");
    } else {
        for (auto& ep : involved)
            if (++known_[ep].hash_strikes >= strikes_to_ban) ban(ep, "took part in too many failed pieces");
    }
    for (auto& q : std::vector(peers_)) request_more(*q);
}

void Torrent::ban(const tcp::endpoint& key, const std::string& why) {
    auto& kp = known_[key];
    if (kp.banned) return;
    kp.banned = true;
    ++banned_count_;
    ++ctx_.counters.peers_banned;
    std::string who = web_seed_name(key);  // a web seed stands in blame under its key
    if (who.empty()) who = format_endpoint(key);
    emit(EventType::peer_banned, fmt::format("{}: {}", who, why));
    for (auto& q : std::vector(peers_))
        if (q->peer_key == key) {
            banned_ids_.insert(q->their_handshake().peer_id);
            q->close("banned: " + why);
        }
}

void Torrent::on_have_piece(int piece) {
    if (!have_.get(piece) && piece_wanted(piece)) --wanted_left_;
    have_.set(piece);
    ++ctx_.counters.pieces_passed;
    ++pieces_since_resume_;
    for (auto& q : std::vector(peers_)) {
        if (q->closed()) continue;
        if ((q->seed || q->has.get(piece)) && piece_wanted(piece) && q->interesting > 0)
            --q->interesting;
        q->send_have(static_cast<std::uint32_t>(piece));
        update_interest(*q);
    }
    finish_wanted();  // downloading -> seeding once every wanted piece is in
    if (on_piece_verified) on_piece_verified(piece);  // streaming readers waiting for it
}

void Torrent::check_timeouts() {
    auto now = Clock::now();
    bool endgame = in_endgame();
    for (auto& q : std::vector(peers_)) {
        if (q->closed() || q->requests_out.empty()) continue;
        auto limit = endgame ? endgame_timeout : request_timeout;
        if (now - q->last_block > limit && now - q->requests_out.front().sent > limit) {
            // Silent with requests outstanding: snubbed. Give its blocks to others.
            q->snubbed = true;
            release_requests(*q, true);
            for (auto& o : std::vector(peers_))
                if (o != q) request_more(*o);
            q->last_block = now;
            request_more(*q);
        }
    }
}

}  // namespace pw::session
