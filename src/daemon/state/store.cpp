#include "daemon/state/store.hpp"

#include <sqlite3.h>

namespace pw::daemon::state {

namespace {

// A prepared statement that finalises itself.
struct Stmt {
    sqlite3_stmt* s = nullptr;
    Stmt(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
            throw StoreError(std::string("state database: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s); }
    void text(int i, const std::string& v) {
        sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    }
    void blob(int i, const std::string& v) {
        sqlite3_bind_blob(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    }
    void i64(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
    std::string col(int i) {
        auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
        return p ? std::string(p, std::size_t(sqlite3_column_bytes(s, i))) : std::string();
    }
};

void done(sqlite3* db, int rc) {
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        throw StoreError(std::string("state database: ") + sqlite3_errmsg(db));
}

}  // namespace

Store::Store(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError("cannot open state database " + path + ": " + why);
    }
    try {
        sqlite3_busy_timeout(db_, 5000);
        // The first statement reads the header: a file that is not a database fails here.
        int version = 0;
        {
            Stmt v(db_, "PRAGMA user_version");
            if (sqlite3_step(v.s) != SQLITE_ROW)
                throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
            version = sqlite3_column_int(v.s, 0);
        }
        if (version > schema_version)
            throw StoreError("state database " + path + " has schema version " +
                             std::to_string(version) + ", newer than this piecewise (" +
                             std::to_string(schema_version) + ")");
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        // Rows are read once at startup and written one at a time: a 256 KiB page cache
        // instead of SQLite's 2 MiB default is resident memory saved for nothing lost.
        exec("PRAGMA cache_size=-256");
        // Reads every page: a torn or damaged file is reported now, not at the first write.
        {
            Stmt q(db_, "PRAGMA quick_check");
            if (sqlite3_step(q.s) != SQLITE_ROW || q.col(0) != "ok")
                throw StoreError("state database " + path + " is damaged: " +
                                 (q.col(0).empty() ? sqlite3_errmsg(db_) : q.col(0)));
        }
        if (version == 0) {
            exec("BEGIN");
            exec(
                "CREATE TABLE IF NOT EXISTS torrents ("
                " info_hash TEXT PRIMARY KEY,"
                " torrent BLOB NOT NULL,"
                " magnet TEXT NOT NULL,"
                " download_dir TEXT NOT NULL,"
                " paused INTEGER NOT NULL,"
                " added_date INTEGER NOT NULL,"
                " position INTEGER NOT NULL)");
            exec(("PRAGMA user_version=" + std::to_string(schema_version)).c_str());
            exec("COMMIT");
        }
        exec(
            "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS torrent_settings (info_hash TEXT NOT NULL,"
            " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (info_hash, key))");
    } catch (const StoreError& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        std::string msg = e.what();
        if (msg.find(path) == std::string::npos) msg = path + ": " + msg;
        throw StoreError(msg);
    }
    writer_ = std::thread([this] { run_writer(); });
}

Store::~Store() {
    {
        std::lock_guard lk(mu_);
        closing_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    sqlite3_close(db_);
}

void Store::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string why = err ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        throw StoreError("state database: " + why);
    }
}

void Store::run_writer() {
    for (;;) {
        std::packaged_task<void()> job;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [this] { return closing_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

void Store::write(std::function<void()> fn) {
    std::packaged_task<void()> task(std::move(fn));
    auto fut = task.get_future();
    {
        std::lock_guard lk(mu_);
        if (closing_) throw StoreError("state database closed");
        jobs_.push_back(std::move(task));
    }
    cv_.notify_one();
    fut.get();  // rethrows the job's StoreError
}

std::vector<TorrentRow> Store::load() {
    std::vector<TorrentRow> rows;
    Stmt q(db_,
           "SELECT info_hash, torrent, magnet, download_dir, paused, added_date, position FROM "
           "torrents "
           "ORDER BY position");
    int rc;
    while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
        TorrentRow r;
        r.info_hash = q.col(0);
        r.torrent = q.col(1);
        r.magnet = q.col(2);
        r.download_dir = q.col(3);
        r.paused = sqlite3_column_int(q.s, 4) != 0;
        r.added_date = sqlite3_column_int64(q.s, 5);
        r.position = sqlite3_column_int64(q.s, 6);
        rows.push_back(std::move(r));
    }
    done(db_, rc);
    return rows;
}

void Store::put(const TorrentRow& row) {
    write([this, row] {
        Stmt q(db_,
               "INSERT OR REPLACE INTO torrents VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
               "COALESCE(?7, (SELECT COALESCE(MAX(position), 0) + 1 FROM torrents)))");
        q.text(1, row.info_hash);
        q.blob(2, row.torrent);
        q.text(3, row.magnet);
        q.text(4, row.download_dir);
        q.i64(5, row.paused);
        q.i64(6, row.added_date);
        if (row.position > 0) q.i64(7, row.position);
        done(db_, sqlite3_step(q.s));
    });
}

void Store::remove(const std::string& info_hash) {
    write([this, info_hash] {
        exec("BEGIN");
        try {
            Stmt q(db_, "DELETE FROM torrents WHERE info_hash = ?1");
            q.text(1, info_hash);
            done(db_, sqlite3_step(q.s));
            Stmt k(db_, "DELETE FROM torrent_settings WHERE info_hash = ?1");
            k.text(1, info_hash);
            done(db_, sqlite3_step(k.s));
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    });
}

void Store::set_paused(const std::string& info_hash, bool paused) {
    write([this, info_hash, paused] {
        Stmt q(db_, "UPDATE torrents SET paused = ?2 WHERE info_hash = ?1");
        q.text(1, info_hash);
        q.i64(2, paused);
        done(db_, sqlite3_step(q.s));
    });
}

void Store::set_torrent(const std::string& info_hash, const std::string& torrent_bytes) {
    write([this, info_hash, torrent_bytes] {
        Stmt q(db_, "UPDATE torrents SET torrent = ?2 WHERE info_hash = ?1");
        q.text(1, info_hash);
        q.blob(2, torrent_bytes);
        done(db_, sqlite3_step(q.s));
    });
}

std::map<std::string, std::string> Store::load_settings() {
    std::map<std::string, std::string> out;
    write([this, &out] {
        Stmt q(db_, "SELECT key, value FROM settings");
        int rc;
        while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) out[q.col(0)] = q.col(1);
        done(db_, rc);
    });
    return out;
}

void Store::set_setting(const std::string& key, const std::string& value) {
    write([this, key, value] {
        Stmt q(db_, "INSERT OR REPLACE INTO settings VALUES (?1, ?2)");
        q.text(1, key);
        q.text(2, value);
        done(db_, sqlite3_step(q.s));
    });
}

std::map<std::string, std::map<std::string, std::string>> Store::load_torrent_settings() {
    std::map<std::string, std::map<std::string, std::string>> out;
    write([this, &out] {
        Stmt q(db_, "SELECT info_hash, key, value FROM torrent_settings");
        int rc;
        while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) out[q.col(0)][q.col(1)] = q.col(2);
        done(db_, rc);
    });
    return out;
}

void Store::set_torrent_setting(const std::string& info_hash, const std::string& key,
                                const std::string& value) {
    write([this, info_hash, key, value] {
        Stmt q(db_, "INSERT OR REPLACE INTO torrent_settings VALUES (?1, ?2, ?3)");
        q.text(1, info_hash);
        q.text(2, key);
        q.text(3, value);
        done(db_, sqlite3_step(q.s));
    });
}

}  // namespace pw::daemon::state
