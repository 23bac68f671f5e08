// Partial names (Transmission's rename-partial-files): a file that is not complete yet may
// be on disk as "<name>.part"; finish_file() gives it its own name once it is. See
// storage.hpp.
#include <sys/stat.h>

#include "storage/relocate.hpp"
#include "storage/storage.hpp"

namespace pw::storage {

namespace fs = std::filesystem;

namespace {

bool present(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

fs::path stored_path(const fs::path& own) {
    if (present(own)) return own;
    fs::path part = own;
    part += ".part";
    return present(part) ? part : own;
}

fs::path Storage::locate(int file, bool& exists) const {
    fs::path own = fs::path(root_) / files_.at(static_cast<std::size_t>(file)).path;
    auto& named = part_named_[static_cast<std::size_t>(file)];
    exists = true;
    if (present(own)) {
        named.store(false, std::memory_order_relaxed);
        return own;
    }
    fs::path part = own;
    part += ".part";
    if (present(part)) {
        named.store(true, std::memory_order_relaxed);
        return part;
    }
    exists = false;
    return own;
}

bool Storage::part_named(int file) const {
    return part_named_[static_cast<std::size_t>(file)].load(std::memory_order_relaxed);
}

StorageError Storage::finish_file(int file) {
    const auto i = static_cast<std::size_t>(file);
    if (i >= files_.size() || files_[i].pad) return {};
    // Exclusive: no read or write of the torrent is in flight while the name changes.
    std::unique_lock layout(layout_mu_);
    if (use_parts_[i]) return {};
    fs::path own = fs::path(root_) / files_[i].path;
    fs::path part = own;
    part += ".part";
    if (!present(part)) return {};
    if (!inside_root(own)) return {make_error_code(StorageErrc::outside_root), own.string(), "rename"};
    if (present(own)) {
        // Both names exist: the one with the file's own name is the one in use.
        part_named_[i].store(false, std::memory_order_relaxed);
        return {};
    }
    drop_fd(file);
    if (int e = rename_noreplace(part, own)) return {{e, std::system_category()}, own.string(), "rename"};
    fsync_dir(own.parent_path());
    part_named_[i].store(false, std::memory_order_relaxed);
    return {};
}

}  // namespace pw::storage
