// Helpers for in-process swarms on 127.0.0.x: payloads, torrents, sessions, waits.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "meta/creator.hpp"
#include "meta/metainfo.hpp"
#include "piecewise/session.hpp"

namespace fs = std::filesystem;

namespace swarm_test {

inline fs::path temp_dir(const std::string& name) {
    static std::random_device rd;
    auto p = fs::temp_directory_path() / ("pw-swarm-" + name + "-" + std::to_string(rd()));
    fs::create_directories(p);
    return p;
}

inline std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

inline void write_file(const fs::path& p, const std::string& data) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Makes a .torrent for `path` and returns its location.
inline fs::path make_torrent(const fs::path& path, const fs::path& out, std::int64_t piece_size,
                             std::vector<std::string> trackers = {}) {
    pw::meta::CreateOptions o;
    o.piece_size = piece_size;
    o.trackers = std::move(trackers);
    o.creation_date = 0;
    write_file(out, pw::meta::create_torrent(path, o));
    return out;
}

inline piecewise::Settings loopback(const std::string& ip, const fs::path& resume) {
    piecewise::Settings s;
    s.listen = ip + ":0";
    s.resume_dir = resume.string();
    s.disk_threads = 2;
    s.dht = false;  // never the public bootstrap routers from a test
    return s;
}

inline std::string endpoint(const std::string& ip, const piecewise::Session& s) {
    return ip + ":" + std::to_string(s.listen_port());
}

// Polls until pred() holds or the deadline passes; returns pred().
inline bool wait_for(const std::function<bool()>& pred, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

inline bool complete(const piecewise::Session& s, piecewise::TorrentId id) {
    auto st = s.status(id);
    return st && st->num_pieces > 0 && st->pieces_have == st->num_pieces;
}

}  // namespace swarm_test
