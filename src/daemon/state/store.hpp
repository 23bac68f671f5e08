// The daemon's persistent state: one SQLite database (WAL, synchronous=NORMAL) holding a
// row per torrent (its .torrent bytes or magnet link, download directory, paused flag,
// added date and position), so a restarted daemon (also after kill -9) lists every
// acknowledged torrent in the same state.
//
// Contract: every write runs on the store's own writer thread (never the network
// thread); put/remove/set_paused return once the change is committed (durable against a
// process crash; WAL with synchronous=NORMAL may lose the last commits on a power cut).
// open() reads everything on the caller's thread, before the daemon serves requests.
// A file that is not a database of ours, or a newer schema, gives StoreError with a
// one-line reason; the store never overwrites it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct sqlite3;

namespace pw::daemon::state {

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct TorrentRow {
    std::string info_hash;     // hex, the key
    std::string torrent;       // .torrent bytes (empty for a magnet still without metadata)
    std::string magnet;        // magnet link (empty when added from a .torrent)
    std::string download_dir;  // absolute
    bool paused = false;
    std::int64_t added_date = 0;  // unix seconds
    std::int64_t position = 0;    // order of addition: restarts keep the listing order
};

// A torrent's speed limits as the RPC set them (kB/s values kept while not limited).
struct TorrentLimitsRow {
    std::int64_t down_kbps = 0, up_kbps = 0;
    bool down_limited = false, up_limited = false;
    bool honors_session = true;
};

constexpr int schema_version = 1;

// Per-torrent file priorities and sequential flag (store_files.cpp; its own table,
// created when first used, so the torrents table and its schema version are unchanged).
struct FileOptions {
    std::vector<int> priorities;  // one per file; empty: all normal
    bool sequential = false;
};

// A torrent's totals across pauses and restarts (Transmission's downloadedEver,
// uploadedEver, secondsSeeding, secondsDownloading, corruptEver).
struct TorrentTotals {
    std::int64_t downloaded = 0, uploaded = 0;
    std::int64_t seconds_seeding = 0, seconds_downloading = 0;
    std::int64_t corrupt = 0;  // bytes of pieces that failed their hash check
    bool operator==(const TorrentTotals&) const = default;
};
struct StoredTotals {
    std::map<std::string, std::int64_t> session;    // cumulative-stats, by name
    std::map<std::string, TorrentTotals> torrents;  // by info-hash
};

class Store {
  public:
    // Opens or creates `path`; throws StoreError (corrupt file, newer schema, I/O).
    explicit Store(const std::string& path);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Every row, by position. Reads before the writer has work (called at startup).
    std::vector<TorrentRow> load();

    // Committed when they return; throw StoreError on failure.
    void put(const TorrentRow& row);  // insert or replace by info_hash
    void remove(const std::string& info_hash);
    void set_paused(const std::string& info_hash, bool paused);
    void set_torrent(const std::string& info_hash, const std::string& torrent_bytes);
    // store_files.cpp
    void set_file_options(const std::string& info_hash, const FileOptions& o);
    std::map<std::string, FileOptions> load_file_options();  // by info-hash

    // Speed limits (limits_store.cpp), in tables of their own made on first use: the
    // session's as named integers, each torrent's by info-hash. Loads are at startup.
    std::map<std::string, std::int64_t> load_session_limits();
    void put_session_limits(const std::map<std::string, std::int64_t>& values);
    std::map<std::string, TorrentLimitsRow> load_torrent_limits();
    void put_torrent_limits(const std::string& info_hash, const TorrentLimitsRow& row);
    void remove_torrent_limits(const std::string& info_hash);

    // Key/value settings: the session's (session-set) and each torrent's (torrent-set,
    // labels, trackers...), as text. Their tables are created when missing, so the
    // schema version does not change. A torrent's rows go with remove().
    std::map<std::string, std::string> load_settings();
    void set_setting(const std::string& key, const std::string& value);
    // info_hash -> key -> value
    std::map<std::string, std::map<std::string, std::string>> load_torrent_settings();
    void set_torrent_setting(const std::string& info_hash, const std::string& key,
                             const std::string& value);
    // store_location.cpp: where a torrent's data is now (torrent-set-location).
    void set_download_dir(const std::string& info_hash, const std::string& dir);
    // store_batch.cpp: one key of many torrents (info_hash, value) in one transaction
    // (queue positions: a move shifts many torrents).
    void set_torrent_settings(const std::string& key,
                              const std::vector<std::pair<std::string, std::string>>& values);

    // stats_store.cpp: cumulative statistics, in tables of their own made on first use.
    // load_totals is at startup (it drops rows of torrents no longer stored); put_totals
    // commits all it is given in one transaction.
    StoredTotals load_totals();
    void put_totals(const std::map<std::string, std::int64_t>& session,
                    const std::map<std::string, TorrentTotals>& torrents);
    void remove_totals(const std::string& info_hash);

  private:
    void run_writer();
    void exec(const char* sql);
    // Runs `job` on the writer thread and waits for it.
    void write(std::function<void()> job);

    sqlite3* db_ = nullptr;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::packaged_task<void()>> jobs_;
    bool closing_ = false;
    std::thread writer_;
};

}  // namespace pw::daemon::state
