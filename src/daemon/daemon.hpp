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
#include <condition_variable>
#include <vector>

#include "daemon/speed_limits.hpp"
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
};

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

struct AddRequest {
    std::string filename;      // local path of a .torrent, or a magnet link
    std::string metainfo;      // .torrent bytes (already base64-decoded)
    std::string download_dir;  // empty: the default
    bool paused = false;
    FileChange files;  // files-wanted/-unwanted, priority-*, sequential
    std::vector<std::string> labels;
};

// What the daemon keeps per torrent beside the engine's state (torrent-set settings).
struct TorrentExtras {
    TorrentSeedLimits seed;
    std::vector<std::string> labels;
    // The announce list in a stable order (tracker ids are positions in it): the
    // .torrent's or magnet's, or what trackerAdd/Remove/Replace/List made of it.
    std::vector<std::vector<std::string>> trackers;
    bool trackers_set = false;  // changed by the RPC: stored, and given to the engine
};

struct AddResult {
    piecewise::TorrentId id = -1;
    std::string name;
    std::string hash;
    bool duplicate = false;
};

struct StatsSnapshot {
    int torrents = 0, active = 0, paused = 0;
    double down_rate = 0, up_rate = 0;
    std::int64_t downloaded = 0, uploaded = 0;  // this run
    std::int64_t seconds_active = 0;            // this run
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
    std::vector<std::pair<piecewise::TorrentId, piecewise::TorrentStatus>> status_all() {
        return session_->status_all();
    }
    piecewise::SessionStats session_stats() { return session_->session_stats(); }
    std::int64_t started_at() const { return started_at_; }  // unix seconds

    // daemon_settings.cpp: per-torrent settings and seed limits. false: unknown id.
    std::optional<TorrentExtras> extras(piecewise::TorrentId id);
    bool set_seed_limits(piecewise::TorrentId id, const TorrentSeedLimits& limits);
    bool set_labels(piecewise::TorrentId id, const std::vector<std::string>& labels);
    // Throws piecewise::Error for a URL that is not a tracker's.
    bool set_trackers(piecewise::TorrentId id, const std::vector<std::vector<std::string>>& tiers);
    SessionSeedLimits session_seed_limits();
    void set_session_seed_limits(const SessionSeedLimits& limits);

    // daemon_stream.cpp: GET /stream/. Opens a stream on file `index` (as torrent-get
    // lists files) of the torrent with this info-hash (40 lower-case hex); no_torrent
    // when there is none. Reads and closing go to session() directly.
    piecewise::StreamInfo open_stream(const std::string& info_hash, int index);
    piecewise::Session& session() { return *session_; }

  private:
    // daemon_settings.cpp
    std::map<piecewise::TorrentId, TorrentExtras> extras_;
    SessionSeedLimits seed_limits_;
    std::map<std::string, std::map<std::string, std::string>> stored_extras_;  // at startup
    // Fills `e` and `p` (seed limits, trackers) for a torrent being added or re-added.
    void prepare_extras(const std::string& hash, const std::string& torrent,
                        const std::string& magnet, TorrentExtras& e,
                        piecewise::AddTorrentParams& p);
    void load_session_settings();
    void apply_seed_limits(piecewise::TorrentId id);  // with mu_ held
    void housekeeping();
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
};

}  // namespace pw::daemon
