// Pure rules for relocating a torrent's data: renaming one of its files or folders
// (Session::rename_path, Transmission's torrent-rename-path / tr_torrentRenamePath) and
// checking where its data may move to (Session::move_storage, torrent-set-location).
//
// Contract: no I/O, never throws; every input (names come straight from RPC clients)
// gives either a plan or a one-line reason. Paths are '/'-separated and relative to the
// torrent's save path, as meta::FileEntry::path (a multi-file torrent's start with its
// top folder). A new name is one path component that meta::sanitize_component leaves
// unchanged, so a renamed file can never reach outside the torrent's own directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pw::storage {

// Why `name` cannot be the new name of a file or folder; empty when it can.
std::string check_new_name(std::string_view name);

struct RenamePlan {
    std::string error;               // set: refused, and nothing below is
    std::string from, to;            // the entry renamed, before and after
    std::vector<std::string> paths;  // every file's path after the rename
    bool top = false;                // the top-level entry: the torrent's name changes
};

// Renames the file or folder `path` (a file's whole path, or a folder that holds files;
// a trailing '/' is ignored) to `new_name` within the same folder. Refused: a bad name,
// a path that names nothing of the torrent, or a result that collides with another of
// its files. Renaming to the same name is a plan with from == to.
RenamePlan plan_rename(const std::vector<std::string>& paths, std::string_view path,
                       std::string_view new_name);

// The distinct first components of `paths`, in order of first appearance: what sits
// directly in the save path (the file of a single-file torrent, the top folder otherwise).
std::vector<std::string> top_entries(const std::vector<std::string>& paths);

// Whether `inner` is `outer` or lies below it, compared lexically (normal forms; ".."
// resolved, so "/a/b/../c" is not below "/a/b").
bool path_within(std::string_view outer, std::string_view inner);

// Why data whose top-level entries are `tops` cannot move from `from_root` to `to_root`
// (empty when it can): the target must be absolute and must not lie inside one of the
// entries being moved. `same_place` is set when both name the same directory.
std::string check_move_target(std::string_view from_root, std::string_view to_root,
                              const std::vector<std::string>& tops, bool& same_place);

}  // namespace pw::storage
