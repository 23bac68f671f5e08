// `piecewise create`: hashes a file or directory into a v1 .torrent (see meta/creator.hpp).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "meta/creator.hpp"
#include "meta/metainfo.hpp"

namespace pw::cli {

namespace {

struct CreateArgs {
    std::string path;
    std::string output;
    std::vector<std::string> trackers;
    std::int64_t piece_size = 0;
    bool is_private = false;
    std::string comment;
    std::string format = "v1";
    std::vector<std::string> web_seeds;
};

// Progress on stderr: a line rewritten in place on a terminal, otherwise one line
// per 10% so logs stay short.
class ProgressPrinter {
  public:
    ProgressPrinter() : tty_(::isatty(STDERR_FILENO) == 1) {}
    void operator()(std::int64_t done, std::int64_t total) {
        int pct = total > 0 ? static_cast<int>(done * 100 / total) : 100;
        if (tty_) {
            std::fprintf(stderr, "\rhashing: %d%% (%lld/%lld pieces)", pct,
                         static_cast<long long>(done), static_cast<long long>(total));
            std::fflush(stderr);
            live_ = true;
        } else if (pct / 10 != last_decile_) {
            last_decile_ = pct / 10;
            std::fprintf(stderr, "hashing: %d%% (%lld/%lld pieces)\n", pct,
                         static_cast<long long>(done), static_cast<long long>(total));
        }
    }
    void finish() {
        if (live_) std::fputc('\n', stderr);
        live_ = false;
    }

  private:
    bool tty_;
    bool live_ = false;
    int last_decile_ = -1;
};

int run_create(const CreateArgs& a) {
    namespace fs = std::filesystem;
    if (a.piece_size != 0 &&
        (a.piece_size < (16 << 10) || (a.piece_size & (a.piece_size - 1)) != 0))
        return fail(2, "--piece-size must be a power of two of at least 16384 bytes (got " +
                           std::to_string(a.piece_size) + ")");
    for (const auto& u : a.web_seeds) {
        auto scheme_ok = [&](std::string_view sc) {
            return u.size() > sc.size() && u.compare(0, sc.size(), sc) == 0;
        };
        if (!scheme_ok("http://") && !scheme_ok("https://"))
            return fail(2, "--web-seed needs an http:// or https:// URL (got '" + u + "')");
    }
    std::error_code ec;
    if (!fs::exists(a.path, ec)) return fail(2, a.path + ": no such file or directory");

    fs::path out = a.output;
    if (out.empty()) {
        fs::path root = fs::absolute(a.path).lexically_normal();
        if (!root.has_filename()) root = root.parent_path();
        out = root.filename().string() + ".torrent";
    }

    meta::CreateOptions opts;
    if (a.format == "v2")
        opts.format = meta::Format::v2;
    else if (a.format == "hybrid")
        opts.format = meta::Format::hybrid;
    else if (a.format != "v1")
        return fail(2, "--format must be v1, v2 or hybrid (got " + a.format + ")");
    opts.trackers = a.trackers;
    opts.piece_size = a.piece_size;
    opts.is_private = a.is_private;
    opts.comment = a.comment;
    opts.web_seeds = a.web_seeds;
    auto printer = std::make_shared<ProgressPrinter>();
    opts.progress = [printer](std::int64_t done, std::int64_t total) { (*printer)(done, total); };

    std::string torrent;
    try {
        torrent = meta::create_torrent(a.path, opts);
    } catch (const std::exception& e) {
        printer->finish();
        return fail(1, e.what());
    }
    printer->finish();

    meta::Metainfo m;
    try {
        m = meta::parse(torrent);
    } catch (const meta::MetainfoError& e) {
        return fail(1, std::string("created torrent does not parse: ") + e.what());
    }

    fs::path tmp = out;
    tmp += ".part";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f.write(torrent.data(), static_cast<std::streamsize>(torrent.size()));
        f.close();
        if (!f) {
            fs::remove(tmp, ec);
            return fail(1, "cannot write " + tmp.string());
        }
    }
    fs::rename(tmp, out, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return fail(1, "cannot write " + out.string() + ": " + ec.message());
    }
    if (m.format != meta::Format::v2) std::cout << "info hash: " << m.info_hash.hex() << "\n";
    if (m.info_hash_v2) std::cout << "info hash v2: " << m.info_hash_v2->hex() << "\n";
    std::cout << "format:    " << meta::format_name(m.format) << "\n"
              << "pieces:    " << m.num_pieces() << " x " << m.piece_length << " bytes\n"
              << "wrote:     " << out.string() << "\n";
    return 0;
}

}  // namespace

Command add_create(CLI::App& root) {
    auto args = std::make_shared<CreateArgs>();
    CLI::App* app =
        root.add_subcommand("create", "Create a .torrent file from a file or directory");
    app->add_option("PATH", args->path, "File or directory to share")->required();
    app->add_option("-o,--output", args->output,
                    "Output .torrent file (default: <basename of PATH>.torrent)");
    app->add_option("-t,--tracker", args->trackers,
                    "Tracker announce URL (repeatable; one tier each)")
        ->allow_extra_args(false);  // one URL per -t, so PATH may follow
    app->add_option("--piece-size", args->piece_size,
                    "Piece size in bytes: a power of two >= 16384 (default: automatic)");
    app->add_flag("--private", args->is_private, "Set the private flag (BEP 27)");
    app->add_option("--comment", args->comment, "Comment stored in the torrent");
    app->add_option("--format", args->format,
                    "v1 (default), v2 (BEP 52) or hybrid (v1 and v2 in one torrent, files aligned "
                    "to pieces by BEP 47 pad files). v1 stays the default because clients Debian "
                    "12 ships cannot use hybrids: Transmission 3.00 refuses them (its parser "
                    "fails on the empty keys of the v2 file tree; fixed in 4.0) and aria2 1.36 "
                    "computes a wrong v1 info-hash for them")
        ->check(CLI::IsMember({"v1", "v2", "hybrid"}));
    app->add_option("--web-seed", args->web_seeds,
                    "Web seed URL, http:// or https:// (repeatable; BEP 19 url-list). For a "
                    "directory, the URL of the folder that holds it (ending in '/')")
        ->allow_extra_args(false);
    return Command{app, [args] { return run_create(*args); }};
}

}  // namespace pw::cli
