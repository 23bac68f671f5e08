// One torrent in a session: its peers, what to request from whom, whom to upload to,
// hashing results, trackers and resume data. Lives on the network thread; disk work
// is posted to the disk pool and its results come back as posted completions.
//
// The implementation is split by concern: torrent.cpp (lifecycle, peer list, ticks,
// DHT lookups), torrent_download.cpp (requests, blocks, hash checks, bans),
// torrent_upload.cpp (choking and serving requests), torrent_fast.cpp (BEP 6 fast
// extension), torrent_super_seed.cpp (BEP 16 super-seeding), torrent_extensions.cpp (serving
// metadata, BEP 9; peer exchange, BEP 11), torrent_tracker.cpp (announces, BEP 3/12),
// torrent_check.cpp (startup check and resume data), torrent_files.cpp (file
// priorities, selective and sequential download).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "crypto/sha1.hpp"
#include "meta/leaf_check.hpp"
#include "meta/local_leaves.hpp"
#include "meta/merkle.hpp"
#include "meta/metainfo.hpp"
#include "meta/piece_hasher.hpp"
#include "peer/peer_connection.hpp"
#include "piecewise/session.hpp"
#include "session/context.hpp"
#include "session/web_seed_state.hpp"
#include "storage/checker.hpp"
#include "storage/parse/relocation.hpp"
#include "storage/resume.hpp"
#include "storage/storage.hpp"
#include "swarm/choker.hpp"
#include "swarm/file_priority.hpp"
#include "swarm/lookup_schedule.hpp"
#include "swarm/piece_picker.hpp"
#include "swarm/stream_window.hpp"
#include "swarm/super_seed.hpp"
#include "tracker/parse/announce.hpp"
#include "wire/hash_messages.hpp"
#include "wire/holepunch.hpp"

namespace pw::session {

using tcp = boost::asio::ip::tcp;
using peer::Clock;
using peer::PeerConnection;

// A piece being downloaded: its buffer and the state of each 16 KiB block.
struct PartialPiece {
    enum : std::uint8_t { free_block = 0, requested = 1, received = 2 };
    int piece = 0;
    int num_blocks = 0;
    int received_count = 0;
    int free_hint = 0;  // no free block before this index
    int hashed_blocks = 0;  // blocks [0, hashed_blocks) are fed to `hasher`
    bool hashing = false;   // complete: being checked and written on the disk pool
    std::unique_ptr<char[]> data;
    std::unique_ptr<meta::PieceHasher> hasher;  // v1/v2 hash of the received prefix
    std::vector<std::uint8_t> state;
    std::vector<std::uint8_t> requests;  // how many peers each block is requested from
    std::vector<tcp::endpoint> senders;  // who sent each received block
};

// What we remember about a peer address.
struct KnownPeer {
    int failures = 0;
    Clock::time_point next_attempt{};
    bool connected = false;
    bool banned = false;
    bool self = false;
    bool seed = false;  // had every piece when we last saw it
    int hash_strikes = 0;
    // The live peer whose ut_pex told us of this one (port 0: none); a relay for BEP 55
    // when a dial fails.
    tcp::endpoint pex_source{};
};

struct TrackerEntry {
    std::string url;
    int tier = 0;
    piecewise::TrackerStatus status;
    bool announced_ok = false;  // needs a `stopped` at the end
    Clock::time_point next_announce{};
    std::string tracker_id;
};

class Torrent : public peer::PeerHandler, public std::enable_shared_from_this<Torrent> {
public:
    Torrent(Context& ctx, piecewise::TorrentId id, meta::Metainfo m,
            const piecewise::AddTorrentParams& params);
    ~Torrent() override;

    void start();  // posts the check, then starts trackers and peers
    // Stops trackers (announcing `stopped` within `timeout`), closes peers, waits for
    // disk jobs and saves resume data.
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds timeout);

    // torrent_control.cpp: what the daemon's Session calls need.
    // Instead of start(): state `stopped`, what is on disk taken from matching resume
    // data; with `check`, every piece is hashed first (and the resume data rewritten).
    void start_paused(bool check);
    // shutdown() for pause(): the torrent keeps answering status as paused.
    boost::asio::awaitable<void> pause(std::chrono::milliseconds timeout);
    // Paused and settled: no shutdown or disk job of it is still running.
    bool settled() const { return paused_ && settled_; }
    void reannounce();
    // The DHT or local service discovery was turned on (Session::set_dht/set_lsd): a
    // running public torrent looks itself up in the DHT and announces itself by LSD now.
    void discovery_started();
    bool paused() const { return paused_; }
    bool errored() const { return state_ == piecewise::TorrentState::error; }
    const meta::Metainfo& metainfo() const { return meta_; }
    const piecewise::AddTorrentParams& params() const { return params_; }
    std::filesystem::path resume_file() const { return resume_path(); }
    // Fills the files and peers lists of a status.
    void detailed_status(piecewise::TorrentStatus& s) const;
    // torrent_limits.cpp: its own rate limits (bytes/s, 0: none), from now on.
    void set_limits(std::int64_t download, std::int64_t upload, bool honors_session_limits);
    void set_bandwidth_priority(int priority);  // -1, 0, 1
    void set_peer_limit(int max_peers);         // <= 0: the session's
    int own_peer_limit() const { return params_.max_peers; }  // 0: the session's
    std::vector<PeerConnection*> live_peer_list() const;  // peers not closed yet
    // Moves it into bandwidth group `name` ("" none), from now on (Session::set_torrent_group).
    void set_group(const std::string& name);
    // torrent_metrics.cpp: what status_all() adds to status() without the lists, and this
    // torrent's share of the session's gauges.
    void summary_status(piecewise::TorrentStatus& s) const;
    void add_gauges(piecewise::SessionStats& s) const;
    void count_active_peers(piecewise::TorrentStatus& s) const;  // peers_getting_from_us...
    // Its counters as the *_before of the torrent that replaces it (resume, recheck).
    void carry_totals(piecewise::AddTorrentParams& p) const;
    std::int64_t wanted_size() const;  // sizeWhenDone: bytes of the wanted pieces

    // torrent_seed_limits.cpp: seed limits and tracker list (Session::set_seed_limits, set_trackers).
    void set_seed_limits(double ratio, int idle_minutes);
    void set_trackers(const std::vector<std::vector<std::string>>& tiers);
    // Paused by a seed limit and not yet reported by take_seed_limit_stop().
    bool take_seed_limit_stop() { return std::exchange(seed_limit_stop_pending_, false); }
    bool seed_limit_stopped() const { return seed_limit_stopped_; }

    piecewise::TorrentId id() const { return id_; }
    const Sha1Digest& info_hash() const { return meta_.info_hash; }
    // torrent_v2.cpp. A hybrid torrent (BEP 52) is in two swarms: its v1 info-hash and its
    // v2 info-hash truncated to 20 bytes; peers may name either in their handshake.
    std::optional<Sha1Digest> v2_swarm() const;
    bool has_info_hash(const Sha1Digest& ih) const;
    piecewise::TorrentStatus status() const;
    bool checking() const { return state_ == piecewise::TorrentState::checking && !stopping_; }
    bool accepting() const { return state_ == piecewise::TorrentState::downloading ||
                                    state_ == piecewise::TorrentState::seeding; }

    // A connection from the listener whose handshake named this torrent.
    // `slot`: its place in the session's connection budget, kept until it closes.
    // `talking`: it already sent a message after our handshake (see has_room()).
    void attach_incoming(peer::PeerStream s, const wire::Handshake& theirs, peer::Transport t = {},
                         std::shared_ptr<void> slot = {}, bool talking = false);
    // torrent_eviction.cpp: whether an incoming peer would be taken now (a free slot, or
    // an idle peer to evict). When not, the listener answers the newcomer's handshake
    // and waits briefly: one that then talks may evict a peer silent for 1 s.
    bool has_room() const;
    wire::Handshake handshake() const { return our_handshake(); }
    void add_peer(const tcp::endpoint& ep);

    // peer::PeerHandler
    bool on_handshake(PeerConnection& p) override;
    void on_message(PeerConnection& p, const wire::Message& m) override;
    void on_closed(PeerConnection& p, const std::string& reason) override;
    void on_send_drained(PeerConnection& p) override;

private:
    // torrent.cpp
    static constexpr int max_connecting = 10;  // outgoing connects of this torrent at once
    void tick();
    void connect_more();
    void dht_lookup();
    // `utp_only`: no TCP (a BEP 55 holepunch connect).
    boost::asio::awaitable<void> connect_to(tcp::endpoint ep, ConnectionLimits::Slot slot,
                                            bool utp_only = false);
    wire::Handshake our_handshake() const;
    void emit(piecewise::EventType t, std::string msg);
    void fail_torrent(const std::string& why);
    bool is_seed() const { return have_.all(); }
    std::int64_t left() const;

    // torrent_download.cpp
    void handle_have(PeerConnection& p, std::uint32_t piece);
    void handle_bitfield(PeerConnection& p, std::string_view bits);
    void set_peer_pieces(PeerConnection& p, const swarm::Bitfield& b);  // replaces what it has
    void handle_block(PeerConnection& p, const wire::Message& m);
    void update_interest(PeerConnection& p);
    void request_more(PeerConnection& p);
    bool pick_block(PeerConnection& p, peer::OutRequest& out);
    bool pick_allowed_fast(PeerConnection& p, peer::OutRequest& out);  // BEP 6, while choked
    void take_block(PartialPiece& pp, int b, peer::OutRequest& out);
    int next_free_block(PartialPiece& pp);
    // A new partial piece: out of the picker, buffer and hasher made, counted in the cache.
    PartialPiece& new_partial(int piece);
    // A block that arrived for a partial piece, from a peer (`except`: its connection,
    // whose request is gone already) or a web seed (`except` null): copied in, hashed as
    // far as the blocks before it allow, `from` recorded for blame, cancelled at the peers
    // that still have it requested (endgame), and the piece checked once complete.
    void store_block(PartialPiece& pp, int b, const char* data, const tcp::endpoint& from,
                     const PeerConnection* except);
    void start_piece(PeerConnection& p, int piece, peer::OutRequest& out);
    bool cache_full() const;
    void release_requests(PeerConnection& p, bool send_cancel);
    void release_requests_if(PeerConnection& p, bool send_cancel,
                             const std::function<bool(const peer::OutRequest&)>& which);
    // Frees the block of one request; `remember`: its block may still arrive (cancelled).
    void release_one(PeerConnection& p, const peer::OutRequest& r, bool send_cancel,
                     bool remember = true);
    void remember_cancelled(PeerConnection& p, const peer::OutRequest& r);
    void piece_complete(PartialPiece& pp);
    void on_piece_checked(int piece, bool ok, storage::StorageError err,
                          std::vector<Sha1Digest> block_hashes,
                          std::vector<tcp::endpoint> senders,
                          std::vector<tcp::endpoint> liars, std::shared_ptr<char[]> data,
                          std::optional<meta::ReceivedLeaves> got);
    // A failed piece as a whole: back to the picker, smart-ban record, the sole sender
    // banned or strikes for each sender. Its partial is gone already.
    void piece_failed_whole(int piece, const std::vector<Sha1Digest>& block_hashes,
                            const std::vector<tcp::endpoint>& senders);
    void on_have_piece(int piece);
    void ban(const tcp::endpoint& key, const std::string& why);
    void check_timeouts();
    int queue_target(const PeerConnection& p) const;
    std::uint32_t block_length(int piece, int block) const;
    bool in_endgame() const;

    // torrent_fast.cpp: the fast extension (BEP 6)
    void send_fast_intro(PeerConnection& p);  // have all/none or bitfield, allowed fast set
    void handle_fast(PeerConnection& p, const wire::Message& m);
    void handle_reject(PeerConnection& p, const wire::Message& m);
    bool allowed_fast_out(const PeerConnection& p, std::uint32_t piece) const;
    void drop_request(PeerConnection& p, std::uint32_t piece, std::uint32_t begin,
                      std::uint32_t length);

    // torrent_super_seed.cpp: super-seeding (BEP 16, swarm/super_seed.hpp)
    bool super_seeding() const { return params_.super_seeding && is_seed(); }
    // Instead of the bitfield: HAVE NONE (fast peers) or nothing, then its first offers.
    void super_seed_intro(PeerConnection& p);
    // Drops the offers it has used up and offers pieces until it holds SuperSeed::slots.
    // `leechers`: super_seed_leechers().
    void super_seed_fill(PeerConnection& p, int leechers);
    // Peers past the handshake that are not seeds, closed ones still in peers_ included.
    int super_seed_leechers() const;
    // A peer's pieces changed (a bitfield, a close): any offer may be used up now.
    void super_seed_refill_all();
    // A bitfield, HAVE ALL or HAVE NONE from `p`: its offers of pieces it had are dropped.
    void super_seed_peer_pieces(PeerConnection& p);
    // A peer announced `piece`: the offers of that piece may be used up now.
    void super_seed_piece_changed(int piece);
    void super_seed_closed(PeerConnection& p);
    // A block of `piece` went out to `p`: once every block of an offer has, it counts as
    // the peer's without waiting for its HAVE.
    void super_seed_sent(PeerConnection& p, std::uint32_t piece, std::uint32_t begin,
                         std::uint32_t length);

    // torrent_upload.cpp
    void rechoke();
    void handle_request(PeerConnection& p, const wire::Message& m);
    void handle_cancel(PeerConnection& p, const wire::Message& m);
    void serve(PeerConnection& p);
    void set_choke(PeerConnection& p, bool choke);

    // torrent_extensions.cpp: ut_metadata (BEP 9) and ut_pex (BEP 11)
    static constexpr std::uint8_t ext_pex_id = 1;
    static constexpr std::uint8_t ext_metadata_id = 2;
    static constexpr std::uint8_t ext_holepunch_id = 3;
    void serve_metadata(PeerConnection& p, std::string_view payload);
    void handle_pex(PeerConnection& p, std::string_view payload);
    // BEP 10 "ipv4"/"ipv6": the peer's address of the other family than the connection's
    // becomes a known peer (at its listen port), not for private torrents (BEP 27).
    void learn_other_address(const PeerConnection& p, const wire::ExtHandshake& eh);
    void send_pex();

    // torrent_holepunch.cpp: ut_holepunch (BEP 55), as relay, target and initiator.
    bool holepunch_enabled() const;  // advertised: uTP on, not private
    void handle_holepunch(PeerConnection& p, std::string_view payload);
    void relay_rendezvous(PeerConnection& from, const wire::HolepunchMsg& m);
    void holepunch_connect(PeerConnection& relay, const tcp::endpoint& target);
    // An outgoing connection to `ep` failed: ask the peer whose PEX named it to introduce
    // us (rendezvous), when that peer is connected and speaks ut_holepunch.
    void ask_relay(const tcp::endpoint& ep);
    // The endpoint the other side of a holepunch should dial for `q`: its uTP endpoint
    // when it reached us over uTP, its listen endpoint otherwise.
    static tcp::endpoint holepunch_endpoint(const PeerConnection& q);
    swarm::RendezvousMemory<tcp::endpoint> rendezvous_asked_;

    // torrent_tracker.cpp
    boost::asio::awaitable<void> tracker_loop();
    boost::asio::awaitable<bool> announce_round(tracker::Event ev);
    boost::asio::awaitable<void> announce_stopped(std::chrono::milliseconds timeout);
    tracker::AnnounceRequest make_request(const std::string& url, tracker::Event ev) const;

    // torrent_files.cpp: file priorities (0 skip .. 7 high), selective and sequential download
  public:
    void set_file_priorities(std::vector<int> prios);
    void set_sequential(bool on);
    const std::vector<int>& file_priorities() const { return file_prio_; }
    // Where each file's bytes live (own file or parts file), on a disk thread: skipped files
    // that do not exist use the parts file; wanted files get their parked bytes back.
    static storage::StorageError arrange_files(storage::Storage& st, const std::vector<int>& prios,
                                               std::int64_t piece_length);

  private:
    void init_priorities();   // from params_, in the constructor
    void apply_priorities();  // piece priorities into the picker, interest, state
    bool piece_wanted(int piece) const { return piece_prio_[static_cast<std::size_t>(piece)] > 0; }
    bool wanted_done() const { return wanted_left_ == 0; }  // every wanted piece verified
    void recount_wanted();  // wanted_left_ after a bulk change of have_ or priorities
    void post_arrange();    // arrange_files() with file_prio_ on the disk pool
    int count_interesting(const PeerConnection& p) const;
    void fill_wanted_status(piecewise::TorrentStatus& s) const;
    void finish_wanted();  // downloading -> seeding when the wanted pieces are in
    // Partial names (storage.hpp). finish_part_files(piece), for a piece just verified and
    // written: when it completes files seen as "<name>.part", they get their own names on a
    // disk worker and on_have_piece(piece) follows; returns whether it did so (false: no
    // such file, nothing done). finish_part_files(-1), after a check: every complete file
    // that may still carry the suffix gets its own name, and torrent_finished waits for
    // that (emit_finished()).
    bool finish_part_files(int piece);
    void emit_finished();

    // torrent_seed_limits.cpp
    void check_seed_limits();  // from tick()
    void build_trackers(const std::vector<std::vector<std::string>>& tiers);

    // torrent_eviction.cpp: closes the peer that holds a slot most uselessly (see
    // swarm/eviction.hpp); false when every peer is worth keeping.
    bool evict_idle_peer(bool for_talker = false);
    PeerConnection* eviction_candidate(bool for_talker, const char** why) const;
    int live_peers() const;  // peers not closed yet
    // Connected peers at most, and how many more incoming ones may take (a few beyond the
    // session's default; none beyond a limit set for this torrent).
    int peer_limit() const;
    int incoming_slack() const { return params_.max_peers > 0 ? 0 : 10; }

    // torrent_check.cpp
    void begin_check();
    // `how`: "resume data", "checked", or a partial check's description.
    void on_checked(std::vector<bool> have, const std::string& how);
    void save_resume();
    void schedule_tick();
    std::filesystem::path resume_path() const;

    Context& ctx_;
    piecewise::TorrentId id_;
    meta::Metainfo meta_;
    piecewise::AddTorrentParams params_;
    std::shared_ptr<storage::Storage> storage_;
    piecewise::TorrentState state_ = piecewise::TorrentState::checking;
    std::string error_;
    bool stopping_ = false;

    swarm::Bitfield have_;
    swarm::PiecePicker picker_;
    swarm::Choker choker_;
    // Shuffles tracker tiers only: a small engine (8 bytes; mt19937_64 is 5 KB per torrent).
    std::minstd_rand rng_;
    std::unique_ptr<swarm::SuperSeed> super_seed_;  // made at the first super-seeded peer
    std::map<int, PartialPiece> partials_;
    std::set<int> open_partials_;  // partial pieces that may still have a free block
    std::uint64_t endgame_epoch_ = 0;  // bumped when requests are released (see pick_block)
    std::map<int, std::vector<std::pair<tcp::endpoint, Sha1Digest>>> failed_blocks_;
    std::int64_t cache_used_ = 0;
    int disk_jobs_ = 0;
    int pieces_since_resume_ = 0;

    std::vector<std::shared_ptr<PeerConnection>> peers_;
    std::map<tcp::endpoint, KnownPeer> known_;
    std::set<wire::PeerId> banned_ids_;
    int connecting_ = 0;
    int next_choke_id_ = 1;
    int ticks_ = 0;
    swarm::LookupSchedule dht_schedule_;

    std::vector<TrackerEntry> trackers_;
    boost::asio::steady_timer tracker_wake_;
    boost::asio::steady_timer tick_timer_;
    bool tracker_running_ = false;
    bool completed_pending_ = false;  // announce `completed` at the next round

    swarm::RateMeter down_rate_, up_rate_;
    std::int64_t downloaded_ = 0, uploaded_ = 0;
    int hash_failures_ = 0;
    std::int64_t refetched_bytes_ = 0;
    int failures_narrowed_ = 0;
    std::int64_t corrupt_bytes_ = 0;
    int banned_count_ = 0;
    std::shared_ptr<storage::CheckProgress> check_progress_;
    bool finished_emitted_ = false;
    bool finish_deferred_ = false;  // torrent_finished waits for part_renames_
    int part_renames_ = 0;          // finish_part_files() jobs in flight
    bool paused_ = false;
    bool settled_ = false;
    std::vector<int> file_prio_;            // per file, 0..7
    std::vector<std::uint8_t> piece_prio_;  // per piece, the highest of its files
    std::vector<int> arranged_prio_;        // the priorities the files were last arranged for
    int wanted_left_ = 0;                   // wanted pieces not verified yet

    // torrent_limits.cpp: this torrent's buckets in the session's limiter.
    void attach_bandwidth(PeerConnection& p);
    std::size_t send_high_water(const PeerConnection& p) const;
    // Where its bucket hangs: its group's or the global bucket while it honors the
    // session's limits, none otherwise.
    peer::BandwidthLimiter::BucketId bucket_parent() const;
    std::shared_ptr<peer::BandwidthLimiter> bw_;
    peer::BandwidthLimiter::BucketId bw_bucket_ = peer::BandwidthLimiter::none;
    // torrent_seed_limits.cpp
    Clock::time_point last_activity_ = Clock::now();  // payload moved (idle seed limit)
    std::int64_t activity_bytes_ = 0;                  // downloaded_ + uploaded_ when last seen
    bool seed_limit_stopped_ = false;
    bool seed_limit_stop_pending_ = false;

    // torrent_rename.cpp: Session::rename_path.
  public:
    // Renames on the disk pool; `done` runs on the network thread with the reason of a
    // failure (empty: renamed, and the file list and name use the new names).
    void rename_files(storage::RenamePlan plan, std::function<void(std::string)> done);
    // Applies renames made before (AddTorrentParams::renames) to a metainfo's names;
    // the reason when one does not apply.
    static std::string apply_renames(
        meta::Metainfo& m, const std::vector<std::pair<std::string, std::string>>& renames);
    // torrent_stream.cpp: streaming readers (session/streams.hpp, swarm/stream_window.hpp).
  public:
    // The pieces under these spans of the torrent stream are picked before any other.
    void set_stream_focus(const std::vector<swarm::StreamSpan>& spans);
    bool piece_verified(int piece) const {
        return piece >= 0 && piece < have_.size() && have_.get(piece);
    }
    bool stream_piece_wanted(int piece) const {
        return piece >= 0 && piece < have_.size() && piece_wanted(piece);
    }
    const std::shared_ptr<storage::Storage>& stream_storage() const { return storage_; }
    // Session::set_part_files: files created from now on are named "<name>.part" until complete.
    void set_part_names(bool on) { storage_->set_part_names(on); }
    double stream_rate() const { return down_rate_.rate(); }
    // Called on the network thread each time a piece is verified and on disk.
    std::function<void(int)> on_piece_verified;

  private:
    // pick_block: a focused piece another peer started, with a free block this peer has.
    bool pick_focus_partial(PeerConnection& p, peer::OutRequest& out);
    // torrent_file_watch.cpp: files changed behind our back (storage/file_change.hpp).
    void watch_files();  // from tick(): stamps some settled files on the disk pool
    bool file_settled(int file) const;  // every piece touching it verified and written
    // A failed read: its file is suspect (the resume data stops vouching for it, so a
    // restart hashes it again), and the torrent stops.
    void fail_storage(const storage::StorageError& err);
    void fail_file(int file, const std::string& why);
    std::vector<std::optional<storage::FileStamp>> watch_base_;  // per file, once settled
    std::vector<char> suspect_;                                  // per file
    std::size_t watch_cursor_ = 0;
    bool watch_running_ = false;
    int watch_epoch_ = 0;  // bumped when files are arranged: stamps taken before are void
    // torrent_v2.cpp: the second swarm of a hybrid (announce, DHT lookup).
    boost::asio::awaitable<void> announce_v2_swarm(std::string url, tracker::Event ev);
    void dht_lookup_v2();
    // torrent_v2.cpp: BEP 52 hash request / hashes / hash reject. Requests are answered
    // from the piece layers (a tree per file, built on first use); a malformed message
    // closes the peer.
    void handle_hash_message(PeerConnection& p, const wire::Message& m);
    std::shared_ptr<const meta::MerkleTree> merkle_tree_for(const Sha256Digest& pieces_root);
    std::map<Sha256Digest, std::shared_ptr<const meta::MerkleTree>> merkle_trees_;
    // torrent_leaf_check.cpp: a failed v2/hybrid piece narrowed to its bad 16 KiB blocks
    // by BEP 52 leaf hashes asked of a v2 peer (see leaf_check.hpp). The piece's partial
    // stays (hashing) while the hashes are awaited; only its bad blocks are freed again.
    struct LeafCheck {
        meta::LeafRequest req;
        std::vector<Sha1Digest> block_hashes;  // for the whole-piece fallback
        std::vector<tcp::endpoint> senders;
        meta::ReceivedLeaves got;              // of the bytes received (from the disk pool)
        std::set<tcp::endpoint> asked;         // peers asked so far
        std::weak_ptr<PeerConnection> asking;  // the one asked now; none: waiting for one
        Clock::time_point deadline{};          // for its answer, or for a peer to be free
        bool waiting = false;                  // for a peer to be free
    };
    // Narrows a failed piece (its bytes in `data`) to its bad blocks: at once when its
    // leaves are known here (meta/local_leaves.hpp), else by asking a peer. False when it
    // cannot be (its blocks all match, no v2 peer to ask): the caller blames the whole piece.
    bool narrow_failed_piece(int piece, const std::shared_ptr<char[]>& data, meta::ReceivedLeaves got,
                             std::vector<Sha1Digest> block_hashes, std::vector<tcp::endpoint> senders);
    bool start_leaf_check(int piece, const std::shared_ptr<char[]>& data, meta::ReceivedLeaves got,
                          std::vector<Sha1Digest> block_hashes, std::vector<tcp::endpoint> senders);
    // The partial of a failed piece takes its bytes back (they went to the disk pool).
    void keep_failed_bytes(PartialPiece& pp, const std::shared_ptr<char[]>& data);
    // Frees the bad blocks of a failed piece whose partial holds its bytes, bans their
    // senders, and fetches only them again.
    void narrow_to_blocks(PartialPiece& pp, const meta::LocalVerdict& v,
                          const std::vector<tcp::endpoint>& senders);
    // Asks the next peer. `busy`: every peer that could answer has its fill of our leaf
    // requests, or peers are still connecting or have not sent what they have (the check
    // waits); `none`: no peer left to ask.
    enum class LeafAsk { asked, busy, none };
    LeafAsk ask_leaf_hashes(int piece, LeafCheck& lc);
    void leaf_check_failed(int piece);  // whole-piece blame after all
    void ask_waiting_leaf_checks();     // after an answer: a peer may have room again
    void leaf_check_tick();                          // from tick(): timeouts, closed peers
    // A `hashes` or `hash reject` that may answer one of our leaf requests; false: not ours.
    bool handle_leaf_answer(PeerConnection& p, const wire::HashRequest& req,
                            const std::vector<Sha256Digest>* hashes);
    // Serves a base-layer (leaf) hash request for a piece we have: read and hashed on the
    // disk pool; false when it is not such a request (the caller rejects it).
    bool serve_leaf_hashes(PeerConnection& p, const wire::HashRequest& req);
    std::map<int, LeafCheck> leaf_checks_;
    meta::ProvenLeaves proven_leaves_;  // of failed pieces, until they pass
    int leaf_reads_ = 0;  // leaf hash requests being read from disk now
    // torrent_web_seed.cpp: web seeds (BEP 19), see session/web_seed_state.hpp.
    struct WebRun;
    void init_web_seeds();  // from the url-list, in the constructor
    void web_seed_tick();   // from tick(): starts connections of seeds not backing off
    void close_web_seeds();
    bool web_seed_banned(const WebSeedState& ws) const;
    std::string web_seed_name(const tcp::endpoint& key) const;  // its URL; empty: not one
    boost::asio::awaitable<void> web_seed_loop(std::shared_ptr<WebSeedState> ws,
                                               std::shared_ptr<peer::WebSeedClient> client);
    bool web_seed_pick(WebRun& run);
    boost::asio::awaitable<peer::WebSeedResult> web_seed_fetch(WebSeedState& ws,
                                                               peer::WebSeedClient& client,
                                                               WebRun& run);
    void web_seed_block(WebSeedState& ws, WebRun& run, int piece, int block, const char* data);
    void web_seed_release(WebRun& run);
    std::vector<std::shared_ptr<WebSeedState>> web_seeds_;
};

}  // namespace pw::session
