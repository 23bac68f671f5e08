// `piecewise verify`: a full check of data already on disk against a .torrent's piece
// hashes (BEP 3; BEP 47 pad files count as zeros), with storage::check_pieces on all cores
// by default. Exit 0 when every piece is present and good, 1 when some are missing or bad
// (the first few files and pieces are named), 2 for bad usage or an unusable torrent/dir.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "meta/metainfo.hpp"
#include "storage/checker.hpp"
#include "storage/storage.hpp"

namespace pw::cli {

namespace {

constexpr std::size_t kMaxListed = 10;  // files and piece ranges named in the report

struct VerifyArgs {
    std::string torrent;
    std::string dir = ".";
    unsigned threads = 0;
    bool quiet = false;
};

std::string human_size(double bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        ++u;
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
    return buf;
}

std::string rate(double bytes, double seconds) {
    char buf[48];
    double r = seconds > 0 ? bytes / seconds : 0;
    if (r >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2f GB/s", r / 1e9);
    else
        std::snprintf(buf, sizeof buf, "%.0f MB/s", r / 1e6);
    return buf;
}

// Progress on stderr: a line rewritten in place on a terminal, otherwise one line per 10%.
class ProgressPrinter {
  public:
    explicit ProgressPrinter(int total) : total_(total), tty_(::isatty(STDERR_FILENO) == 1) {}
    void update(std::int64_t done, double bytes_per_piece, double seconds) {
        int pct = total_ > 0 ? static_cast<int>(done * 100 / total_) : 100;
        std::string r = rate(static_cast<double>(done) * bytes_per_piece, seconds);
        if (tty_) {
            std::fprintf(stderr, "\rchecking: %3d%% (%lld/%d pieces, %s)   ", pct,
                         static_cast<long long>(done), total_, r.c_str());
            std::fflush(stderr);
            live_ = true;
        } else if (pct / 10 != last_decile_) {
            last_decile_ = pct / 10;
            std::fprintf(stderr, "checking: %d%% (%lld/%d pieces, %s)\n", pct,
                         static_cast<long long>(done), total_, r.c_str());
        }
    }
    void finish() {
        if (live_) std::fputc('\n', stderr);
        live_ = false;
    }

  private:
    int total_;
    bool tty_;
    bool live_ = false;
    int last_decile_ = -1;
};

// "3-4, 17, 20-31" for the first kMaxListed runs of bad pieces.
std::string bad_piece_ranges(const std::vector<bool>& have) {
    std::string out;
    std::size_t runs = 0;
    const std::size_t n = have.size();
    for (std::size_t p = 0; p < n;) {
        if (have[p]) {
            ++p;
            continue;
        }
        std::size_t q = p;
        while (q + 1 < n && !have[q + 1]) ++q;
        if (runs == kMaxListed) return out + ", ...";
        if (runs++) out += ", ";
        out += std::to_string(p);
        if (q > p) out += "-" + std::to_string(q);
        p = q + 1;
    }
    return out;
}

// Bytes of the torrent's (non-pad) files that exist on disk, up to each file's length.
std::int64_t bytes_present(const meta::Metainfo& m, const storage::Storage& storage) {
    std::int64_t total = 0;
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        struct stat st;
        if (m.files[i].pad || m.files[i].length == 0) continue;
        if (::stat(storage.full_path(static_cast<int>(i)).c_str(), &st) == 0 && S_ISREG(st.st_mode))
            total += std::min<std::int64_t>(st.st_size, m.files[i].length);
    }
    return total;
}

// Prints which files are missing, short, or hold bad pieces (the first kMaxListed).
void report_files(const meta::Metainfo& m, const storage::Storage& storage,
                  const std::vector<bool>& have) {
    std::map<int, int> bad_in_file;  // file index -> bad pieces touching it
    for (int p = 0; p < m.num_pieces(); ++p) {
        if (have[static_cast<std::size_t>(p)]) continue;
        for (const storage::Slice& s : storage.map(p * m.piece_length, m.piece_size(p)))
            ++bad_in_file[s.file];
    }
    std::size_t listed = 0;
    for (const auto& [file, count] : bad_in_file) {
        if (listed++ == kMaxListed) {
            std::printf("  ... and %zu more files\n", bad_in_file.size() - kMaxListed);
            break;
        }
        const meta::FileEntry& f = m.files[static_cast<std::size_t>(file)];
        struct stat st;
        std::string what;
        if (::stat(storage.full_path(file).c_str(), &st) != 0)
            what = "missing";
        else if (!S_ISREG(st.st_mode))
            what = "not a regular file";
        else if (st.st_size < f.length)
            what = "short (" + std::to_string(st.st_size) + " of " + std::to_string(f.length) +
                   " bytes)";
        else
            what = std::to_string(count) + (count == 1 ? " bad piece" : " bad pieces");
        std::printf("  %s: %s\n", f.path.c_str(), what.c_str());
    }
}

int run_verify(const VerifyArgs& a) {
    namespace fs = std::filesystem;
    meta::Metainfo m;
    try {
        m = meta::load(a.torrent);
    } catch (const meta::MetainfoError& e) {
        return fail(2, e.what());
    }
    std::error_code ec;
    if (!fs::is_directory(a.dir, ec))
        return fail(2,
                    a.dir + (fs::exists(a.dir, ec) ? ": not a directory" : ": no such directory"));

    storage::Storage storage(m.files, m.total_size, a.dir);
    storage::CheckProgress progress;
    const int total = m.num_pieces();
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds_since = [t0] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::future<std::vector<bool>> result;
    try {
        result = std::async(std::launch::async, [&] {
            return storage::check_pieces(m, storage, a.threads, &progress);
        });
    } catch (const std::system_error& e) {
        return fail(1, std::string("cannot start the checking thread: ") + e.what());
    }

    ProgressPrinter printer(total);
    const double per_piece = total > 0 ? static_cast<double>(m.total_size) / total : 0;
    while (result.wait_for(std::chrono::milliseconds(a.quiet ? 1000 : 250)) !=
           std::future_status::ready) {
        if (!a.quiet) printer.update(progress.pieces_done.load(), per_piece, seconds_since());
    }
    std::vector<bool> have;
    try {
        have = result.get();
    } catch (const std::exception& e) {
        printer.finish();
        return fail(1, std::string("check failed: ") + e.what());
    }
    const double elapsed = seconds_since();
    if (!a.quiet) printer.update(total, per_piece, elapsed);
    printer.finish();

    const auto good = std::count(have.begin(), have.end(), true);
    if (good == total) {
        std::printf("verified %d/%d pieces (%s) in %.2f s, %s\n", total, total,
                    human_size(static_cast<double>(m.total_size)).c_str(), elapsed,
                    rate(static_cast<double>(m.total_size), elapsed).c_str());
        std::fflush(stdout);
        return 0;
    }
    // Missing data is not read: the rate counts the bytes that exist.
    const std::int64_t present = bytes_present(m, storage);
    std::printf("verified %lld/%d pieces (%s, %s of it on disk) in %.2f s, %s\n",
                static_cast<long long>(good), total,
                human_size(static_cast<double>(m.total_size)).c_str(),
                human_size(static_cast<double>(present)).c_str(), elapsed,
                rate(static_cast<double>(present), elapsed).c_str());
    std::printf("%lld of %d pieces missing or bad: %s\n", static_cast<long long>(total - good),
                total, bad_piece_ranges(have).c_str());
    report_files(m, storage, have);
    std::fflush(stdout);
    return 1;
}

}  // namespace

Command add_verify(CLI::App& root) {
    auto args = std::make_shared<VerifyArgs>();
    CLI::App* app = root.add_subcommand(
        "verify", "Check data on disk against a torrent's piece hashes (exit 1 if any are bad)");
    app->add_option("TORRENT", args->torrent, ".torrent file")->required();
    app->add_option("-d,--dir", args->dir, "Directory that holds the torrent's files")
        ->capture_default_str();
    app->add_option("--threads", args->threads, "Hashing threads (0 = all cores)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 256u));
    app->add_flag("-q,--quiet", args->quiet, "No progress output");
    return Command{app, [args] { return run_verify(*args); }};
}

}  // namespace pw::cli
