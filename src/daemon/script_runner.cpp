#include "daemon/script_runner.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace pw::daemon {

namespace {

// The daemon's environment with `extra` added; an entry of `extra` replaces one of the
// same name.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
    auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        bool replaced = false;
        for (auto& x : extra) replaced = replaced || name_of(x) == name_of(entry);
        if (!replaced) out.push_back(std::move(entry));
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

}  // namespace

pid_t ScriptRunner::run(const std::string& what, const std::string& path,
                        const std::vector<std::string>& env) {
    if (path.empty()) {
        std::cerr << "piecewise daemon: " << what << ": no script file set\n";
        return -1;
    }
    if (::access(path.c_str(), X_OK) != 0) {
        std::cerr << "piecewise daemon: " << what << ": " << path << ": " << std::strerror(errno)
                  << "\n";
        return -1;
    }
    auto envs = merged_env(env);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string arg0 = path;
    char* argv[] = {arg0.data(), nullptr};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, "/");
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The child starts with default signal handling and an empty mask (the daemon blocks
    // SIGINT/SIGTERM in its threads to wait for them).
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv, envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        std::cerr << "piecewise daemon: " << what << ": cannot run " << path << ": "
                  << std::strerror(rc) << "\n";
        return -1;
    }
    {
        std::lock_guard lk(mu_);
        children_.push_back({pid, what + " (" + path + ")"});
        if (!reaper_.joinable()) reaper_ = std::thread([this] { reap_loop(); });
    }
    cv_.notify_all();
    return pid;
}

std::size_t ScriptRunner::running() {
    std::lock_guard lk(mu_);
    return children_.size();
}

void ScriptRunner::reap_loop() {
    std::unique_lock lk(mu_);
    while (!stop_) {
        // Idle while no child runs; looks every 100 ms while one does.
        if (children_.empty())
            cv_.wait(lk, [this] { return stop_ || !children_.empty(); });
        else
            cv_.wait_for(lk, std::chrono::milliseconds(100));
        for (auto it = children_.begin(); it != children_.end();) {
            int status = 0;
            pid_t r = ::waitpid(it->pid, &status, WNOHANG);
            if (r == 0) {
                ++it;
                continue;
            }
            if (r < 0)
                std::cerr << "piecewise daemon: " << it->what << ": " << std::strerror(errno) << "\n";
            else if (WIFEXITED(status))
                std::cerr << "piecewise daemon: " << it->what << " exited with status "
                          << WEXITSTATUS(status) << "\n";
            else if (WIFSIGNALED(status))
                std::cerr << "piecewise daemon: " << it->what << " ended by signal "
                          << WTERMSIG(status) << "\n";
            it = children_.erase(it);
        }
    }
}

ScriptRunner::~ScriptRunner() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (reaper_.joinable()) reaper_.join();
    // A last look, then the ones still running are left to run.
    for (auto& c : children_) {
        int status = 0;
        if (::waitpid(c.pid, &status, WNOHANG) == 0)
            std::cerr << "piecewise daemon: " << c.what << " (pid " << c.pid
                      << ") still running at shutdown: not waited for\n";
    }
}

}  // namespace pw::daemon
