// The state store's speed-limit tables (see store.hpp): `speed_limits` (name -> integer,
// the session's) and `torrent_speed_limits` (one row per torrent whose limits were set).
// Made with CREATE TABLE IF NOT EXISTS on first use, so older databases gain them
// without a schema change and an older piecewise ignores them.
#include <sqlite3.h>

#include "daemon/state/store.hpp"

namespace pw::daemon::state {

namespace {

struct Query {
    sqlite3* db;
    sqlite3_stmt* s = nullptr;
    Query(sqlite3* d, const char* sql) : db(d) {
        if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
            throw StoreError(std::string("state database: ") + sqlite3_errmsg(db));
    }
    ~Query() { sqlite3_finalize(s); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    void text(int i, const std::string& v) {
        sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    }
    void i64(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
    void run() {
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            throw StoreError(std::string("state database: ") + sqlite3_errmsg(db));
    }
    std::string col_text(int i) {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        return p ? std::string(p, std::size_t(sqlite3_column_bytes(s, i))) : std::string();
    }
};

constexpr const char* create_tables =
    "CREATE TABLE IF NOT EXISTS speed_limits (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS torrent_speed_limits (info_hash TEXT PRIMARY KEY,"
    " down_kbps INTEGER NOT NULL, up_kbps INTEGER NOT NULL, down_limited INTEGER NOT NULL,"
    " up_limited INTEGER NOT NULL, honors_session INTEGER NOT NULL)";

}  // namespace

std::map<std::string, std::int64_t> Store::load_session_limits() {
    write([this] { exec(create_tables); });
    std::map<std::string, std::int64_t> out;
    Query q(db_, "SELECT name, value FROM speed_limits");
    int rc;
    while ((rc = sqlite3_step(q.s)) == SQLITE_ROW)
        out[q.col_text(0)] = sqlite3_column_int64(q.s, 1);
    if (rc != SQLITE_DONE) throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
    return out;
}

void Store::put_session_limits(const std::map<std::string, std::int64_t>& values) {
    write([this, values] {
        exec(create_tables);
        exec("BEGIN");
        try {
            for (auto& [name, v] : values) {
                Query q(db_, "INSERT OR REPLACE INTO speed_limits VALUES (?1, ?2)");
                q.text(1, name);
                q.i64(2, v);
                q.run();
            }
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    });
}

std::map<std::string, TorrentLimitsRow> Store::load_torrent_limits() {
    write([this] { exec(create_tables); });
    std::map<std::string, TorrentLimitsRow> out;
    Query q(db_,
            "SELECT info_hash, down_kbps, up_kbps, down_limited, up_limited, honors_session FROM "
            "torrent_speed_limits");
    int rc;
    while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
        TorrentLimitsRow r;
        r.down_kbps = sqlite3_column_int64(q.s, 1);
        r.up_kbps = sqlite3_column_int64(q.s, 2);
        r.down_limited = sqlite3_column_int(q.s, 3) != 0;
        r.up_limited = sqlite3_column_int(q.s, 4) != 0;
        r.honors_session = sqlite3_column_int(q.s, 5) != 0;
        out[q.col_text(0)] = r;
    }
    if (rc != SQLITE_DONE) throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
    return out;
}

void Store::put_torrent_limits(const std::string& info_hash, const TorrentLimitsRow& row) {
    write([this, info_hash, row] {
        exec(create_tables);
        Query q(db_, "INSERT OR REPLACE INTO torrent_speed_limits VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        q.text(1, info_hash);
        q.i64(2, row.down_kbps);
        q.i64(3, row.up_kbps);
        q.i64(4, row.down_limited);
        q.i64(5, row.up_limited);
        q.i64(6, row.honors_session);
        q.run();
    });
}

void Store::remove_torrent_limits(const std::string& info_hash) {
    write([this, info_hash] {
        exec(create_tables);
        Query q(db_, "DELETE FROM torrent_speed_limits WHERE info_hash = ?1");
        q.text(1, info_hash);
        q.run();
    });
}

}  // namespace pw::daemon::state
