// BEP 52 block-level blame for a v2 or hybrid piece that failed its hash check. Instead
// of blaming every peer that sent part of the piece, each received block is compared to
// its leaf hash (the blocks' own leaf hashes come with the failed check from the disk
// pool, so the network thread hashes no piece data): exactly the senders of the bad
// blocks are banned, the good blocks are kept and only the bad ones are downloaded again.
//
// Where the leaves are known without a peer (meta/local_leaves.hpp: leaves proven for
// this piece before, a data part that matches the piece hash so only padding can be bad,
// a piece of one data block) the piece is narrowed at once. Otherwise they are asked of a
// v2 peer with a `hash request` for base layer 0 and proven against the piece-layer hash
// we trust; proven leaves are kept until the piece passes. A peer whose hashes do not
// prove out is banned. At most two such requests are outstanding per peer (a check waits
// up to 10 s for a peer with room, or for peers still connecting or yet to send their
// bitfield), each is given 10 s, three peers are tried; then, or when no v2 peer has the
// piece, it is blamed as a whole (torrent_download.cpp) as before.
//
// The other side is here too: leaf hash requests are answered by reading the pieces
// their run covers on the disk pool and hashing their blocks (meta/leaf_check.hpp): a run
// inside one piece we have, or a run of up to 512 leaves over several pieces, all of
// which we have; at most two reads per peer and eight per torrent at a time; anything
// else is rejected.
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

bool Torrent::narrow_failed_piece(int piece, const std::shared_ptr<char[]>& data,
                                  meta::ReceivedLeaves got, std::vector<Sha1Digest> block_hashes,
                                  std::vector<tcp::endpoint> senders) {
    auto pit = partials_.find(piece);
    if (pit == partials_.end() || leaf_checks_.count(piece)) return false;
    const meta::LocalVerdict v = meta::local_verdict(got, proven_leaves_.find(piece));
    switch (v.kind) {
        case meta::LocalVerdict::Kind::ask:
            return start_leaf_check(piece, data, std::move(got), std::move(block_hashes),
                                    std::move(senders));
        case meta::LocalVerdict::Kind::data_sound:
            return false;  // every block matches: a hybrid whose halves disagree
        case meta::LocalVerdict::Kind::blocks:
            break;
    }
    keep_failed_bytes(pit->second, data);
    narrow_to_blocks(pit->second, v, senders);
    return true;
}

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
    keep_failed_bytes(pit->second, data);
    return true;
}

void Torrent::keep_failed_bytes(PartialPiece& pp, const std::shared_ptr<char[]>& data) {
    const auto size = static_cast<std::size_t>(meta_.piece_size(pp.piece));
    pp.data.reset(new char[size]);
    std::memcpy(pp.data.get(), data.get(), size);
}

void Torrent::narrow_to_blocks(PartialPiece& pp, const meta::LocalVerdict& v,
                               const std::vector<tcp::endpoint>& senders) {
    const int piece = pp.piece;
    // Only the bad blocks go back to the pool; the hash restarts over the blocks kept.
    std::map<tcp::endpoint, bool> liars;  // sender -> one of its blocks' data differs from its leaf
    std::int64_t bytes = 0;
    for (int b : v.bad) {
        const auto i = static_cast<std::size_t>(b);
        const bool by_leaf = std::find(v.leaf_differs.begin(), v.leaf_differs.end(), b) != v.leaf_differs.end();
        if (i < senders.size() && senders[i] != tcp::endpoint()) liars[senders[i]] |= by_leaf;
        pp.state[i] = PartialPiece::free_block;
        pp.senders[i] = tcp::endpoint();
        --pp.received_count;
        bytes += block_length(piece, b);
    }
    // The blocks kept are hashed again one at a time as the missing ones arrive (store_block).
    pp.hasher = std::make_unique<meta::PieceHasher>(meta_, piece);
    pp.hashed_blocks = 0;
    pp.free_hint = v.bad.front();
    pp.hashing = false;
    open_partials_.insert(piece);
    ++endgame_epoch_;
    ++failures_narrowed_;
    ++ctx_.counters.failures_narrowed;
    refetched_bytes_ += bytes;
    ctx_.counters.refetched_bytes += static_cast<std::uint64_t>(bytes);
    for (const auto& [l, data_bad] : liars)
        ban(l, data_bad ? fmt::format("sent a corrupt block of piece {} (its BEP 52 leaf hash differs)", piece)
                        : fmt::format("sent a block of piece {} whose BEP 47 padding is not zeros", piece));
    for (auto& q : std::vector(peers_)) request_more(*q);
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
    // Proven leaves stay true: a later failure of this piece is judged by them at once.
    proven_leaves_.put(piece, std::vector<Sha256Digest>(leaves.begin(), leaves.end()));
    const meta::LocalVerdict v = meta::local_verdict(lc.got, leaves);
    if (v.kind != meta::LocalVerdict::Kind::blocks) {
        // Every block matches its leaf: a hybrid whose v1 hash disagrees with its v2 tree.
        leaf_check_failed(piece);
        ask_waiting_leaf_checks();
        return true;
    }
    const std::vector<tcp::endpoint> senders = std::move(lc.senders);
    leaf_checks_.erase(it);
    narrow_to_blocks(pit->second, v, senders);
    ask_waiting_leaf_checks();
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
    if (!span || storage_ == nullptr) return false;
    const auto plan = meta::leaf_serve_plan(meta_, *span, req.index, req.length,
                                            static_cast<int>(req.proof_layers));
    if (!plan) return false;
    for (int i = 0; i < plan->read_pieces; ++i)
        if (!have_.get(plan->first_piece + i)) return false;
    std::shared_ptr<const meta::MerkleTree> upper;
    if (span->num_pieces > 1 && !(upper = merkle_tree_for(req.pieces_root))) return false;
    if (p.leaf_reads >= max_reads_per_peer || leaf_reads_ >= max_reads) return false;
    ++p.leaf_reads;
    ++leaf_reads_;
    ++disk_jobs_;
    auto self = shared_from_this();
    auto conn = p.shared_from_this();
    auto storage = storage_;
    ctx_.disk.post([this, self, conn, storage, upper, req, plan = *plan] {
        // The pieces one by one, each checked against its piece hash: what we serve is
        // what we verified, and a changed file answers nothing.
        std::vector<Sha256Digest> leaves;
        leaves.reserve(static_cast<std::size_t>(plan.run_pieces * plan.leaves_per_piece));
        std::string buf;
        bool ok = true;
        for (int i = 0; ok && i < plan.read_pieces; ++i) {
            const int piece = plan.first_piece + i;
            buf.assign(static_cast<std::size_t>(meta_.piece_size(piece)), '\0');
            ok = !storage->read(std::int64_t(piece) * meta_.piece_length, buf.data(), buf.size());
            if (!ok) break;
            auto got = meta::piece_leaf_hashes(meta_, piece, buf);
            ok = meta::leaves_prove_piece(meta_, piece, got);
            leaves.insert(leaves.end(), got.begin(), got.end());
        }
        std::optional<std::vector<Sha256Digest>> hashes;
        if (ok) {
            // Pieces of the run past the file's end: zero leaves (BEP 52 padding).
            leaves.resize(static_cast<std::size_t>(plan.run_pieces * plan.leaves_per_piece),
                          Sha256Digest{});
            hashes = meta::leaf_proof(leaves, upper.get(), plan.first_in_file, plan.leaves_per_piece,
                                      req.index, req.length, static_cast<int>(req.proof_layers));
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
