// Store::set_torrent_settings: many rows of torrent_settings in one transaction, on the
// writer thread, committed when it returns (see store.hpp).
#include <sqlite3.h>

#include "daemon/state/store.hpp"

namespace pw::daemon::state {

void Store::set_torrent_settings(const std::string& key,
                                 const std::vector<std::pair<std::string, std::string>>& values) {
    if (values.empty()) return;
    write([this, key, values] {
        exec("BEGIN");
        try {
            sqlite3_stmt* s = nullptr;
            if (sqlite3_prepare_v2(db_,
                                   "INSERT OR REPLACE INTO torrent_settings VALUES (?1, ?2, ?3)",
                                   -1, &s, nullptr) != SQLITE_OK)
                throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
            int rc = SQLITE_DONE;
            for (auto& [hash, value] : values) {
                sqlite3_reset(s);
                sqlite3_bind_text(s, 1, hash.data(), int(hash.size()), SQLITE_TRANSIENT);
                sqlite3_bind_text(s, 2, key.data(), int(key.size()), SQLITE_TRANSIENT);
                sqlite3_bind_text(s, 3, value.data(), int(value.size()), SQLITE_TRANSIENT);
                rc = sqlite3_step(s);
                if (rc != SQLITE_DONE) break;
            }
            std::string why = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
            sqlite3_finalize(s);
            if (rc != SQLITE_DONE) throw StoreError("state database: " + why);
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    });
}

}  // namespace pw::daemon::state
