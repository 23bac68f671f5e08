// `piecewise info`: prints what a .torrent file holds, as text or (--json) as a JSON object.
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "meta/metainfo.hpp"
#include "meta/url_list.hpp"

namespace pw::cli {

namespace {

constexpr std::size_t kMaxFilesListed = 100;

struct InfoArgs {
    std::string torrent;
    bool json = false;
};

std::string human_size(std::int64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        ++u;
    }
    char buf[64];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, "%.2f %s (%lld bytes)", v, units[u],
                      static_cast<long long>(bytes));
    return buf;
}

std::string utc_time(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (!::gmtime_r(&tt, &tm)) return std::to_string(t);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

void print_text(const meta::Metainfo& m, const std::vector<std::string>& warnings) {
    std::cout << "name:          " << m.name << "\n"
              << "format:        " << meta::format_name(m.format) << "\n";
    if (m.format != meta::Format::v2) std::cout << "info hash:     " << m.info_hash.hex() << "\n";
    if (m.info_hash_v2) std::cout << "info hash v2:  " << m.info_hash_v2->hex() << "\n";
    std::cout << "piece length:  " << human_size(m.piece_length) << "\n"
              << "pieces:        " << m.num_pieces() << "\n"
              << "total size:    " << human_size(m.total_size) << "\n"
              << "private:       " << (m.is_private ? "yes" : "no") << "\n";
    if (!m.comment.empty()) std::cout << "comment:       " << m.comment << "\n";
    if (!m.created_by.empty()) std::cout << "created by:    " << m.created_by << "\n";
    if (m.creation_date != 0) std::cout << "creation date: " << utc_time(m.creation_date) << "\n";
    if (m.trackers.empty()) {
        std::cout << "trackers:      none\n";
    } else {
        std::cout << "trackers:\n";
        for (std::size_t t = 0; t < m.trackers.size(); ++t)
            for (const auto& url : m.trackers[t])
                std::cout << "  tier " << t << ": " << url << "\n";
    }
    if (!m.url_list.empty()) {
        std::cout << "web seeds:\n";
        for (const auto& u : m.url_list) std::cout << "  " << u << "\n";
    }
    for (const auto& w : warnings) std::cout << "warning:       " << w << "\n";
    std::cout << "files:         " << m.files.size() << "\n";
    std::size_t shown = 0;
    for (const auto& f : m.files) {
        if (shown == kMaxFilesListed) {
            std::cout << "  ... and " << (m.files.size() - shown) << " more\n";
            break;
        }
        std::cout << "  " << f.path << "  (" << f.length << " bytes" << (f.pad ? ", padding" : "")
                  << ")\n";
        ++shown;
    }
}

void print_json(const meta::Metainfo& m, const std::vector<std::string>& warnings) {
    namespace json = boost::json;
    json::array files;
    for (const auto& f : m.files) {
        json::object o;
        o["path"] = f.path;
        o["length"] = f.length;
        if (f.pad) o["pad"] = true;
        files.push_back(std::move(o));
    }
    json::array flat;
    json::array tiers;
    for (const auto& tier : m.trackers) {
        json::array t;
        for (const auto& url : tier) {
            flat.push_back(json::value(url));
            t.push_back(json::value(url));
        }
        tiers.push_back(std::move(t));
    }
    json::array web_seeds;
    for (const auto& u : m.url_list) web_seeds.push_back(json::value(u));

    json::object o;
    o["name"] = m.name;
    // BEP 52: a v2-only torrent has no v1 info-hash (its truncated v2 hash is only a
    // swarm name), so it is null rather than something no v1 client would find.
    if (m.format == meta::Format::v2)
        o["info_hash"] = nullptr;
    else
        o["info_hash"] = m.info_hash.hex();
    if (m.info_hash_v2)
        o["info_hash_v2"] = m.info_hash_v2->hex();
    else
        o["info_hash_v2"] = nullptr;
    o["format"] = meta::format_name(m.format);
    o["piece_length"] = m.piece_length;
    o["num_pieces"] = m.num_pieces();
    o["total_size"] = m.total_size;
    o["private"] = m.is_private;
    o["multi_file"] = m.multi_file;
    o["comment"] = m.comment;
    o["created_by"] = m.created_by;
    o["creation_date"] = m.creation_date;
    o["trackers"] = std::move(flat);
    o["tiers"] = std::move(tiers);
    o["url_list"] = std::move(web_seeds);
    o["files"] = std::move(files);
    json::array warn;
    for (const auto& w : warnings) warn.push_back(json::value(w));
    o["warnings"] = std::move(warn);
    std::cout << json::serialize(o) << "\n";
}

int run_info(const InfoArgs& a) {
    meta::Metainfo m;
    try {
        m = meta::load(a.torrent);
    } catch (const meta::MetainfoError& e) {
        return fail(2, e.what());
    }
    // What parsing ignored (the url-list's unusable entries), from the file's bytes.
    std::ifstream in(a.torrent, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    auto warnings = meta::read_url_list(bytes).warnings;
    if (a.json)
        print_json(m, warnings);
    else
        print_text(m, warnings);
    std::cout.flush();
    if (!std::cout) return fail(1, "cannot write to standard output");
    return 0;
}

}  // namespace

Command add_info(CLI::App& root) {
    auto args = std::make_shared<InfoArgs>();
    CLI::App* app = root.add_subcommand("info", "Show what a .torrent file contains");
    app->add_option("TORRENT", args->torrent, ".torrent file")->required();
    app->add_flag("--json", args->json, "Print a JSON object instead of text");
    return Command{app, [args] { return run_info(*args); }};
}

}  // namespace pw::cli
