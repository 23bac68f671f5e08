#include "cli/run_torrent.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.hpp"
#include "meta/magnet.hpp"
#include "meta/metainfo.hpp"
#include "proxy/parse/proxy_url.hpp"

namespace pw::cli {

namespace {

std::atomic<bool> g_stop{false};

// The program's start for get --timing: set during static initialisation, before main.
const auto g_process_start = std::chrono::steady_clock::now();

void print_timing(const RunOptions& o, const char* phase) {
    if (!o.timing) return;
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - g_process_start;
    std::fprintf(stderr, "timing: %s %.3f\n", phase, d.count());
}

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
    if (s.down_rate < 1 || s.left_until_done <= 0) return "-";
    auto secs = static_cast<long long>(double(s.left_until_done) / s.down_rate);
    if (secs > 99 * 3600) return "∞";
    return fmt::format("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
}

std::string progress_line(const piecewise::TorrentStatus& s) {
    if (s.state == piecewise::TorrentState::metadata)
        return fmt::format("{}: fetching metadata from {} peer(s) ({} known)", s.name, s.peers, s.known_peers);
    if (s.state == piecewise::TorrentState::checking)
        return fmt::format("{}: checking {:.1f}%", s.name, s.check_progress * 100);
    // Of the wanted files (all of them unless --files chose some).
    double pct = s.size_when_done ? 100.0 * double(s.size_when_done - s.left_until_done) /
                                        double(s.size_when_done)
                                  : 100.0;
    return fmt::format("{}: {:5.1f}% {} | down {}/s up {}/s | peers {} ({} seeds) | ETA {}",
                       s.name, pct, s.state == piecewise::TorrentState::seeding ? "seeding" : "",
                       human_bytes(s.down_rate), human_bytes(s.up_rate), s.peers, s.seeds, eta(s));
}

}  // namespace

// The magnet with its so= parameters replaced by `sel`.
std::string with_selection(const std::string& magnet, const std::vector<meta::IndexRange>& sel) {
    std::string out = magnet.substr(0, 8);  // "magnet:?"
    std::string_view q = std::string_view(magnet).substr(8);
    bool first = true;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (part.empty() || part.substr(0, 3) == "so=") continue;
        if (!first) out += '&';
        out += part;
        first = false;
    }
    return out + (first ? "" : "&") + "so=" + meta::format_index_list(sel);
}

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
    if (o.listen.empty() || o.listen.size() > 2)
        return fail(2, "--listen: give one address, or two (an IPv4 and an IPv6 one)");
    settings.listen = o.listen[0];
    if (o.listen.size() == 2) settings.listen2 = o.listen[1];
    settings.resume_dir = o.resume_dir;
    settings.part_files = o.part_files;
    settings.dht = o.dht;
    if (!o.dht_bootstrap.empty()) settings.dht_bootstrap = o.dht_bootstrap;
    settings.dht_enforce_node_id = o.dht_enforce_node_id;
    settings.lsd = o.lsd;
    settings.natpmp = o.natpmp;
    settings.natpmp_gateway = o.natpmp_gateway;
    settings.upnp = o.upnp;
    settings.upnp_igd = o.upnp_igd;
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
    settings.rate_limits.download_rate_limit = o.max_down.value_or(0);
    settings.rate_limits.upload_rate_limit = o.max_up.value_or(0);
    settings.max_connections = o.max_connections;
    settings.utp = o.utp;
    settings.tcp = o.tcp;
    settings.simulate_nat = o.simulate_nat;
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
    print_timing(o, "session");
    piecewise::AddTorrentParams p;
    if (meta::is_magnet(o.torrent)) {
        if (o.upload_only) {
            session->stop(std::chrono::milliseconds(0));
            return fail(2, "seed needs a .torrent file, not a magnet link");
        }
        p.magnet = o.torrent;
        p.save_torrent = o.save_torrent;
        if (!o.files.empty()) {
            // The file count is known only with the metadata: --files becomes the link's
            // so= (BEP 53), replacing any it had; indices past the last file are ignored.
            try {
                p.magnet = with_selection(o.torrent, meta::parse_index_list(o.files));
            } catch (const meta::MetainfoError& e) {
                session->stop(std::chrono::milliseconds(0));
                return fail(2, std::string("--files: ") + e.what());
            }
        }
    } else {
        p.torrent_file = o.torrent;
        if (!o.files.empty()) {
            try {
                auto m = meta::load(o.torrent);
                p.file_priorities = meta::selection_priorities(
                    meta::parse_index_list(o.files), static_cast<int>(m.files.size()), true);
            } catch (const meta::MetainfoError& e) {
                session->stop(std::chrono::milliseconds(0));
                return fail(2, std::string("--files: ") + e.what());
            }
        }
    }
    p.sequential = o.sequential;
    p.super_seeding = o.super_seed;
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
    bool announced = false, first_block = false;
    while (true) {
        auto events = session->pop_events();
        // The error that stops the torrent is printed once, on stderr, when the loop ends.
        auto stopped_by = session->status(id);
        for (auto& e : events) {
            using piecewise::EventType;
            bool show = o.verbose || e.type == EventType::piece_failed ||
                        e.type == EventType::metadata_received || e.type == EventType::blocklist_loaded ||
                        e.type == EventType::peer_banned || e.type == EventType::storage_error ||
                        e.type == EventType::tracker_error || e.type == EventType::torrent_finished ||
                        e.type == EventType::port_mapped || e.type == EventType::port_mapping_error;
            if (e.type == EventType::storage_error && stopped_by && stopped_by->state == piecewise::TorrentState::error &&
                stopped_by->error == e.message)
                show = false;
            if (e.type == EventType::torrent_checked) {
                if (!checked) print_timing(o, "checked");
                checked = true;
            }
            if (e.type == EventType::tracker_reply && !announced) {
                announced = true;
                print_timing(o, "announced");
            }
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
        if (!first_block && s->downloaded > 0) {
            first_block = true;
            print_timing(o, "first-block");
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
        // Every wanted piece (all of them without --files) verified and on disk.
        bool complete = s->num_pieces > 0 && s->state == piecewise::TorrentState::seeding &&
                        s->left_until_done == 0;
        if (!o.upload_only && complete && (o.no_seed || s->seed_ratio_reached)) {
            print_timing(o, "complete");
            break;
        }
        if (g_stop) {
            if (!complete && !o.upload_only) {
                status = 1;
                reason = fmt::format("interrupted at {:.1f}% (resume data saved)",
                                     s->size_when_done
                                         ? 100.0 * double(s->size_when_done - s->left_until_done) /
                                               double(s->size_when_done)
                                         : 0.0);
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
        // Events (a finished torrent, an error) wake the loop at once. Under --timing the
        // first payload is looked for every 5 ms (no event marks it).
        session->wait_for_events(std::chrono::milliseconds(o.timing && !first_block ? 5 : 100));
    }
    auto final_status = session->status(id);
    const auto stats = session->session_stats();
    session->stop();
    print_timing(o, "stopped");
    if (!o.quiet) {
        if (tty) std::fputs("\r\033[K", stdout);
        // The port mappings were removed (or not) as the session stopped.
        for (auto& e : session->pop_events())
            if (e.type == piecewise::EventType::port_mapped || e.type == piecewise::EventType::port_mapping_error)
                std::printf("%s\n", e.message.c_str());
        if (final_status)
            std::printf("%s\n", progress_line(*final_status).c_str());
        if (final_status && status == 0)
            std::printf("done: %s downloaded, %s uploaded\n", human_bytes(double(final_status->downloaded)).c_str(),
                        human_bytes(double(final_status->uploaded)).c_str());
        if (o.verbose && stats.hash_requests_served + stats.hash_requests_rejected > 0)
            std::printf("BEP 52 hash requests: %llu served, %llu rejected\n",
                        static_cast<unsigned long long>(stats.hash_requests_served),
                        static_cast<unsigned long long>(stats.hash_requests_rejected));
        std::fflush(stdout);
    }
    print_timing(o, "exit");
    if (status != 0) return fail(status, reason);
    return 0;
}

}  // namespace pw::cli
