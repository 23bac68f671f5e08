// Storage::rename_entry: a file or folder of the torrent gets a new name on disk and in the
// file list at once (Session::rename_path). See storage.hpp.
#include <sys/stat.h>

#include "storage/relocate.hpp"
#include "storage/storage.hpp"

namespace pw::storage {

StorageError Storage::rename_entry(const std::string& from, const std::string& to,
                                   const std::vector<std::string>& paths) {
    if (paths.size() != files_.size())
        return {make_error_code(StorageErrc::out_of_range), from, "rename"};
    // Exclusive: no read or write is in flight, so no descriptor refers to the old names.
    std::unique_lock layout(layout_mu_);
    std::filesystem::path a = root() / from, b = root() / to;
    if (!inside_root(a) || !inside_root(b))
        return {make_error_code(StorageErrc::outside_root), b.string(), "rename"};
    close_all();
    struct stat st {};
    if (::lstat(a.c_str(), &st) != 0) {
        // A file still under its partial name keeps that suffix under the new name.
        auto part = a;
        part += ".part";
        if (::lstat(part.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            a = std::move(part);
            b += ".part";
        }
    }
    if (::lstat(a.c_str(), &st) == 0) {
        if (int e = rename_noreplace(a, b))
            return {{e, std::system_category()}, b.string(), "rename"};
        fsync_dir(b.parent_path());
    } else if (::lstat(b.c_str(), &st) == 0) {
        // Nothing to rename, but the new name is taken on disk: the torrent would adopt
        // somebody else's file.
        return {{EEXIST, std::system_category()}, b.string(), "rename"};
    }
    for (std::size_t i = 0; i < files_.size(); ++i) files_[i].path = paths[i];
    return {};
}

}  // namespace pw::storage
