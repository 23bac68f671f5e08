// The daemon's watch directory: a .torrent dropped into it is added within a few seconds
// and renamed `NAME.torrent.added` (or deleted, while `trash` says so: Transmission's
// trash-original-torrent-files); one that cannot be added (not a torrent, hostile,
// too large, refused by the daemon) is renamed `NAME.torrent.invalid` with the reason
// logged. The file is read by this module's own thread (inotify IN_CLOSE_WRITE and
// IN_MOVED_TO, plus a scan at start and every few seconds as a fallback), never on the
// session's network thread.
//
// Contract: only regular files whose name ends in ".torrent" are looked at (a FIFO, a
// directory or a device with that name is skipped, never opened for a blocking read);
// a file is read up to `max_bytes` and handed to `add`, which throws std::exception with
// the reason when the torrent is refused. A file that fails to parse while it was
// modified in the last `settle` is left for the next pass (a copy still being written),
// not renamed. Every wait is bounded: stop() returns within about half a second.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace pw::daemon {

class WatchDir {
  public:
    using AddFn = std::function<void(const std::string& torrent_bytes)>;
    using LogFn = std::function<void(const std::string& line)>;
    // Asked (on this module's thread) after each added file: true deletes it.
    using TrashFn = std::function<bool()>;

    // Starts watching `dir` (created if missing). Throws std::runtime_error when the
    // directory cannot be created or watched.
    WatchDir(std::filesystem::path dir, AddFn add, LogFn log,
             std::chrono::milliseconds settle = std::chrono::seconds(2), TrashFn trash = {});
    ~WatchDir();  // stop()
    WatchDir(const WatchDir&) = delete;
    WatchDir& operator=(const WatchDir&) = delete;

    void stop();
    // One pass over the directory now (also what the thread does); for tests.
    void scan();

    static constexpr std::size_t max_bytes = 32u << 20;

  private:
    void run();
    void handle(const std::filesystem::path& file);

    std::filesystem::path dir_;
    AddFn add_;
    LogFn log_;
    TrashFn trash_;
    std::chrono::milliseconds settle_;
    int inotify_ = -1;
    int wake_[2] = {-1, -1};       // a pipe: stop() writes, the thread's poll() returns
    std::mutex scan_mu_;           // scan() from a test and from the thread
    std::set<std::string> stuck_;  // names whose rename failed: not added again and again
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace pw::daemon
