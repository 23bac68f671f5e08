// The state store's cumulative statistics (see store.hpp): `session_totals` (name ->
// integer: Transmission's cumulative-stats) and `torrent_totals` (one row per torrent:
// downloadedEver, uploadedEver, secondsSeeding, secondsDownloading, corruptEver). Made with
// CREATE TABLE IF NOT EXISTS on first use, so older databases gain them without a schema
// change. put_totals writes everything it is given in one transaction: the daemon's
// periodic flush of 1,000 torrents is one commit, not thousands.
#include <sqlite3.h>

#include "daemon/state/store.hpp"

namespace pw::daemon::state {

namespace {

constexpr const char* create_stats_tables =
    "CREATE TABLE IF NOT EXISTS session_totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS torrent_totals (info_hash TEXT PRIMARY KEY,"
    " downloaded INTEGER NOT NULL, uploaded INTEGER NOT NULL, seconds_seeding INTEGER NOT NULL,"
    " seconds_downloading INTEGER NOT NULL, corrupt INTEGER NOT NULL)";

void check(sqlite3* db, int rc) {
    if (rc != SQLITE_DONE && rc != SQLITE_OK && rc != SQLITE_ROW)
        throw StoreError(std::string("state database: ") + sqlite3_errmsg(db));
}

struct Prepared {
    sqlite3_stmt* s = nullptr;
    Prepared(sqlite3* db, const char* sql) {
        check(db, sqlite3_prepare_v2(db, sql, -1, &s, nullptr));
    }
    ~Prepared() { sqlite3_finalize(s); }
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;
};

}  // namespace

StoredTotals Store::load_totals() {
    StoredTotals out;
    write([this] {
        check(db_, sqlite3_exec(db_, create_stats_tables, nullptr, nullptr, nullptr));
        // Rows of torrents removed just before a crash (remove() and remove_totals() are
        // two commits) are dropped here, so a torrent added again starts from zero.
        check(db_, sqlite3_exec(db_,
                                "DELETE FROM torrent_totals WHERE info_hash NOT IN "
                                "(SELECT info_hash FROM torrents)",
                                nullptr, nullptr, nullptr));
    });
    {
        Prepared q(db_, "SELECT name, value FROM session_totals");
        int rc;
        while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
            auto* p = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
            out.session[p ? p : ""] = sqlite3_column_int64(q.s, 1);
        }
        check(db_, rc);
    }
    Prepared q(db_,
               "SELECT info_hash, downloaded, uploaded, seconds_seeding, seconds_downloading, "
               "corrupt FROM torrent_totals");
    int rc;
    while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
        TorrentTotals t;
        t.downloaded = sqlite3_column_int64(q.s, 1);
        t.uploaded = sqlite3_column_int64(q.s, 2);
        t.seconds_seeding = sqlite3_column_int64(q.s, 3);
        t.seconds_downloading = sqlite3_column_int64(q.s, 4);
        t.corrupt = sqlite3_column_int64(q.s, 5);
        out.torrents[p ? p : ""] = t;
    }
    check(db_, rc);
    return out;
}

void Store::put_totals(const std::map<std::string, std::int64_t>& session,
                       const std::map<std::string, TorrentTotals>& torrents) {
    write([this, &session, &torrents] {
        check(db_, sqlite3_exec(db_, create_stats_tables, nullptr, nullptr, nullptr));
        exec("BEGIN");
        try {
            Prepared s(db_, "INSERT OR REPLACE INTO session_totals VALUES (?1, ?2)");
            for (auto& [name, v] : session) {
                sqlite3_reset(s.s);
                sqlite3_bind_text(s.s, 1, name.data(), int(name.size()), SQLITE_TRANSIENT);
                sqlite3_bind_int64(s.s, 2, v);
                check(db_, sqlite3_step(s.s));
            }
            Prepared t(db_,
                       "INSERT OR REPLACE INTO torrent_totals VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
            for (auto& [hash, v] : torrents) {
                sqlite3_reset(t.s);
                sqlite3_bind_text(t.s, 1, hash.data(), int(hash.size()), SQLITE_TRANSIENT);
                sqlite3_bind_int64(t.s, 2, v.downloaded);
                sqlite3_bind_int64(t.s, 3, v.uploaded);
                sqlite3_bind_int64(t.s, 4, v.seconds_seeding);
                sqlite3_bind_int64(t.s, 5, v.seconds_downloading);
                sqlite3_bind_int64(t.s, 6, v.corrupt);
                check(db_, sqlite3_step(t.s));
            }
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    });
}

void Store::remove_totals(const std::string& info_hash) {
    write([this, info_hash] {
        check(db_, sqlite3_exec(db_, create_stats_tables, nullptr, nullptr, nullptr));
        Prepared q(db_, "DELETE FROM torrent_totals WHERE info_hash = ?1");
        sqlite3_bind_text(q.s, 1, info_hash.data(), int(info_hash.size()), SQLITE_TRANSIENT);
        check(db_, sqlite3_step(q.s));
    });
}

}  // namespace pw::daemon::state
