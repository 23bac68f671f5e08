#include "cli/run_torrent.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.hpp"
#include "meta/magnet.hpp"
#include "proxy/parse/proxy_url.hpp"

namespace pw::cli {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    return fmt::format("{:.1f} {}", b, units[u]);
}

std::string eta(const piecewise::TorrentStatus& s) {
    if (s.down_rate < 1 || s.bytes_have >= s.total_size) return "-";
    auto secs = static_cast<long long>(double(s.total_size - s.bytes_have) / s.down_rate);
    if (secs > 99 * 3600) return "∞";
    return fmt::format("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
}

std::string progress_line(const piecewise::TorrentStatus& s) {
    if (s.state == piecewise::TorrentState::metadata)
        return fmt::format("{}: fetching metadata from {} peer(s) ({} known)", s.name, s.peers, s.known_peers);
    if (s.state == piecewise::TorrentState::checking)
        return fmt::format("{}: checking {:.1f}%", s.name, s.check_progress * 100);
    double pct = s.total_size ? 100.0 * double(s.bytes_have) / double(s.total_size) : 100.0;
    return fmt::format("{}: {:5.1f}% {} | down {}/s up {}/s | peers {} ({} seeds) | ETA {}",
                       s.name, pct, s.state == piecewise::TorrentState::seeding ? "seeding" : "",
                       human_bytes(s.down_rate), human_bytes(s.up_rate), s.peers, s.seeds, eta(s));
}

}  // namespace

void install_stop_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int run_torrent(const RunOptions& o) {
    install_stop_signals();
    piecewise::Settings settings;
    settings.listen = o.listen;
    settings.resume_dir = o.resume_dir;
    settings.dht = o.dht;
    if (!o.dht_bootstrap.empty()) settings.dht_bootstrap = o.dht_bootstrap;
    settings.lsd = o.lsd;
    settings.pex = o.pex;
    settings.encryption = o.encryption == "require"   ? piecewise::Encryption::require
                          : o.encryption == "disable" ? piecewise::Encryption::disable
                                                      : piecewise::Encryption::prefer;
    settings.announce_to_all_tiers = o.all_tiers;
    settings.tracker_ca_file = o.tracker_ca;
    if (o.cache_mib > 0) settings.cache_bytes = o.cache_mib << 20;
    settings.blocklist_file = o.blocklist;
    settings.bind_interface = o.bind_interface;
    settings.proxy = o.proxy;
    settings.utp = o.utp;
    settings.tcp = o.tcp;
    if (!o.proxy.empty()) {
        auto parsed = proxy::parse_proxy_url(o.proxy);
        if (auto* why = std::get_if<std::string>(&parsed)) return fail(2, "--proxy: " + *why);
    }
    if (!o.proxy.empty() && o.dht && !o.quiet)
        std::fprintf(
            stderr,
            "warning: the DHT is off while --proxy is set (it cannot use the proxy without "
            "revealing this address); peers come from trackers, --peer and PEX\n");
    std::unique_ptr<piecewise::Session> session;
    try {
        session = std::make_unique<piecewise::Session>(settings);
    } catch (const piecewise::SettingsError& e) {
        return fail(2, e.what());
    } catch (const piecewise::Error& e) {
        return fail(1, e.what());
    }
    piecewise::AddTorrentParams p;
    if (meta::is_magnet(o.torrent)) {
        if (o.upload_only) {
            session->stop(std::chrono::milliseconds(0));
            return fail(2, "seed needs a .torrent file, not a magnet link");
        }
        p.magnet = o.torrent;
        p.save_torrent = o.save_torrent;
    } else {
        p.torrent_file = o.torrent;
    }
    p.save_path = o.dir;
    p.peers = o.peers;
    p.upload_only = o.upload_only;
    p.seed_ratio = o.seed_ratio;
    piecewise::TorrentId id;
    try {
        id = session->add_torrent(p);
    } catch (const piecewise::Error& e) {
        session->stop(std::chrono::milliseconds(0));
        return fail(2, e.what());
    }

    const bool tty = isatty(STDOUT_FILENO);
    auto last_print = std::chrono::steady_clock::now() - std::chrono::hours(1);
    auto last_trackers = std::chrono::steady_clock::now() - std::chrono::seconds(25);
    int status = 0;
    std::string reason;
    bool checked = false;
    while (true) {
        for (auto& e : session->pop_events()) {
            using piecewise::EventType;
            bool show = o.verbose || e.type == EventType::piece_failed ||
                        e.type == EventType::metadata_received || e.type == EventType::blocklist_loaded ||
                        e.type == EventType::peer_banned || e.type == EventType::storage_error ||
                        e.type == EventType::tracker_error || e.type == EventType::torrent_finished;
            if (e.type == EventType::torrent_checked) checked = true;
            if (show && !o.quiet) {
                if (tty) std::fputs("\r\033[K", stdout);
                std::printf("%s\n", e.message.c_str());
            }
        }
        auto s = session->status(id);
        if (!s) {
            status = 1;
            reason = "engine stopped responding";
            break;
        }
        if (s->state == piecewise::TorrentState::error) {
            status = 1;
            reason = s->error;
            break;
        }
        if (checked && o.upload_only && s->pieces_have == 0) {
            status = 1;
            reason = "no data of this torrent found in " + o.dir;
            break;
        }
        bool complete = s->num_pieces > 0 && s->pieces_have == s->num_pieces;
        if (!o.upload_only && complete && (o.no_seed || s->seed_ratio_reached)) break;
        if (g_stop) {
            if (!complete && !o.upload_only) {
                status = 1;
                reason = fmt::format("interrupted at {:.1f}% (resume data saved)",
                                     s->total_size ? 100.0 * double(s->bytes_have) / double(s->total_size) : 0.0);
            }
            break;
        }
        auto now = std::chrono::steady_clock::now();
        if (o.verbose && !o.quiet && now - last_trackers >= std::chrono::seconds(30)) {
            last_trackers = now;
            if (tty) std::fputs("\r\033[K", stdout);
            for (auto& t : s->trackers)
                std::printf("tracker %s: %s | peers %d | seeders %lld leechers %lld | next announce in %llds\n",
                            t.url.c_str(), t.last_error.empty() ? "ok" : t.last_error.c_str(),
                            t.peers_returned, static_cast<long long>(t.seeders),
                            static_cast<long long>(t.leechers), static_cast<long long>(t.next_announce_s));
        }
        if (!o.quiet) {
            if (tty && now - last_print >= std::chrono::milliseconds(500)) {
                std::printf("\r\033[K%s", progress_line(*s).c_str());
                std::fflush(stdout);
                last_print = now;
            } else if (!tty && now - last_print >= std::chrono::seconds(2)) {
                std::printf("%s\n", progress_line(*s).c_str());
                std::fflush(stdout);
                last_print = now;
            }
        }
        // Events (a finished torrent, an error) wake the loop at once.
        session->wait_for_events(std::chrono::milliseconds(100));
    }
    auto final_status = session->status(id);
    session->stop();
    if (!o.quiet) {
        if (tty) std::fputs("\r\033[K", stdout);
        if (final_status)
            std::printf("%s\n", progress_line(*final_status).c_str());
        if (final_status && status == 0)
            std::printf("done: %s downloaded, %s uploaded\n", human_bytes(double(final_status->downloaded)).c_str(),
                        human_bytes(double(final_status->uploaded)).c_str());
        std::fflush(stdout);
    }
    if (status != 0) return fail(status, reason);
    return 0;
}

}  // namespace pw::cli
