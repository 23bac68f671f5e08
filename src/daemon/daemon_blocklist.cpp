// The Daemon's IP blocklist (blocklist-url, blocklist-enabled, blocklist-update) and
// pex-enabled: kept in the store's settings, the downloaded list as a file in the state
// directory, given to the engine through Session::set_blocklist / set_pex.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include "daemon/daemon.hpp"

namespace pw::daemon {

namespace fs = std::filesystem;

namespace {

// Reads a blocklist file whole; throws piecewise::Error naming it.
std::string read_list(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw piecewise::Error("cannot read blocklist " + path + ": " + std::strerror(errno));
    std::string s;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        s.append(buf, static_cast<std::size_t>(in.gcount()));
        if (s.size() > 4 * max_blocklist_download)
            throw piecewise::Error("blocklist " + path + ": larger than " +
                                   std::to_string(4 * max_blocklist_download >> 20) + " MiB");
    }
    if (in.bad()) throw piecewise::Error("cannot read blocklist " + path + ": " + std::strerror(errno));
    return s;
}

}  // namespace

std::string Daemon::blocklist_path() const {
    return (fs::path(cfg_.state_dir) / "blocklist.bin").string();
}

std::vector<std::string> Daemon::blocklist_lists(const std::string& downloaded) const {
    std::vector<std::string> lists;
    if (!cfg_.settings.blocklist_file.empty()) lists.push_back(read_list(cfg_.settings.blocklist_file));
    if (!downloaded.empty()) lists.push_back(downloaded);
    return lists;
}

void Daemon::load_blocklist_settings() {
    auto kv = store_->load_settings();
    if (auto it = kv.find("blocklist_url"); it != kv.end()) blocklist_.url = it->second;
    if (auto it = kv.find("blocklist_enabled"); it != kv.end()) blocklist_.enabled = it->second == "1";
    // --blocklist turns the blocklist on, as transmission-daemon's --blocklist does.
    if (!cfg_.settings.blocklist_file.empty()) {
        blocklist_.enabled = true;
        store_->set_setting("blocklist_enabled", "1");
    }
    // pex-enabled against --no-pex: stored_wins's rule.
    const std::string cli = cfg_.settings.pex ? "1" : "0";
    if (stored_wins(kv, "pex_enabled", cli, !cfg_.settings.pex))
        cfg_.settings.pex = kv.at("pex_enabled") == "1";
    else
        store_->set_setting("pex_enabled", cli);
}

void Daemon::apply_blocklist() {
    std::error_code ec;
    bool have = fs::exists(blocklist_path(), ec);
    if (!blocklist_.enabled || !have) {
        // The Session loaded the --blocklist file, if any.
        if (blocklist_.enabled && !cfg_.settings.blocklist_file.empty()) {
            try {
                blocklist_.size = session_->set_blocklist(blocklist_lists({}));
            } catch (const piecewise::Error&) {
                // The Session constructor read the same file and would have thrown.
            }
        }
        return;
    }
    try {
        blocklist_.size = session_->set_blocklist(blocklist_lists(read_list(blocklist_path())));
    } catch (const piecewise::Error& e) {
        // A list that became unreadable: said once; the --blocklist file alone stays.
        std::cerr << "piecewise daemon: downloaded blocklist not loaded: " << e.what() << "\n";
        try {
            blocklist_.size = session_->set_blocklist(blocklist_lists({}));
        } catch (const piecewise::Error&) {
        }
    }
}

BlocklistInfo Daemon::blocklist() {
    std::lock_guard lk(mu_);
    return blocklist_;
}

void Daemon::set_blocklist_url(const std::string& url) {
    std::lock_guard lk(mu_);
    store_->set_setting("blocklist_url", url);
    blocklist_.url = url;
}

void Daemon::set_blocklist_enabled(bool on) {
    std::lock_guard lk(mu_);
    std::size_t n = 0;
    if (on) {
        std::error_code ec;
        std::string downloaded;
        if (fs::exists(blocklist_path(), ec)) downloaded = read_list(blocklist_path());
        n = session_->set_blocklist(blocklist_lists(downloaded));
    } else {
        session_->set_blocklist({});
    }
    store_->set_setting("blocklist_enabled", on ? "1" : "0");
    blocklist_.enabled = on;
    blocklist_.size = n;
}

std::size_t Daemon::update_blocklist(const std::string& data) {
    std::lock_guard lk(mu_);
    // Checked before anything changes: a bad download leaves the old list in force and saved.
    std::size_t n = piecewise::Session::check_blocklist(data);
    auto lists = blocklist_lists(data);
    // Written beside the old one, put in force, then renamed over it: a crash at any point
    // leaves one whole list.
    std::string tmp = blocklist_path() + ".part";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    bool ok = f && std::fwrite(data.data(), 1, data.size(), f) == data.size();
    if (f) ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0 && ok;
    if (f) ok = std::fclose(f) == 0 && ok;
    if (!ok) {
        std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw piecewise::Error("cannot save the blocklist as " + tmp + ": " + why);
    }
    if (blocklist_.enabled) {
        try {
            n = session_->set_blocklist(lists);
        } catch (const piecewise::Error&) {
            std::remove(tmp.c_str());
            throw;
        }
        blocklist_.size = n;
    }
    if (std::rename(tmp.c_str(), blocklist_path().c_str()) != 0) {
        std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw piecewise::Error("cannot save the blocklist as " + blocklist_path() + ": " + why);
    }
    return n;
}

void Daemon::set_pex(bool on) {
    std::lock_guard lk(mu_);
    store_->set_setting("pex_enabled", on ? "1" : "0");
    session_->set_pex(on);
    cfg_.settings.pex = on;
}

}  // namespace pw::daemon
