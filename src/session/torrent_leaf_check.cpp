// BEP 52 block-level blame for a v2 or hybrid piece that failed its hash check. Instead
// of blaming every peer that sent part of the piece, the piece's leaf hashes (one per
// 16 KiB block) are asked of a v2 peer with a `hash request` for base layer 0, proven
// against the piece-layer hash we trust, and each received block is compared to its
// leaf (the blocks' own leaf hashes come with the failed check from the disk pool, so the
// network thread hashes no piece data): exactly the senders of the bad blocks are banned, the good blocks are kept and
// only the bad ones are downloaded again. A peer whose hashes do not prove out is banned
// too. At most two such requests are outstanding per peer (a check waits up to 10 s for a
// peer with room, or for peers still connecting or yet to send their bitfield), each is
// given 10 s, three peers are tried; then, or when no v2 peer has the piece, it is blamed
// as a whole (torrent_download.cpp) as before.
//
// The other side is here too: leaf hash requests for a piece we have are answered by
// reading it on the disk pool and hashing its blocks (meta/leaf_check.hpp), at most two
// per peer and eight per torrent at a time; anything else is rejected.
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <cstring>

#include "session/torrent.hpp"

namespace pw::session {

namespace asio = boost::asio;
using piecewise::TorrentState;

namespace {
constexpr int max_asks_per_peer = 2;      // our leaf requests outstanding at one peer
constexpr std::size_t max_peers_asked = 3;  // per failed piece, then whole-piece blame
constexpr auto leaf_timeout = std::chrono::seconds(10);
constexpr int max_reads_per_peer = 2;     // its leaf requests we are reading for
constexpr int max_reads = 8;              // all peers' together
}  // namespace

bool Torrent::start_leaf_check(int piece, const std::shared_ptr<char[]>& data,
                               meta::ReceivedLeaves got, std::vector<Sha1Digest> block_hashes,
                               std::vector<tcp::endpoint> senders) {
    auto req = meta::leaf_request(meta_, piece);
    if (!req) return false;
    auto pit = partials_.find(piece);
    if (pit == partials_.end() || leaf_checks_.count(piece)) return false;
    LeafCheck& lc = leaf_checks_[piece];
    lc.req = *req;
    lc.block_hashes = std::move(block_hashes);
    lc.senders = std::move(senders);
    lc.got = std::move(got);
    if (ask_leaf_hashes(piece, lc) == LeafAsk::none) {
        leaf_checks_.erase(piece);
        return false;
    }
    // The partial keeps the piece's bytes (they went to the disk pool for the check).
    const auto size = static_cast<std::size_t>(meta_.piece_size(piece));
    pit->second.data.reset(new char[size]);
    std::memcpy(pit->second.data.get(), data.get(), size);
    return true;
}

Torrent::LeafAsk Torrent::ask_leaf_hashes(int piece, LeafCheck& lc) {
    lc.asking.reset();
    if (lc.asked.size() >= max_peers_asked) return LeafAsk::none;
    std::set<tcp::endpoint> senders(lc.senders.begin(), lc.senders.end());
    PeerConnection* best = nullptr;
    bool best_sent = true;
    bool busy = false;
    for (auto& q : peers_) {
        if (q->closed() || !q->their_handshake().supports_v2()) continue;
        if (!(q->seed || q->has.get(piece)) || lc.asked.count(q->peer_key)) continue;
        if (auto k = known_.find(q->peer_key); k != known_.end() && k->second.banned) continue;
        int outstanding = 0;
        for (auto& [i, other] : leaf_checks_)
            if (other.asking.lock() == q) ++outstanding;
        if (outstanding >= max_asks_per_peer) {
            busy = true;
            continue;
        }
        // Any peer's hashes are proven, but one that sent none of the piece is asked first.
        const bool sent = senders.count(q->peer_key) > 0;
        if (!best || (best_sent && !sent)) {
            best = q.get();
            best_sent = sent;
        }
    }
    if (!best) {
        // A peer still connecting or yet to say what it has may turn out to serve them.
        bool may_come = connecting_ > 0;
        for (auto& q : peers_)
            if (!q->closed() && !q->got_bitfield && !q->seed) may_come = true;
        if (!busy && !may_come) return LeafAsk::none;
        if (!lc.waiting) lc.deadline = Clock::now() + leaf_timeout;
        lc.waiting = true;
        return LeafAsk::busy;
    }
    lc.waiting = false;
    lc.asked.insert(best->peer_key);
    lc.asking = best->shared_from_this();
    lc.deadline = Clock::now() + leaf_timeout;
    wire::HashRequest r;
    r.pieces_root = lc.req.pieces_root;
    r.base = 0;
    r.index = lc.req.index;
    r.length = lc.req.length;
    r.proof_layers = lc.req.proof_layers;
    std::string out;
    wire::put_hash_request(out, r);
    best->send_raw(out);
    best->flush();
    return LeafAsk::asked;
}

void Torrent::ask_waiting_leaf_checks() {
    std::vector<int> waiting;
    for (auto& [piece, lc] : leaf_checks_)
        if (lc.asking.expired()) waiting.push_back(piece);
    for (int piece : waiting) {
        auto it = leaf_checks_.find(piece);
        if (it != leaf_checks_.end() && ask_leaf_hashes(piece, it->second) == LeafAsk::none)
            leaf_check_failed(piece);
    }
}

void Torrent::leaf_check_failed(int piece) {
    auto it = leaf_checks_.find(piece);
    if (it == leaf_checks_.end()) return;
    LeafCheck lc = std::move(it->second);
    leaf_checks_.erase(it);
    if (partials_.erase(piece)) cache_used_ -= meta_.piece_size(piece);
    open_partials_.erase(piece);
    piece_failed_whole(piece, lc.block_hashes, lc.senders);
}

void Torrent::leaf_check_tick() {
    if (leaf_checks_.empty()) return;
    const auto now = Clock::now();
    // Unanswered in time, its peer gone, or waiting for a free peer: ask (again). One
    // that waited past its deadline without a peer is blamed as a whole.
    std::vector<int> stale;
    for (auto& [piece, lc] : leaf_checks_) {
        auto p = lc.asking.lock();
        if (!p || p->closed() || now > lc.deadline) stale.push_back(piece);
    }
    for (int piece : stale) {
        auto it = leaf_checks_.find(piece);
        if (it == leaf_checks_.end()) continue;
        const bool waited_out = it->second.waiting && now > it->second.deadline;
        const LeafAsk r = ask_leaf_hashes(piece, it->second);
        if (r == LeafAsk::none || (r == LeafAsk::busy && waited_out)) leaf_check_failed(piece);
    }
}

bool Torrent::handle_leaf_answer(PeerConnection& p, const wire::HashRequest& req,
                                 const std::vector<Sha256Digest>* hashes) {
    if (req.base != 0) return false;
    auto it = leaf_checks_.begin();
    for (; it != leaf_checks_.end(); ++it) {
        const LeafCheck& lc = it->second;
        if (lc.asking.lock().get() == &p && lc.req.pieces_root == req.pieces_root &&
            lc.req.index == req.index && lc.req.length == req.length &&
            lc.req.proof_layers == req.proof_layers)
            break;
    }
    if (it == leaf_checks_.end()) return false;
    const int piece = it->first;
    LeafCheck& lc = it->second;
    if (!hashes) {  // rejected: the next peer
        if (ask_leaf_hashes(piece, lc) == LeafAsk::none) leaf_check_failed(piece);
        ask_waiting_leaf_checks();
        return true;
    }
    std::span<const Sha256Digest> leaves(hashes->data(), lc.req.length);
    if (!meta::leaves_prove_piece(meta_, piece, leaves)) {
        lc.asking.reset();
        ban(p.peer_key, "sent leaf hashes that do not match the piece layer");
        if (ask_leaf_hashes(piece, lc) == LeafAsk::none) leaf_check_failed(piece);
        ask_waiting_leaf_checks();
        return true;
    }
    auto pit = partials_.find(piece);
    if (pit == partials_.end()) {
        leaf_checks_.erase(it);
        ask_waiting_leaf_checks();
        return true;
    }
    PartialPiece& pp = pit->second;
    const auto bad = meta::bad_blocks(lc.got, leaves);
    if (bad.empty()) {
        // Every block matches its leaf: a hybrid whose v1 hash disagrees with its v2 tree.
        leaf_check_failed(piece);
        ask_waiting_leaf_checks();
        return true;
    }
    const std::vector<tcp::endpoint> senders = std::move(lc.senders);
    leaf_checks_.erase(it);
    // Only the bad blocks go back to the pool; the hash restarts over the blocks kept.
    std::set<tcp::endpoint> liars;
    std::int64_t bytes = 0;
    for (int b : bad) {
        if (static_cast<std::size_t>(b) < senders.size()) liars.insert(senders[static_cast<std::size_t>(b)]);
        pp.state[static_cast<std::size_t>(b)] = PartialPiece::free_block;
        pp.senders[static_cast<std::size_t>(b)] = tcp::endpoint();
        --pp.received_count;
        bytes += block_length(piece, b);
    }
    // The blocks kept are hashed again one at a time as the missing ones arrive (store_block).
    pp.hasher = std::make_unique<meta::PieceHasher>(meta_, piece);
    pp.hashed_blocks = 0;
    pp.free_hint = bad.front();
    pp.hashing = false;
    open_partials_.insert(piece);
    ++endgame_epoch_;
    ++failures_narrowed_;
    ++ctx_.counters.failures_narrowed;
    refetched_bytes_ += bytes;
    ctx_.counters.refetched_bytes += static_cast<std::uint64_t>(bytes);
    for (const auto& l : liars)
        ban(l, fmt::format("sent a corrupt block of piece {} (its BEP 52 leaf hash differs)", piece));
    ask_waiting_leaf_checks();
    for (auto& q : std::vector(peers_)) request_more(*q);
    return true;
}

bool Torrent::serve_leaf_hashes(PeerConnection& p, const wire::HashRequest& req) {
    if (req.base != 0 || meta_.piece_hashes_v2.empty() || req.pieces_root == Sha256Digest{})
        return false;
    const meta::V2Span* span = nullptr;
    for (const auto& s : meta_.v2_spans)
        if (meta_.files[static_cast<std::size_t>(s.file)].pieces_root == req.pieces_root) {
            span = &s;
            break;
        }
    if (!span) return false;
    const auto per = static_cast<std::uint64_t>(meta::piece_leaves(span->length, meta_.piece_length));
    if (per < 2 || req.length > per) return false;
    const std::uint64_t in_file = req.index / per;
    if (in_file >= static_cast<std::uint64_t>(span->num_pieces)) return false;
    const int piece = span->first_piece + static_cast<int>(in_file);
    if (!have_.get(piece) || storage_ == nullptr) return false;
    std::shared_ptr<const meta::MerkleTree> upper;
    if (span->num_pieces > 1 && !(upper = merkle_tree_for(req.pieces_root))) return false;
    const int root_level = upper ? upper->root_level() : meta::log2_exact(per);
    if (static_cast<int>(req.proof_layers) >= root_level) return false;
    if (p.leaf_reads >= max_reads_per_peer || leaf_reads_ >= max_reads) return false;
    ++p.leaf_reads;
    ++leaf_reads_;
    ++disk_jobs_;
    auto self = shared_from_this();
    auto conn = p.shared_from_this();
    auto storage = storage_;
    const std::int64_t offset = std::int64_t(piece) * meta_.piece_length;
    const auto size = static_cast<std::size_t>(meta_.piece_size(piece));
    ctx_.disk.post([this, self, conn, storage, upper, req, piece, per, in_file, offset, size] {
        std::string buf(size, '\0');
        storage::StorageError err = storage->read(offset, buf.data(), size);
        std::optional<std::vector<Sha256Digest>> hashes;
        if (!err) {
            // What we serve is what we verified: a changed file answers nothing.
            auto leaves = meta::piece_leaf_hashes(meta_, piece, buf);
            if (meta::leaves_prove_piece(meta_, piece, leaves))
                hashes = meta::leaf_proof(leaves, upper.get(), in_file, per, req.index, req.length,
                                          static_cast<int>(req.proof_layers));
        }
        asio::post(ctx_.io, [self, conn, req, hashes = std::move(hashes)] {
            --self->disk_jobs_;
            --self->leaf_reads_;
            --conn->leaf_reads;
            if (conn->closed()) return;
            std::string out;
            if (hashes) {
                wire::put_hashes(out, req, *hashes);
                ++self->ctx_.counters.hash_requests_served;
            } else {
                wire::put_hash_reject(out, req);
                ++self->ctx_.counters.hash_requests_rejected;
            }
            conn->send_raw(out);
            conn->flush();
        });
    });
    return true;
}

}  // namespace pw::session
