// Files changed behind our back: what a file we finished writing (every piece touching it
// verified and written) looks like now against its stamp when it was settled. Pure: the
// stamps are taken elsewhere (stamp_file(), on a disk thread).
//
// A seeding torrent never writes its files, so any change of size or modification time is
// someone else's doing: a file truncated, deleted, or rewritten in place. Reads of a
// truncated or deleted file fail on their own (short read, open error), but a deleted file
// still open reads its old bytes and one rewritten in place reads new bytes that peers
// would hash-fail; the torrent's file watch (session/torrent_file_watch.cpp) compares the
// stamps every few seconds so that all three are found even before a read fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/resume.hpp"

namespace pw::storage {

// nullopt when `now` equals `before`; else what happened, for the error line: "deleted",
// "truncated to N of M bytes" (M: the file's length in the torrent), "grown to N bytes",
// "modified" (same size, new modification time).
std::optional<std::string> file_change(const FileStamp& before, const FileStamp& now,
                                       std::int64_t length);

// The stamp recorded in resume data for a file whose bytes can no longer be vouched for
// (a read failed, or it changed on disk): it matches no stamp a real file or a missing
// one has, so the restart hashes the file's pieces again.
inline constexpr FileStamp suspect_stamp{-1, -1};

}  // namespace pw::storage
