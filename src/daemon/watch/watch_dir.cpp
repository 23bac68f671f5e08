#include "daemon/watch/watch_dir.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace pw::daemon {

namespace fs = std::filesystem;

namespace {

bool is_torrent_name(const std::string& name) {
    constexpr std::string_view ext = ".torrent";
    return name.size() > ext.size() &&
           name.compare(name.size() - ext.size(), ext.size(), ext) == 0 && name[0] != '.';
}

// Reads a regular file without ever blocking on a FIFO or device; throws with the reason.
std::string read_bounded(const fs::path& p, std::size_t limit) {
    int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw std::runtime_error("not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > limit)
        throw std::runtime_error("larger than a .torrent may be (" + std::to_string(limit) +
                                 " bytes)");
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(std::string("read: ") + std::strerror(errno));
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit)
            throw std::runtime_error("larger than a .torrent may be (" + std::to_string(limit) +
                                     " bytes)");
    }
    return out;
}

}  // namespace

WatchDir::WatchDir(fs::path dir, AddFn add, LogFn log, std::chrono::milliseconds settle, TrashFn trash)
    : dir_(std::move(dir)), add_(std::move(add)), log_(std::move(log)), trash_(std::move(trash)), settle_(settle) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (!fs::is_directory(dir_, ec))
        throw std::runtime_error("watch dir " + dir_.string() + ": not a directory");
    inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_ < 0)
        throw std::runtime_error(std::string("watch dir: inotify: ") + std::strerror(errno));
    if (::inotify_add_watch(inotify_, dir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        std::string why = std::strerror(errno);
        ::close(inotify_);
        throw std::runtime_error("watch dir " + dir_.string() + ": " + why);
    }
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
        ::close(inotify_);
        throw std::runtime_error(std::string("watch dir: pipe: ") + std::strerror(errno));
    }
    thread_ = std::thread([this] { run(); });
}

WatchDir::~WatchDir() {
    stop();
    ::close(inotify_);
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void WatchDir::stop() {
    if (stopping_.exchange(true)) return;
    char c = 0;
    [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
    if (thread_.joinable()) thread_.join();
}

void WatchDir::run() {
    scan();
    auto last_scan = std::chrono::steady_clock::now();
    while (!stopping_) {
        pollfd fds[2] = {{inotify_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        int n = ::poll(fds, 2, 500);
        if (stopping_) break;
        bool changed = false;
        if (n > 0 && (fds[0].revents & POLLIN)) {
            // The names are not needed: any event means "scan" (a scan is cheap and also
            // catches what a full inotify queue dropped).
            alignas(inotify_event) char buf[8192];
            while (::read(inotify_, buf, sizeof buf) > 0) changed = true;
        }
        auto now = std::chrono::steady_clock::now();
        // Every few seconds anyway: files that were still being written at the last pass,
        // and directories where inotify does not report (some network filesystems).
        if (changed || now - last_scan > std::chrono::seconds(3)) {
            scan();
            last_scan = now;
        }
    }
}

void WatchDir::scan() {
    std::lock_guard lk(scan_mu_);
    std::error_code ec;
    fs::directory_iterator it(dir_, ec), end;
    std::vector<fs::path> files;
    for (; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (!is_torrent_name(name)) continue;
        std::error_code sec;
        if (!it->is_regular_file(sec) || it->is_symlink(sec)) continue;
        if (stuck_.count(name)) continue;  // could not be renamed: said once already
        files.push_back(it->path());
        if (files.size() >= 10000) break;  // bounded per pass; the rest come next pass
    }
    for (auto& f : files) {
        if (stopping_) return;
        handle(f);
    }
}

void WatchDir::handle(const fs::path& file) {
    std::string why;
    try {
        add_(read_bounded(file, max_bytes));
    } catch (const std::exception& e) {
        why = e.what();
        if (why.empty()) why = "refused";
    }
    std::error_code ec;
    if (!why.empty()) {
        // Perhaps still being copied in: try again at a later pass.
        auto mtime = fs::last_write_time(file, ec);
        if (!ec && fs::file_time_type::clock::now() - mtime < settle_) return;
    }
    if (why.empty() && trash_ && trash_()) {
        fs::remove(file, ec);
        log_("watch dir: added " + file.filename().string() + " (file deleted)");
        if (ec) {
            log_("watch dir: cannot delete " + file.string() + ": " + ec.message());
            if (stuck_.size() < 100000) stuck_.insert(file.filename().string());
        }
        return;
    }
    fs::path to = file;
    to += why.empty() ? ".added" : ".invalid";
    fs::rename(file, to, ec);
    if (why.empty()) {
        log_("watch dir: added " + file.filename().string());
    } else {
        log_("watch dir: " + file.filename().string() + " is invalid: " + why);
    }
    if (ec) {
        log_("watch dir: cannot rename " + file.string() + ": " + ec.message());
        if (stuck_.size() < 100000) stuck_.insert(file.filename().string());
    }
}

}  // namespace pw::daemon
