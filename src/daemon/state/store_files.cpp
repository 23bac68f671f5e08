// File priorities and the sequential flag of each torrent, in their own table so that
// other per-torrent settings can evolve the torrents table independently. Priorities are
// kept as text ("4,0,7"); a malformed value loads as "every file normal".
#include <sqlite3.h>

#include <charconv>

#include "daemon/state/store.hpp"

namespace pw::daemon::state {

namespace {
constexpr const char* create_sql =
    "CREATE TABLE IF NOT EXISTS torrent_files ("
    " info_hash TEXT PRIMARY KEY,"
    " priorities TEXT NOT NULL,"
    " sequential INTEGER NOT NULL)";

void check(sqlite3* db, int rc) {
    if (rc != SQLITE_DONE && rc != SQLITE_OK && rc != SQLITE_ROW)
        throw StoreError(std::string("state database: ") + sqlite3_errmsg(db));
}

std::vector<int> parse_prios(std::string_view s) {
    std::vector<int> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto part = s.substr(0, comma);
        int v = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (ec != std::errc() || p != part.data() + part.size() || v < 0 || v > 7) return {};
        out.push_back(v);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}
}  // namespace

void Store::set_file_options(const std::string& info_hash, const FileOptions& o) {
    std::string prios;
    for (int p : o.priorities) {
        if (!prios.empty()) prios += ',';
        prios += std::to_string(p);
    }
    write([this, info_hash, prios, seq = o.sequential] {
        check(db_, sqlite3_exec(db_, create_sql, nullptr, nullptr, nullptr));
        sqlite3_stmt* s = nullptr;
        check(db_,
              sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO torrent_files VALUES (?1, ?2, ?3)",
                                 -1, &s, nullptr));
        sqlite3_bind_text(s, 1, info_hash.data(), int(info_hash.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, prios.data(), int(prios.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, seq);
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        check(db_, rc);
    });
}

std::map<std::string, FileOptions> Store::load_file_options() {
    std::map<std::string, FileOptions> out;
    sqlite3_stmt* s = nullptr;
    // Missing table: nothing was ever set.
    if (sqlite3_prepare_v2(db_, "SELECT info_hash, priorities, sequential FROM torrent_files", -1,
                           &s, nullptr) != SQLITE_OK) {
        sqlite3_finalize(s);
        return out;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        auto text = [&](int i) {
            auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
            return p ? std::string(p, std::size_t(sqlite3_column_bytes(s, i))) : std::string();
        };
        FileOptions o;
        o.priorities = parse_prios(text(1));
        o.sequential = sqlite3_column_int(s, 2) != 0;
        out[text(0)] = std::move(o);
    }
    sqlite3_finalize(s);
    check(db_, rc);
    return out;
}

}  // namespace pw::daemon::state
