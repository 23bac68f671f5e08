// Runs the daemon's event scripts (Transmission's script-torrent-added/-done/-done-seeding):
// posix_spawn of the file itself (no shell), working directory "/", standard input from
// /dev/null, the daemon's environment plus the variables given. run() returns once the
// child is spawned; a reaper thread collects every child it spawned (waitpid on that pid
// only) and logs its exit status on stderr. Nothing waits for a script to end: one that
// runs forever is still running when the daemon stops, and is left to run (said on stderr).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace pw::daemon {

class ScriptRunner {
  public:
    ScriptRunner() = default;
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    // `what` names the script in the log ("script-torrent-done"); `env` holds
    // "NAME=value" entries added to (or replacing) the daemon's own. Returns the child's
    // pid, or -1 when it could not be spawned (missing, not executable: logged, not thrown).
    pid_t run(const std::string& what, const std::string& path, const std::vector<std::string>& env);
    // Children spawned and not yet reaped.
    std::size_t running();

  private:
    struct Child {
        pid_t pid;
        std::string what;
    };
    void reap_loop();
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Child> children_;
    std::thread reaper_;
    bool stop_ = false;
};

}  // namespace pw::daemon
