// Files <-> byte stream mapping and positional I/O (BEP 3 multi-file layout, BEP 47 pad
// files). See storage.hpp for the contract.
//
// Descriptor lifetime: the cache holds a shared reference to each open descriptor and every
// read or write takes its own reference (under the mutex) before doing the I/O outside it.
// A descriptor is closed only when the last reference goes, so evicting it from the cache,
// reopening a read-only file read-write, or close_all() never closes an fd in use.
#include "storage/storage.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pw::storage {

namespace fs = std::filesystem;

namespace {

class StorageCategory : public std::error_category {
  public:
    const char* name() const noexcept override { return "pw.storage"; }
    std::string message(int ev) const override {
        switch (static_cast<StorageErrc>(ev)) {
            case StorageErrc::unexpected_eof:
                return "unexpected end of file";
            case StorageErrc::outside_root:
                return "path is outside the download directory";
            case StorageErrc::out_of_range:
                return "byte range outside the torrent";
            case StorageErrc::no_splice:
                return "cannot splice";
        }
        return "unknown storage error";
    }
};

// Writes to one file take turns. The kernel serialises them anyway (a write holds the
// inode's lock), but a writer that finds the lock taken spins on it while the holder
// copies its megabyte in: with two workers writing one file, that spinning was 15% of a
// leecher's CPU in the 1 -> 8 swarm (bench/RESULTS.md). Waiting here sleeps instead.
// Striped over a fixed table keyed by (storage, file), so a torrent costs no memory for
// it; two files that share a stripe only take turns.
std::mutex& write_turn(const void* storage, int slot) {
    static std::mutex stripes[64];
    auto key = reinterpret_cast<std::uintptr_t>(storage) / alignof(std::max_align_t) +
               static_cast<std::uintptr_t>(slot) * 0x9e3779b97f4a7c15ull;
    return stripes[(key ^ (key >> 29)) % 64];
}

std::error_code errno_code(int e) {
    return {e, std::system_category()};
}

// Positional vectored I/O of all of `v` at `off`, looping over short transfers and EINTR.
// `v` is consumed. A read that hits end of file gives StorageErrc::unexpected_eof; a write
// that makes no progress gives EIO.
template <bool Write>
std::error_code transfer_all(FileIo& io, int fd, std::vector<iovec>& v, std::int64_t off) {
    std::size_t i = 0;
    while (i < v.size() && v[i].iov_len == 0) ++i;
    while (i < v.size()) {
        int count = static_cast<int>(std::min<std::size_t>(v.size() - i, IOV_MAX));
        ssize_t n = Write ? io.pwritev(fd, &v[i], count, off) : io.preadv(fd, &v[i], count, off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_code(errno);
        }
        if (n == 0) return Write ? errno_code(EIO) : make_error_code(StorageErrc::unexpected_eof);
        off += n;
        auto left = static_cast<std::size_t>(n);
        while (i < v.size() && left >= v[i].iov_len) {
            left -= v[i].iov_len;
            ++i;
        }
        if (left > 0) {
            v[i].iov_base = static_cast<char*>(v[i].iov_base) + left;
            v[i].iov_len -= left;
        }
        while (i < v.size() && v[i].iov_len == 0) ++i;
    }
    return {};
}

int open_retry(FileIo& io, const char* path, int flags) {
    int fd;
    do fd = io.open(path, flags, 0644);
    while (fd < 0 && errno == EINTR);
    return fd;
}

// Components of a lexically normal path, without "." and the empty trailing element.
std::vector<fs::path> components(const fs::path& p) {
    std::vector<fs::path> out;
    for (const auto& c : p.lexically_normal())
        if (!c.empty() && c != ".") out.push_back(c);
    return out;
}

}  // namespace

const std::error_category& storage_category() {
    static const StorageCategory cat;
    return cat;
}

std::error_code make_error_code(StorageErrc e) {
    return {static_cast<int>(e), storage_category()};
}

std::string StorageError::message() const {
    std::string m = operation;
    if (!file.empty()) m += " " + file;
    return m + ": " + ec.message();
}

// Closed through the Storage's FileIo, which outlives it: an OpenFile is only held by
// the Storage and by its calls in progress.
struct Storage::OpenFile {
    FileIo* io;
    int fd;
    bool writable;
    OpenFile(FileIo* i, int f, bool w) : io(i), fd(f), writable(w) {}
    ~OpenFile() { io->close(fd); }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
};

struct Storage::Slot {
    FileRef file;                  // null when not cached
    std::list<int>::iterator lru;  // valid while `file` is set
};

Storage::Storage(std::vector<meta::FileEntry> files, std::int64_t total_size, fs::path root,
                 std::shared_ptr<FileIo> io)
    : io_(io ? std::move(io) : default_file_io()),
      files_(std::move(files)),
      total_size_(total_size),
      root_(std::move(root).native()),
      slots_(files_.size() + 1),
      use_parts_(files_.size(), 0),
      part_named_(new std::atomic<bool>[files_.size()]()) {
    std::int64_t pos = 0;
    for (const auto& f : files_) {
        if (f.length < 0 || f.offset != pos)
            throw std::invalid_argument("storage: inconsistent file offsets at " + f.path);
        pos += f.length;
    }
    if (pos != total_size_) throw std::invalid_argument("storage: file sizes do not add up");
    root_norm_ = fs::path(root_).lexically_normal().native();
}

Storage::~Storage() {
    close_all();
}

fs::path Storage::full_path(int file) const {
    bool exists = false;
    return locate(file, exists);
}

bool Storage::inside_root(const fs::path& p) const {
    auto base = components(fs::path(root_norm_));
    auto full = components(p);
    if (full.size() <= base.size()) return false;
    if (!std::equal(base.begin(), base.end(), full.begin())) return false;
    return std::none_of(full.begin() + static_cast<std::ptrdiff_t>(base.size()), full.end(),
                        [](const fs::path& c) { return c == ".."; });
}

template <class Fn>
void Storage::for_each_part(std::int64_t offset, std::int64_t length, Fn&& fn) const {
    if (length <= 0 || offset >= total_size_) return;
    std::int64_t begin = std::max<std::int64_t>(offset, 0);
    std::int64_t end = offset < 0                      ? std::min(offset + length, total_size_)
                       : length > total_size_ - offset ? total_size_
                                                       : offset + length;
    if (begin >= end) return;
    auto it = std::partition_point(files_.begin(), files_.end(), [&](const meta::FileEntry& f) {
        return f.offset + f.length <= begin;
    });
    for (; it != files_.end() && it->offset < end; ++it) {
        if (it->length == 0) continue;
        std::int64_t b = std::max(begin, it->offset);
        std::int64_t e = std::min(end, it->offset + it->length);
        if (!fn(static_cast<int>(it - files_.begin()), b - it->offset, e - b)) return;
    }
}

std::vector<Slice> Storage::map(std::int64_t offset, std::int64_t length) const {
    std::vector<Slice> out;
    for_each_part(offset, length, [&](int file, std::int64_t file_offset, std::int64_t len) {
        if (!files_[file].pad) out.push_back({file, file_offset, len});
        return true;
    });
    return out;
}

Storage::FileRef Storage::fd(int file, bool create, StorageError& err) {
    std::lock_guard lock(mu_);
    Slot& slot = slots_[file];
    if (slot.file && (slot.file->writable || !create)) {
        lru_.splice(lru_.begin(), lru_, slot.lru);
        return slot.file;
    }
    bool exists = true;
    fs::path p = file == parts_slot() ? fs::path(parts_path_) : locate(file, exists);
    if (!exists && create && part_names()) {
        // A new file of an incomplete torrent: under its partial name until finish_file().
        p += ".part";
        part_named_[static_cast<std::size_t>(file)].store(true, std::memory_order_relaxed);
    }
    if (!inside_root(p)) {
        err = {make_error_code(StorageErrc::outside_root), p.string(), "open"};
        return {};
    }
    if (create) {
        std::error_code ec;
        fs::create_directories(p.parent_path(), ec);
        if (ec) {
            err = {ec, p.parent_path().string(), "mkdir"};
            return {};
        }
    }
    int flags = O_CLOEXEC | (create ? O_RDWR | O_CREAT : O_RDONLY);
    int raw = open_retry(*io_, p.c_str(), flags);
    if (raw < 0 && (errno == EMFILE || errno == ENFILE) && !lru_.empty()) {
        // Out of descriptors: let go of every cached one (those in use close when done).
        for (int f : lru_) slots_[f].file.reset();
        lru_.clear();
        raw = open_retry(*io_, p.c_str(), flags);
    }
    if (raw < 0) {
        err = {errno_code(errno), p.string(), "open"};
        return {};
    }
    // A read-only descriptor being replaced stays open for whoever still holds it.
    if (slot.file) lru_.erase(slot.lru);
    slot.file = std::make_shared<const OpenFile>(io_.get(), raw, create);
    lru_.push_front(file);
    slot.lru = lru_.begin();
    while (lru_.size() > max_open_) {
        slots_[lru_.back()].file.reset();
        lru_.pop_back();
    }
    return slot.file;
}

Storage::Place Storage::place(int file, std::int64_t file_offset, bool create, StorageError& err) {
    if (use_parts_[static_cast<std::size_t>(file)]) {
        const int slot = parts_slot();
        return {slot, files_[file].offset + file_offset, fd(slot, create, err)};
    }
    return {file, file_offset, fd(file, create, err)};
}

StorageError Storage::write(std::int64_t offset, std::span<const iovec> bufs) {
    std::size_t total = 0;
    for (const auto& b : bufs) total += b.iov_len;
    if (offset < 0 || offset > total_size_ ||
        total > static_cast<std::uint64_t>(total_size_ - offset))
        return {make_error_code(StorageErrc::out_of_range), "", "write"};

    StorageError err;
    std::shared_lock layout(layout_mu_);
    std::size_t idx = 0, in_buf = 0;  // cursor into `bufs`
    std::vector<iovec> v;
    for_each_part(offset, static_cast<std::int64_t>(total),
                  [&](int file, std::int64_t file_offset, std::int64_t len) {
                      v.clear();
                      auto need = static_cast<std::size_t>(len);
                      while (need > 0) {
                          std::size_t take = std::min(bufs[idx].iov_len - in_buf, need);
                          if (take > 0)
                              v.push_back({static_cast<char*>(bufs[idx].iov_base) + in_buf, take});
                          need -= take;
                          in_buf += take;
                          if (in_buf == bufs[idx].iov_len) {
                              ++idx;
                              in_buf = 0;
                          }
                      }
                      if (files_[file].pad) return true;  // BEP 47: never written
                      auto [slot, at, f] = place(file, file_offset, true, err);
                      if (!f) return false;
                      std::lock_guard turn(write_turn(this, slot));
                      if (auto ec = transfer_all<true>(*io_, f->fd, v, at))
                          err = {ec, slot_path(slot).string(), "write"};
                      return !err;
                  });
    return err;
}

StorageError Storage::write(std::int64_t offset, const char* data, std::size_t len) {
    iovec one{const_cast<char*>(data), len};
    return write(offset, std::span<const iovec>(&one, 1));
}

StorageError Storage::read(std::int64_t offset, char* out, std::size_t len) {
    if (offset < 0 || offset > total_size_ ||
        len > static_cast<std::uint64_t>(total_size_ - offset))
        return {make_error_code(StorageErrc::out_of_range), "", "read"};

    StorageError err;
    std::shared_lock layout(layout_mu_);
    std::vector<iovec> v(1);
    for_each_part(offset, static_cast<std::int64_t>(len),
                  [&](int file, std::int64_t file_offset, std::int64_t part) {
                      char* dst = out + (files_[file].offset + file_offset - offset);
                      auto n = static_cast<std::size_t>(part);
                      if (files_[file].pad) {
                          std::memset(dst, 0, n);
                          return true;
                      }
                      auto [slot, at, f] = place(file, file_offset, false, err);
                      if (!f) return false;
                      v.assign(1, iovec{dst, n});
                      if (auto ec = transfer_all<false>(*io_, f->fd, v, at))
                          err = {ec, slot_path(slot).string(), "read"};
                      return !err;
                  });
    return err;
}

namespace {

// Writes `n` zero bytes into a pipe that must have room for them.
std::error_code zeros_into_pipe(int pipe_fd, std::size_t n) {
    static const char zeros[4096] = {};
    while (n > 0) {
        ssize_t w = ::write(pipe_fd, zeros, std::min(n, sizeof zeros));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return make_error_code(StorageErrc::no_splice);
        n -= static_cast<std::size_t>(w);
    }
    return {};
}

}  // namespace

StorageError Storage::splice_to(std::int64_t offset, std::size_t len, int pipe_fd) {
    if (offset < 0 || offset > total_size_ ||
        len > static_cast<std::uint64_t>(total_size_ - offset))
        return {make_error_code(StorageErrc::out_of_range), "", "read"};

    StorageError err;
    std::shared_lock layout(layout_mu_);
    for_each_part(offset, static_cast<std::int64_t>(len),
                  [&](int file, std::int64_t file_offset, std::int64_t part) {
                      auto n = static_cast<std::size_t>(part);
                      if (files_[file].pad) {
                          if (auto ec = zeros_into_pipe(pipe_fd, n)) err = {ec, "", "read"};
                          return !err;
                      }
                      auto [slot, at, f] = place(file, file_offset, false, err);
                      if (!f) return false;
                      while (n > 0) {
                          ssize_t m = io_->splice_to_pipe(f->fd, at, pipe_fd, n);
                          if (m < 0 && errno == EINTR) continue;
                          if (m < 0 && errno != EINVAL && errno != ENOSYS && errno != EAGAIN) {
                              err = {errno_code(errno), slot_path(slot).string(), "read"};
                          } else if (m < 0) {
                              err = {make_error_code(StorageErrc::no_splice), "", "read"};
                          } else if (m == 0) {
                              err = {make_error_code(StorageErrc::unexpected_eof),
                                     slot_path(slot).string(), "read"};
                          }
                          if (err) return false;
                          at += m;
                          n -= static_cast<std::size_t>(m);
                      }
                      return true;
                  });
    return err;
}

StorageError Storage::create_empty_files() {
    std::shared_lock layout(layout_mu_);
    for (std::size_t i = 0; i < files_.size(); ++i) {
        if (files_[i].pad || use_parts_[i]) continue;
        fs::path p = full_path(static_cast<int>(i));
        if (!inside_root(p))
            return {make_error_code(StorageErrc::outside_root), p.string(), "open"};
        std::error_code ec;
        fs::create_directories(p.parent_path(), ec);
        if (ec) return {ec, p.parent_path().string(), "mkdir"};
        if (files_[i].length != 0) continue;
        int raw = open_retry(*io_, p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC);
        if (raw < 0) return {errno_code(errno), p.string(), "open"};
        io_->close(raw);
    }
    return {};
}

fs::path Storage::slot_path(int slot) const {
    return slot == parts_slot() ? fs::path(parts_path_) : full_path(slot);
}

void Storage::set_parts_path(fs::path p) {
    parts_path_ = std::move(p).native();
}

bool Storage::uses_parts(int file) const {
    std::shared_lock layout(layout_mu_);
    return use_parts_.at(static_cast<std::size_t>(file)) != 0;
}

bool Storage::park_if_absent(int file) {
    std::unique_lock layout(layout_mu_);
    auto& u = use_parts_.at(static_cast<std::size_t>(file));
    if (u || parts_path_.empty() || files_[static_cast<std::size_t>(file)].pad) return u != 0;
    std::error_code ec;
    u = !fs::exists(full_path(file), ec) ? 1 : 0;
    return u != 0;
}

StorageError Storage::unpark(int file,
                             const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges) {
    std::unique_lock layout(layout_mu_);
    auto& u = use_parts_.at(static_cast<std::size_t>(file));
    if (!u) return {};
    const auto& fe = files_[static_cast<std::size_t>(file)];
    StorageError err;
    std::vector<char> buf;
    struct stat pst;
    std::int64_t parts_size = ::stat(parts_path_.c_str(), &pst) == 0 ? pst.st_size : 0;
    for (auto [b, e] : ranges) {
        b = std::max(b, fe.offset);
        e = std::min({e, fe.offset + fe.length, parts_size});
        if (b >= e) continue;
        FileRef src = fd(parts_slot(), false, err);
        if (!src) return err;
        FileRef dst = fd(file, true, err);
        if (!dst) return err;
        buf.resize(static_cast<std::size_t>(e - b));
        std::vector<iovec> v{{buf.data(), buf.size()}};
        if (auto ec = transfer_all<false>(*io_, src->fd, v, b)) return {ec, parts_path_, "read"};
        v.assign(1, iovec{buf.data(), buf.size()});
        if (auto ec = transfer_all<true>(*io_, dst->fd, v, b - fe.offset))
            return {ec, full_path(file).string(), "write"};
    }
    u = 0;
    return {};
}

void Storage::drop_parts_if_unused() {
    {
        std::unique_lock layout(layout_mu_);
        if (parts_path_.empty() ||
            std::any_of(use_parts_.begin(), use_parts_.end(), [](char c) { return c; }))
            return;
    }
    close_all();
    std::error_code ec;
    fs::remove(parts_path_, ec);
}

std::int64_t Storage::size_on_disk(int file) const {
    std::shared_lock layout(layout_mu_);
    const auto& fe = files_.at(static_cast<std::size_t>(file));
    bool parts = use_parts_[static_cast<std::size_t>(file)];
    struct stat st;
    if (::stat(slot_path(parts ? parts_slot() : file).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    if (!parts) return st.st_size;
    return st.st_size > fe.offset ? st.st_size - fe.offset : -1;
}

void Storage::drop_fd(int slot) {
    std::lock_guard lock(mu_);
    Slot& s = slots_[static_cast<std::size_t>(slot)];
    if (!s.file) return;
    lru_.erase(s.lru);
    s.file.reset();
}

void Storage::close_all() {
    std::lock_guard lock(mu_);
    for (int f : lru_) slots_[f].file.reset();
    lru_.clear();
}

}  // namespace pw::storage
