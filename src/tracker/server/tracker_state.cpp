// Allow-list loading, the announce rate and the /stats page of the tracker server.
#include "tracker/server/tracker_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <random>

namespace pw::tracker {

namespace {
constexpr std::size_t max_allow_list_line = 4096;
constexpr std::size_t max_allow_list_entries = 10'000'000;

std::int64_t second_of(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}
}  // namespace

std::string load_allow_list(const std::string& path, AllowList& out) {
    std::ifstream in(path);
    if (!in) return "cannot read allow-list " + path;
    AllowList list;
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.size() > max_allow_list_line)
            return fmt::format("{}:{}: line too long", path, lineno);
        std::string_view s(line);
        if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
        s = trim(s);
        if (s.empty()) continue;
        Sha1Digest h;
        if (s.size() != 40 || !Sha1Digest::from_hex(s, h))
            return fmt::format("{}:{}: expected a 40-hex-digit info-hash", path, lineno);
        if (list.size() >= max_allow_list_entries)
            return fmt::format("{}: more than {} info-hashes", path, max_allow_list_entries);
        list.insert(h);
    }
    if (in.bad()) return "cannot read allow-list " + path;
    out = std::move(list);
    return {};
}

void AnnounceRate::count(Clock::time_point now) {
    const std::int64_t s = second_of(now);
    const auto b = static_cast<std::size_t>(((s % buckets) + buckets) % buckets);
    if (second_[b] != s) {
        second_[b] = s;
        n_[b] = 0;
    }
    ++n_[b];
}

// The mean over the last complete seconds (up to a minute, fewer right after start).
double AnnounceRate::per_second(Clock::time_point now, Clock::time_point since) const {
    const std::int64_t s = second_of(now);
    const std::int64_t span = std::clamp<std::int64_t>(s - second_of(since), 1, buckets - 1);
    std::uint64_t total = 0;
    for (int b = 0; b < buckets; ++b)
        if (second_[b] < s && second_[b] >= s - span) total += n_[b];
    return static_cast<double>(total) / static_cast<double>(span);
}

TrackerState::TrackerState(std::chrono::seconds interval, StoreLimits limits, Clock::time_point now)
    : store(limits, 2 * interval, std::random_device{}()), interval_(interval), started_(now) {}

StoreReply TrackerState::announce(const StoreAnnounce& a, Clock::time_point now) {
    StoreReply r;
    announce(a, now, r);
    return r;
}

void TrackerState::announce(const StoreAnnounce& a, Clock::time_point now, StoreReply& reply) {
    rate_.count(now);
    if (!allowed(a.info_hash)) {
        ++counters.failures;
        reply.failure = "torrent not allowed";
        reply.counts = {};
        reply.peers.clear();
        return;
    }
    store.announce(a, now, reply);
    if (!reply.failure.empty()) ++counters.failures;
}

std::string TrackerState::stats_text(Clock::time_point now) const {
    const StoreTotals t = store.totals();
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(now - started_).count();
    std::string s;
    s += fmt::format("torrents: {}\n", t.torrents);
    s += fmt::format("peers: {} (seeders {}, leechers {})\n", t.seeders + t.leechers, t.seeders,
                     t.leechers);
    s += fmt::format("announces/s (last minute): {:.1f}\n", rate_.per_second(now, started_));
    s += fmt::format("http announces: {}, http scrapes: {}\n", counters.http_announces,
                     counters.http_scrapes);
    s += fmt::format("udp connects: {}, udp announces: {}, udp scrapes: {}, udp dropped: {}\n",
                     counters.udp_connects, counters.udp_announces, counters.udp_scrapes,
                     counters.udp_dropped);
    s += fmt::format("failures: {}\n", counters.failures);
    s += fmt::format("interval: {} s, allow-list: {}\n", interval_.count(),
                     allow_ ? fmt::format("{} info-hashes", allow_->size()) : "off");
    s += fmt::format("uptime: {} s\n", up);
    return s;
}

}  // namespace pw::tracker
