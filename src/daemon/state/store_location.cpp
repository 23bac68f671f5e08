// Store::set_download_dir: torrent-set-location committed once the move is over.
#include <sqlite3.h>

#include "daemon/state/store.hpp"

namespace pw::daemon::state {

void Store::set_download_dir(const std::string& info_hash, const std::string& dir) {
    write([this, info_hash, dir] {
        sqlite3_stmt* s = nullptr;
        int rc = sqlite3_prepare_v2(
            db_, "UPDATE torrents SET download_dir = ?2 WHERE info_hash = ?1", -1, &s, nullptr);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(s, 1, info_hash.data(), int(info_hash.size()), SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 2, dir.data(), int(dir.size()), SQLITE_TRANSIENT);
            rc = sqlite3_step(s);
        }
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
    });
}

}  // namespace pw::daemon::state
