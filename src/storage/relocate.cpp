// Moving a torrent's files between download directories; see relocate.hpp.
#include "storage/relocate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

#include "storage/parse/relocation.hpp"

namespace pw::storage {

namespace fs = std::filesystem;

namespace {

std::error_code sys(int e) {
    return {e, std::system_category()};
}

bool present(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

bool is_regular(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool cancelled(const RelocateJob& j) {
    return j.cancel && j.cancel->load();
}

// Closes on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Copies `len` bytes at `off` from one descriptor to the other.
int copy_range(int in, int out, off_t off, off_t len, std::vector<char>& buf,
               const RelocateJob& j) {
    while (len > 0) {
        if (cancelled(j)) return ECANCELED;
        auto want = static_cast<std::size_t>(std::min<off_t>(len, static_cast<off_t>(buf.size())));
        ssize_t n = ::pread(in, buf.data(), want, off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return 0;  // the file shrank meanwhile: the size is set by ftruncate
        for (ssize_t done = 0; done < n;) {
            ssize_t w =
                ::pwrite(out, buf.data() + done, static_cast<std::size_t>(n - done), off + done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return w < 0 ? errno : EIO;
            done += w;
        }
        off += n;
        len -= n;
    }
    return 0;
}

// Copies a file (its data regions only: holes stay holes), its mode and times, and makes
// the copy durable. `to` must not exist.
StorageError copy_file(const fs::path& from, const fs::path& to, const RelocateJob& j) {
    Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) return {sys(errno), from.string(), "open"};
    struct stat st {};
    if (::fstat(in.fd, &st) != 0) return {sys(errno), from.string(), "stat"};
    Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777)};
    if (out.fd < 0) return {sys(errno), to.string(), "create"};
    std::vector<char> buf(1 << 20);
    off_t pos = 0;
    const off_t size = st.st_size;
    while (pos < size) {
        off_t data = ::lseek(in.fd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO) break;  // only a hole is left
        off_t end = size;
        if (data < 0) {
            data = pos;  // no SEEK_DATA on this file system: copy everything
        } else {
            end = ::lseek(in.fd, data, SEEK_HOLE);
            if (end < 0 || end > size) end = size;
        }
        if (int e = copy_range(in.fd, out.fd, data, end - data, buf, j))
            return {sys(e), to.string(), "copy"};
        pos = end;
    }
    if (::ftruncate(out.fd, size) != 0) return {sys(errno), to.string(), "truncate"};
    // The times too: a restart's resume check compares sizes and modification times.
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(out.fd, times) != 0) return {sys(errno), to.string(), "utimes"};
    if (::fsync(out.fd) != 0) return {sys(errno), to.string(), "fsync"};
    return {};
}

// Removes the now-empty folders that held `files` below `root` (never `root` itself).
void remove_empty_dirs(const fs::path& root, const std::vector<std::string>& files) {
    std::set<fs::path> dirs;
    for (const auto& rel : files)
        for (auto d = fs::path(rel).parent_path(); !d.empty(); d = d.parent_path())
            dirs.insert(root / d);
    std::vector<fs::path> v(dirs.begin(), dirs.end());
    std::sort(v.begin(), v.end(),
              [](auto& a, auto& b) { return a.string().size() > b.string().size(); });
    std::error_code ec;
    for (auto& d : v)
        if (fs::is_empty(d, ec) && !ec) fs::remove(d, ec);
}

// Parent folders of `files` below `root`, and `root`: the directories whose entries changed.
void fsync_parents(const fs::path& root, const std::vector<std::string>& files) {
    std::set<fs::path> dirs{root};
    for (const auto& rel : files) dirs.insert((root / rel).parent_path());
    for (auto& d : dirs) fsync_dir(d);
}

// Undoes renames done so far, latest first.
void roll_back(std::vector<std::pair<fs::path, fs::path>>& done) {
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
        std::error_code ec;
        fs::create_directories(it->first.parent_path(), ec);
        ::rename(it->second.c_str(), it->first.c_str());
    }
    done.clear();
}

// Same file system: renames. `exdev` is set (and nothing changed) when it is not.
RelocateOutcome move_by_rename(const RelocateJob& j, const std::vector<std::string>& items,
                               bool& exdev) {
    RelocateOutcome out;
    std::vector<std::pair<fs::path, fs::path>> done;
    auto fail = [&](StorageError e) {
        roll_back(done);
        out.err = std::move(e);
        return out;
    };
    for (const auto& top : top_entries(items)) {
        if (cancelled(j)) return fail({sys(ECANCELED), {}, "move"});
        fs::path src = j.from_root / top, dst = j.to_root / top;
        if (!present(src)) continue;
        if (!present(dst)) {
            int e = rename_noreplace(src, dst);
            if (e == 0) {
                done.emplace_back(src, dst);
                continue;
            }
            if (e == EXDEV) {
                exdev = true;
                roll_back(done);
                return out;
            }
            if (e != EEXIST && e != ENOTEMPTY) return fail({sys(e), dst.string(), "rename"});
        }
        // The destination holds a folder of that name: file by file into it.
        for (const auto& rel : items) {
            if (rel.substr(0, rel.find('/')) != top || rel == top) continue;
            fs::path s = j.from_root / rel, d = j.to_root / rel;
            if (!present(s)) continue;
            std::error_code ec;
            fs::create_directories(d.parent_path(), ec);
            if (ec) return fail({ec, d.parent_path().string(), "mkdir"});
            int e = rename_noreplace(s, d);
            if (e == EXDEV) {
                exdev = true;
                roll_back(done);
                return out;
            }
            if (e != 0) return fail({sys(e), d.string(), "rename"});
            done.emplace_back(s, d);
        }
    }
    out.moved = static_cast<int>(done.size());
    fsync_parents(j.to_root, items);
    fsync_dir(j.from_root);
    remove_empty_dirs(j.from_root, items);
    return out;
}

// Across file systems: copy to the staging folder, rename into place, then remove the sources.
RelocateOutcome move_by_copy(const RelocateJob& j, const std::vector<std::string>& items) {
    RelocateOutcome out;
    out.copied = true;
    const fs::path staging = j.to_root / j.staging_name;
    std::vector<std::pair<fs::path, fs::path>> placed;  // staged copy -> its place
    auto fail = [&](StorageError e) {
        std::error_code ec;
        for (auto& [from, to] : placed) fs::remove(to, ec);  // our own copies only
        remove_empty_dirs(j.to_root, items);
        fs::remove_all(staging, ec);
        out.err = std::move(e);
        return out;
    };
    std::error_code ec;
    fs::remove_all(staging, ec);  // a crash's leftover: ours by its name
    std::vector<std::string> todo;
    for (const auto& rel : items)
        if (is_regular(j.from_root / rel)) todo.push_back(rel);
    for (const auto& rel : todo) {
        fs::path d = staging / rel;
        fs::create_directories(d.parent_path(), ec);
        if (ec) return fail({ec, d.parent_path().string(), "mkdir"});
        if (auto e = copy_file(j.from_root / rel, d, j)) return fail(e);
    }
    fsync_parents(staging, todo);
    for (const auto& rel : todo) {
        if (cancelled(j)) return fail({sys(ECANCELED), {}, "move"});
        fs::path s = staging / rel, d = j.to_root / rel;
        fs::create_directories(d.parent_path(), ec);
        if (ec) return fail({ec, d.parent_path().string(), "mkdir"});
        if (int e = rename_noreplace(s, d)) return fail({sys(e), d.string(), "rename"});
        placed.emplace_back(s, d);
    }
    fsync_parents(j.to_root, todo);
    fs::remove_all(staging, ec);
    // The copies are complete and durable: only now do the originals go.
    for (const auto& rel : todo) fs::remove(j.from_root / rel, ec);
    remove_empty_dirs(j.from_root, todo);
    fsync_dir(j.from_root);
    out.moved = static_cast<int>(todo.size());
    return out;
}

}  // namespace

int rename_noreplace(const fs::path& from, const fs::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return errno;
    // A file system without RENAME_NOREPLACE: check, then rename.
    if (present(to)) return EEXIST;
    return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

void fsync_dir(const fs::path& dir) {
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd >= 0) ::fsync(d.fd);
}

RelocateOutcome relocate(const RelocateJob& j) {
    RelocateOutcome out;
    std::vector<std::string> items = j.files;
    if (!j.parts_name.empty()) items.push_back(j.parts_name);
    bool same = false;
    if (auto why =
            check_move_target(j.from_root.string(), j.to_root.string(), top_entries(items), same);
        !why.empty()) {
        out.err = {sys(EINVAL), j.to_root.string(), why};
        return out;
    }
    if (same) return out;
    std::error_code ec;
    fs::create_directories(j.to_root, ec);
    if (ec) {
        out.err = {ec, j.to_root.string(), "mkdir"};
        return out;
    }
    // Nothing is replaced: any file of the torrent already at the destination stops the
    // move before anything is touched.
    for (const auto& rel : items)
        if (present(j.to_root / rel)) {
            out.err = {sys(EEXIST), (j.to_root / rel).string(), "move"};
            return out;
        }
    if (!j.force_copy) {
        bool exdev = false;
        out = move_by_rename(j, items, exdev);
        if (!exdev) return out;
    }
    return move_by_copy(j, items);
}

std::int64_t bytes_present(const std::vector<meta::FileEntry>& files, const fs::path& root) {
    std::int64_t n = 0;
    for (const auto& f : files) {
        if (f.pad) continue;
        struct stat st {};
        if (::stat(stored_path(root / f.path).c_str(), &st) == 0 && S_ISREG(st.st_mode))
            n += std::min<std::int64_t>(st.st_size, f.length);
    }
    return n;
}

void remove_staging(const fs::path& root, const std::string& staging_name) {
    if (staging_name.empty() || staging_name.find('/') != std::string::npos ||
        staging_name == "." || staging_name == "..")
        return;
    std::error_code ec;
    fs::remove_all(root / staging_name, ec);
}

}  // namespace pw::storage
