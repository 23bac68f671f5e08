// The daemon's core: a Session plus the state store, behind the operations the RPC
// methods need. It is a client of the public Session API like the CLI: every engine call
// posts to the network thread and returns a copy. State changes are committed to the
// store before they are acknowledged (a torrent-add returns only once its row is
// committed), and startup re-adds every stored torrent in its stored state.
//
// Thread-safety: calls may come from any thread except the session's network thread;
// they are serialised by one mutex (the RPC is not a hot path).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <chrono>
#include <condition_variable>
#include <vector>

#include "daemon/queue/torrent_queue.hpp"
#include "daemon/script_runner.hpp"
#include "daemon/speed_limits.hpp"
#include "daemon/parse/bandwidth_group.hpp"
#include "daemon/parse/seed_policy.hpp"
#include "daemon/state/store.hpp"
#include "piecewise/session.hpp"

namespace pw::daemon {

struct DaemonConfig {
    piecewise::Settings settings;  // resume_dir is set under state_dir when empty
    std::string state_dir;         // holds state.sqlite and resume/
    std::string download_dir;      // default for torrent-add, absolute
    // --max-down / --max-up (bytes/s): replace the stored session limits at start.
    std::optional<std::int64_t> max_down, max_up;
    // Given on the command line: replaces the value a session-set stored (as
    // transmission-daemon's flags replace settings.json). Otherwise the stored one wins.
    bool download_dir_given = false, encryption_given = false, max_connections_given = false;
    // --download-root: download-dir and torrent-set-location must lie inside (empty: anywhere).
    std::string download_root;
};

// session-get's peer-port-random-on-start and the range it picks from (settings.json's
// peer-port-random-low/-high in Transmission; also session-get/-set keys here).
struct PeerPortRandom {
    bool on_start = false;
    int low = 49152, high = 65535;
};

// session-get's incomplete-dir and incomplete-dir-enabled.
struct IncompleteDir {
    std::string dir;  // absolute; the download dir at first start
    bool enabled = false;
};

// Transmission's event scripts: script-torrent-added, -done and -done-seeding.
enum class ScriptEvent { added, done, done_seeding };
struct ScriptSetting {
    bool enabled = false;
    std::string filename;
};
struct ScriptSettings {
    ScriptSetting added, done, done_seeding;
    ScriptSetting& operator[](ScriptEvent e) {
        return e == ScriptEvent::added ? added : e == ScriptEvent::done ? done : done_seeding;
    }
};

// The largest cache-size-mb taken.
constexpr int max_cache_mb = 16384;

// session-get's blocklist-url, blocklist-enabled and blocklist-size (rules in force).
struct BlocklistInfo {
    std::string url;
    bool enabled = false;
    std::size_t size = 0;
};

// The largest blocklist blocklist-update downloads (compressed or not).
constexpr std::uint64_t max_blocklist_download = 64u << 20;

// Transmission's file lists (torrent-add, torrent-set): indices of the torrent's files as
// torrent-get lists them. A list that is present but empty means every file.
struct FileList {
    bool present = false;
    std::vector<int> indices;
};
struct FileChange {
    FileList wanted, unwanted, high, normal, low;
    std::optional<bool> sequential;
    bool files() const {
        return wanted.present || unwanted.present || high.present || normal.present || low.present;
    }
};
// The priorities (0 skip, 1 low, 4 normal, 7 high; one per file) after `c`. Throws
// piecewise::Error for an index past the last file.
std::vector<int> apply_file_change(std::vector<int> prios, const FileChange& c);
// Listed files (as torrent-get shows them: BEP 47 pad files left out) -> one priority per
// file of the metainfo (pad files 0), as Session takes them.
std::vector<int> with_pad_files(const std::vector<int>& listed, const std::vector<bool>& is_pad);

// The highest per-torrent peer limit the RPC accepts (Transmission's peer-limit).
constexpr int max_peer_limit = 10'000;

struct AddRequest {
    std::string filename;      // local path of a .torrent, or a magnet link
    std::string metainfo;      // .torrent bytes (already base64-decoded)
    std::string download_dir;  // empty: the default
    bool paused = false;
    FileChange files;  // files-wanted/-unwanted, priority-*, sequential
    std::vector<std::string> labels;
    std::optional<int> bandwidth_priority;  // -1, 0, 1
    std::optional<int> peer_limit;          // > 0
};

// What the daemon keeps per torrent beside the engine's state (torrent-set settings).
struct TorrentExtras {
    TorrentSeedLimits seed;
    std::vector<std::string> labels;
    // The announce list in a stable order (tracker ids are positions in it): the
    // .torrent's or magnet's, or what trackerAdd/Remove/Replace/List made of it.
    std::vector<std::vector<std::string>> trackers;
    bool trackers_set = false;  // changed by the RPC: stored, and given to the engine
    std::string group;          // bandwidth group ("": none)
    int bandwidth_priority = 0; // -1 low, 0 normal, 1 high
    int peer_limit = 0;         // 0: the session's peer-limit-per-torrent
    // daemon_stats.cpp: the totals it was (re-)added with (the engine counts its bytes on
    // from these) and the time spent seeding / downloading, counted by the daemon.
    state::TorrentTotals stored_totals;
    std::int64_t seeding_ms = 0, downloading_ms = 0;
};

enum class QueueMove { top, up, down, bottom };

struct AddResult {
    piecewise::TorrentId id = -1;
    std::string name;
    std::string hash;
    bool duplicate = false;
};

// Transmission's session-stats figures (current-stats, cumulative-stats).
struct StatsTotals {
    std::int64_t uploaded = 0, downloaded = 0, files_added = 0, session_count = 0,
                 seconds_active = 0;
};

struct StatsSnapshot {
    int torrents = 0, active = 0, paused = 0;
    double down_rate = 0, up_rate = 0;
    std::int64_t downloaded = 0, uploaded = 0;  // this run
    std::int64_t seconds_active = 0;            // this run
    std::int64_t files_added = 0;               // this run
    StatsTotals cumulative;                     // every run, this one included
};

class Daemon {
  public:
    // Opens the store, starts the session and re-adds stored torrents. Throws
    // state::StoreError or piecewise::Error with a one-line reason.
    explicit Daemon(DaemonConfig cfg);
    ~Daemon();

    // Throws piecewise::Error (bad torrent, relative directory) or state::StoreError.
    AddResult add(const AddRequest& req);
    std::vector<piecewise::TorrentId> list();
    std::optional<piecewise::TorrentStatus> status(piecewise::TorrentId id);
    // false: unknown id. Throw state::StoreError when the change cannot be committed.
    bool start(piecewise::TorrentId id);
    bool stop(piecewise::TorrentId id);
    bool verify(piecewise::TorrentId id);
    bool reannounce(piecewise::TorrentId id);
    bool remove(piecewise::TorrentId id, bool delete_data);
    // Ids whose status changed recently (activity) and ids removed recently (60 s).
    std::vector<piecewise::TorrentId> recently_removed();

    StatsSnapshot stats();
    const DaemonConfig& config() const { return cfg_; }
    std::uint16_t peer_port() const { return session_->listen_port(); }
    void set_download_dir(const std::string& dir);  // throws piecewise::Error if not absolute
    void set_encryption(piecewise::Encryption policy);  // from now on, for new connections
    // daemon_files.cpp: torrent-set's file selection, priorities and sequential download,
    // committed to the store. false: unknown id; throws piecewise::Error (a magnet still
    // without its file list, an index out of range) or state::StoreError.
    bool set_files(piecewise::TorrentId id, const FileChange& c);

    // Speed limits (speed_limits.cpp); the setters apply them and commit them to the store.
    SpeedLimits speed_limits();  // alt_enabled as the schedule left it
    void set_speed_limits(const SpeedLimits& l);
    // nullopt: unknown id.
    std::optional<TorrentSpeedLimits> torrent_speed_limits(piecewise::TorrentId id);
    bool set_torrent_speed_limits(piecewise::TorrentId id, const TorrentSpeedLimits& l);
    // Monitoring (the web UI's /events, /metrics): one round trip each.
    // daemon_queue.cpp: with `queued` filled in.
    std::vector<std::pair<piecewise::TorrentId, piecewise::TorrentStatus>> status_all();
    piecewise::SessionStats session_stats() { return session_->session_stats(); }
    std::int64_t started_at() const { return started_at_; }  // unix seconds

    // daemon_settings.cpp: per-torrent settings and seed limits. false: unknown id.
    std::optional<TorrentExtras> extras(piecewise::TorrentId id);
    bool set_seed_limits(piecewise::TorrentId id, const TorrentSeedLimits& limits);
    bool set_labels(piecewise::TorrentId id, const std::vector<std::string>& labels);
    // Stored, then given to the engine (Session::set_bandwidth_priority / set_peer_limit).
    bool set_bandwidth_priority(piecewise::TorrentId id, int priority);
    bool set_peer_limit(piecewise::TorrentId id, int max_peers);
    // session-set peer-limit-global / peer-limit-per-torrent (<= 0: unchanged): stored,
    // then given to the engine (Session::set_peer_limits).
    void set_peer_limits(int global, int per_torrent);
    // cache-size-mb: Session::set_cache_bytes (the bound on piece data each downloading
    // torrent holds in memory), committed to the store; 0 to max_cache_mb.
    void set_cache_mb(int mb);
    // Throws piecewise::Error for a URL that is not a tracker's.
    bool set_trackers(piecewise::TorrentId id, const std::vector<std::vector<std::string>>& tiers);
    SessionSeedLimits session_seed_limits();
    void set_session_seed_limits(const SessionSeedLimits& limits);
    // start-added-torrents: whether a torrent added without an explicit `paused` (the RPC
    // without the key, the watch dir) starts at once. Committed to the store.
    bool start_added_torrents();
    void set_start_added_torrents(bool on);
    // trash-original-torrent-files: a .torrent the watch dir added is deleted instead of
    // renamed *.added. Committed to the store.
    bool trash_original_torrent_files();
    void set_trash_original_torrent_files(bool on);

    // daemon_incomplete.cpp: incomplete-dir. While enabled, a torrent added whose data is
    // not in its download dir yet downloads into the incomplete dir; once finished its
    // files move to the download dir on a disk thread (set_location's move, recorded the
    // same way), and status() reports the download dir as save_path meanwhile. Committed
    // to the store; set_incomplete_dir throws piecewise::Error as check_dir does.
    IncompleteDir incomplete_dir();
    void set_incomplete_dir(const std::string& dir);
    void set_incomplete_dir_enabled(bool on);
    // rename-partial-files: files are named "<name>.part" until complete (Settings::part_files;
    // stored; off unless set).
    bool rename_partial_files();
    void set_rename_partial_files(bool on);

    // daemon_scripts.cpp: the event scripts (script_runner.hpp), committed to the store.
    ScriptSettings scripts();
    void set_script(ScriptEvent e, const ScriptSetting& s);
    // Children spawned and not yet reaped.
    std::size_t scripts_running() { return script_runner_.running(); }

    // daemon_blocklist.cpp. Two lists make the IP blocklist while blocklist-enabled is on
    // (as the files of transmission-daemon's blocklists directory): the --blocklist file
    // (Settings::blocklist_file, read again at each change) and the list blocklist-update
    // downloaded, kept as blocklist.bin in the state directory. --blocklist turns
    // blocklist-enabled on at start. Each setter is committed to the store first.
    BlocklistInfo blocklist();
    void set_blocklist_url(const std::string& url);
    // Applies the lists (on) or drops the blocklist (off); throws piecewise::Error when a
    // list is unusable (the setting is then unchanged).
    void set_blocklist_enabled(bool on);
    // The downloaded list replaced by `data` (any format Session::set_blocklist takes):
    // in force at once while enabled, then saved. Throws piecewise::Error for a bad list or
    // a failed write, the old list then still in force. Returns the rules in force.
    std::size_t update_blocklist(const std::string& data);
    // pex-enabled: Session::set_pex, stored.
    void set_pex(bool on);

    // daemon_network.cpp: dht-enabled, lpd-enabled, utp-enabled. Each is applied to the
    // engine first (Session::set_dht / set_lsd / set_utp, which throw piecewise::Error when
    // it cannot be done: the setting then stays as it was), then committed to the store.
    void set_dht(bool on);
    void set_lsd(bool on);
    void set_utp(bool on);
    // peer-port: Session::set_listen_port (throws piecewise::Error, the old port then
    // still in use), then stored. It replaces the port of --listen at later starts, as
    // long as --listen says what it said at the start before.
    void set_peer_port(std::uint16_t port);
    // port-forwarding-enabled: Session::set_port_forwarding (NAT-PMP and UPnP), stored.
    void set_port_forwarding(bool on);
    PeerPortRandom peer_port_random();
    // Stored; used at the next start. Throws piecewise::Error for low > high.
    void set_peer_port_random(const PeerPortRandom& r);

    // daemon_location.cpp: torrent-set-location and torrent-rename-path. `dir` as
    // check_dir() takes it. The move goes on in the background: the new location is
    // committed once the engine finished it (see persist_moves()); the target is recorded
    // first, so that a restart after a crash mid-move finds the data where it is.
    // false: unknown id; throws piecewise::Error with the reason.
    bool set_location(piecewise::TorrentId id, const std::string& dir, bool move);
    // Done when it returns; the name is committed with the torrent's other renames.
    bool rename_path(piecewise::TorrentId id, const std::string& path, const std::string& name);
    // An absolute directory inside --download-root, lexically normal; throws
    // piecewise::Error naming `what` otherwise.
    std::string check_dir(const std::string& dir, const std::string& what) const;

    // daemon_queue.cpp: download/seed queues and bandwidth groups, kept in the store.
    queue::QueueSettings queue_settings();
    void set_queue_settings(const queue::QueueSettings& s);  // applied at once
    bool start_now(piecewise::TorrentId id);  // false: unknown id
    int queue_position(piecewise::TorrentId id);  // -1: unknown id
    bool queue_stalled(piecewise::TorrentId id);
    void queue_move(QueueMove how, const std::vector<piecewise::TorrentId>& ids);
    bool set_queue_position(piecewise::TorrentId id, int position);
    std::vector<GroupLimits> groups();
    void set_group(const GroupLimits& g);  // creates or replaces; throws piecewise::Error
    bool set_torrent_group(piecewise::TorrentId id, const std::string& name);

    // daemon_stream.cpp: GET /stream/. Opens a stream on file `index` (as torrent-get
    // lists files) of the torrent with this info-hash (40 lower-case hex); no_torrent
    // when there is none. Reads and closing go to session() directly.
    piecewise::StreamInfo open_stream(const std::string& info_hash, int index);
    piecewise::Session& session() { return *session_; }

  private:
    // daemon_location.cpp
    // At startup: stored renames, and the place of the data after a crash mid-move or mid-rename.
    void restore_location(const std::string& hash, const std::string& torrent,
                          piecewise::AddTorrentParams& p);
    void persist_moves();  // housekeeping, with mu_ held: records finished moves
    std::map<piecewise::TorrentId, std::string> pending_moves_;  // id -> target
    std::map<piecewise::TorrentId, std::vector<std::pair<std::string, std::string>>> renames_;

    // daemon_incomplete.cpp (with mu_ held)
    IncompleteDir incomplete_;
    // Torrents whose data is in an incomplete dir: id -> the download dir it moves to
    // (stored as the torrent setting "final_dir").
    std::map<piecewise::TorrentId, std::string> final_dirs_;
    std::map<piecewise::TorrentId, bool> done_after_move_;  // done script waits for the move
    std::map<piecewise::TorrentId, std::int64_t> done_at_;  // downloaded bytes when last finished
    void load_incomplete_settings();  // before torrents are re-added
    // torrent-add: where the torrent's data goes (`dir` or the incomplete dir); sets
    // `final_dir` when it is the incomplete dir.
    std::string place_added(const std::string& torrent, const std::string& dir,
                            std::string& final_dir);
    // At startup, after restore_location: the stored final dir of a re-added torrent.
    std::string restore_final_dir(const std::string& hash, const std::string& save_path);
    // Housekeeping: finished torrents (events popped by the caller) start their move and
    // the done script; a finished move in persist_moves() calls moved().
    void handle_events(const std::vector<piecewise::Event>& events);
    void start_completion_move(piecewise::TorrentId id);
    void moved(piecewise::TorrentId id, const std::string& target, bool ok);
    void drop_final_dir(piecewise::TorrentId id);

    // daemon_scripts.cpp (with mu_ held)
    ScriptSettings scripts_;
    ScriptRunner script_runner_;
    void load_script_settings();
    void run_script(ScriptEvent e, piecewise::TorrentId id);

    // daemon_network.cpp: the stored dht/lpd/utp settings over the command line's, before
    // the session starts (see the file's comment for which wins).
    void load_network_settings();
    PeerPortRandom port_random_;
    // After the session started, with peer-port-random-on-start: a port of the range.
    void pick_random_port();
    // --listen as the command line gave it (before a stored peer-port replaced the port).
    std::string cli_listen_, cli_listen2_;
    // The session, on the stored peer-port, or on --listen's own when that one is taken.
    std::unique_ptr<piecewise::Session> open_session();

    // daemon_blocklist.cpp (with mu_ held)
    BlocklistInfo blocklist_;
    void load_blocklist_settings();  // before the session starts
    void apply_blocklist();          // after it started: the stored downloaded list
    // The lists in force when enabled: the --blocklist file's bytes, then `downloaded`
    // (empty: none). Throws piecewise::Error.
    std::vector<std::string> blocklist_lists(const std::string& downloaded) const;
    std::string blocklist_path() const;

    // daemon_settings.cpp
    std::map<piecewise::TorrentId, TorrentExtras> extras_;
    SessionSeedLimits seed_limits_;
    bool start_added_ = true;
    bool trash_original_ = false;
    std::map<std::string, std::map<std::string, std::string>> stored_extras_;  // at startup
    // Fills `e` and `p` (seed limits, trackers) for a torrent being added or re-added.
    void prepare_extras(const std::string& hash, const std::string& torrent,
                        const std::string& magnet, TorrentExtras& e,
                        piecewise::AddTorrentParams& p);
    void load_session_settings();
    // Which value of a setting with a command-line form a start uses (the rule of
    // daemon_network.cpp): true when the stored one, because the command line (`cli`, its
    // text; `cli_given`: the flag was on it) says what it said at the start before. A
    // database without the setting's "<key>_cli" (from before it was kept) keeps its stored
    // value unless the flag is given. Records `cli` as "<key>_cli" either way.
    bool stored_wins(const std::map<std::string, std::string>& kv, const std::string& key,
                     const std::string& cli, bool cli_given);
    void apply_seed_limits(piecewise::TorrentId id);  // with mu_ held
    void housekeeping();
    // Prints the session's port-mapping events (Settings::natpmp, upnp) on stderr; the other
    // events are not logged (the daemon reports through the RPC). Returns them all for
    // handle_events(). Housekeeping; mu_ not held.
    std::vector<piecewise::Event> log_session_events();
    std::thread house_;
    std::condition_variable house_cv_;
    bool house_stop_ = false;

    DaemonConfig cfg_;
    std::unique_ptr<state::Store> store_;
    std::unique_ptr<piecewise::Session> session_;
    std::mutex mu_;
    std::map<piecewise::TorrentId, std::string> hashes_;  // id -> info-hash hex
    std::map<piecewise::TorrentId, std::int64_t> removed_at_;
    std::int64_t started_at_ = 0;
    std::string torrent_file_for(const std::string& hash) const;
    std::vector<bool> pad_flags(const std::string& hash);  // per metainfo file; empty if unknown

    // speed_limits.cpp
    void load_speed_limits();  // before the session starts: stored and --max-* limits
    void stored_torrent_limits(const std::string& hash, piecewise::AddTorrentParams& p);
    SpeedLimits speed_;
    std::map<std::string, TorrentSpeedLimits> torrent_speed_;  // by info-hash; absent: defaults

    // daemon_queue.cpp (with mu_ held unless said otherwise)
    queue::TorrentQueue queue_;
    bool queue_dirty_ = true;                       // something changed: pass at the next tick
    // The queue order as stored (index = position): each save writes only the torrents
    // whose position changed, with no per-torrent work beyond one comparison.
    std::vector<piecewise::TorrentId> saved_order_;
    std::map<std::string, GroupLimits> groups_;
    void load_queue_settings();                          // before the session starts
    // At startup: the holds of the stored torrents, decided in their stored queue order
    // (`order`: their hashes in it), as holds() would for them one after another.
    std::map<std::string, queue::Hold> startup_holds(const std::vector<state::TorrentRow>& rows,
                                                     std::vector<std::string>& order);
    void apply_groups();                                 // after the session starts
    void queue_added(piecewise::TorrentId id, bool paused, const queue::Hold& h);
    void save_positions();
    // A paused torrent the user starts: resumed when its queue has room, else queued.
    bool queue_start(piecewise::TorrentId id, const piecewise::TorrentStatus& st);
    // The housekeeping's pass: what the engine says (mu_ not held; nullopt: no pass
    // needed), then the decisions applied (mu_ held).
    std::optional<std::vector<std::pair<piecewise::TorrentId, piecewise::TorrentStatus>>>
    queue_observe();
    void queue_decide(
        const std::vector<std::pair<piecewise::TorrentId, piecewise::TorrentStatus>>& all);
    void fill_queued(piecewise::TorrentId id, piecewise::TorrentStatus& st);
    void prepare_group(const std::string& hash, TorrentExtras& e, piecewise::AddTorrentParams& p);
    // daemon_stats.cpp: cumulative statistics, kept in the store (written every
    // stats_flush_every and at shutdown, by the store's writer thread).
    void load_totals();  // constructor: before torrents are re-added; counts this session
    // A stored torrent's totals into its params (engine counters) and extras (seconds).
    void apply_totals(const std::string& hash, piecewise::AddTorrentParams& p, TorrentExtras& e);
    void sample_totals(bool flush);                               // housekeeping; mu_ not held
    void count_files_added(const std::string& torrent);           // with mu_ held
    std::map<std::string, state::TorrentTotals> loaded_totals_;   // at startup, by hash
    std::map<std::string, state::TorrentTotals> flushed_totals_;  // as last written
    StatsTotals session_base_;      // cumulative-stats of the runs before this one
    std::int64_t files_added_ = 0;  // this run
    std::chrono::steady_clock::time_point last_sample_{};
    std::chrono::steady_clock::time_point last_flush_{};
};

}  // namespace pw::daemon
