// Building .torrent files: BEP 3 info dictionary, BEP 12 announce-list, BEP 27 private,
// BEP 52 v2 (file tree, piece layers) and hybrids with BEP 47 pad files.
//
// The payload is a single file or a directory tree; directory entries are sorted by
// path so the same tree always gives the same torrent (and the v1 file order is the
// order of the v2 file tree, as BEP 52 requires of a hybrid). Pieces are hashed on
// several threads, each taking whole pieces and reading them with pread across file
// boundaries; the calling thread only coordinates and reports progress. For v2 and
// hybrid every file starts a piece (pads are zeros that are never read from disk), and
// each piece is read once and fed to both SHA-1 (v1 half) and the Merkle hasher (v2).
#include "meta/creator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <thread>

#include "bencode/bencode.hpp"
#include "crypto/sha1.hpp"
#include "meta/merkle.hpp"

namespace pw::meta {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinPiece = 16 << 10;
constexpr std::int64_t kMaxAutoPiece = 16 << 20;
constexpr std::int64_t kMaxPiece = 256 << 20;

struct InputFile {
    fs::path disk_path;
    std::vector<std::string> components;  // relative to the torrent root (multi-file)
    std::int64_t length = 0;
    std::int64_t offset = 0;
    bool pad = false;  // BEP 47 padding (v2 alignment): zeros, not on disk
};

// The hashes of every piece: 20-byte SHA-1s back to back (v1, hybrid) and the v2 hash at
// piece level of each piece (v2, hybrid; see Metainfo::piece_hashes_v2).
struct PieceHashes {
    std::string sha1;
    std::vector<Sha256Digest> v2;
};

[[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error(why);
}

std::string errno_text(int err) {
    return std::strerror(err);
}

std::int64_t size_of(const fs::path& p) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) fail("cannot stat " + p.string() + ": " + ec.message());
    return static_cast<std::int64_t>(size);
}

// Regular files under `root` (following symlinks to files, not to directories),
// sorted component-wise by their relative path.
std::vector<InputFile> walk_directory(const fs::path& root) {
    std::vector<InputFile> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
    if (ec) fail("cannot read directory " + root.string() + ": " + ec.message());
    for (auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
        if (ec) fail("cannot read directory " + root.string() + ": " + ec.message());
        std::error_code sec;
        if (!it->is_regular_file(sec)) continue;  // directories, fifos, sockets, dangling links
        InputFile f;
        f.disk_path = it->path();
        for (const auto& c : it->path().lexically_relative(root))
            f.components.push_back(c.string());
        out.push_back(std::move(f));
    }
    if (ec) fail("cannot read directory " + root.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(),
              [](const InputFile& a, const InputFile& b) { return a.components < b.components; });
    for (auto& f : out) f.length = size_of(f.disk_path);
    return out;
}

class FileReader {
  public:
    ~FileReader() { close(); }
    // Reads exactly `len` bytes at `offset` of `file` into `dst`.
    void read(const InputFile& f, std::int64_t offset, char* dst, std::size_t len) {
        if (&f != current_) {
            close();
            fd_ = ::open(f.disk_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd_ < 0) fail("cannot open " + f.disk_path.string() + ": " + errno_text(errno));
            current_ = &f;
        }
        while (len > 0) {
            ssize_t n = ::pread(fd_, dst, len, offset);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("cannot read " + f.disk_path.string() + ": " + errno_text(errno));
            }
            if (n == 0) fail("cannot read " + f.disk_path.string() + ": file shrank while hashing");
            dst += n;
            offset += n;
            len -= static_cast<std::size_t>(n);
        }
    }

  private:
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        current_ = nullptr;
    }
    int fd_ = -1;
    const InputFile* current_ = nullptr;
};

// Hashes all pieces of the concatenated files (pads included) in the formats asked for.
PieceHashes hash_pieces(const std::vector<InputFile>& files, std::int64_t total,
                        std::int64_t piece_len, const CreateOptions& opts) {
    const std::int64_t num_pieces = total / piece_len + (total % piece_len != 0 ? 1 : 0);
    const bool v1 = opts.format != Format::v2;
    const bool v2 = opts.format != Format::v1;
    PieceHashes out;
    std::string& hashes = out.sha1;
    if (v1) hashes.assign(static_cast<std::size_t>(num_pieces) * 20, '\0');
    if (v2) out.v2.resize(static_cast<std::size_t>(num_pieces));
    // v2: the data file each piece belongs to (every file starts a piece).
    std::vector<const InputFile*> owner;
    if (v2) {
        owner.resize(static_cast<std::size_t>(num_pieces), nullptr);
        for (const auto& f : files) {
            if (f.pad || f.length == 0) continue;
            for (std::int64_t p = f.offset / piece_len; p * piece_len < f.offset + f.length; ++p)
                owner[static_cast<std::size_t>(p)] = &f;
        }
    }
    unsigned threads =
        opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::int64_t>(threads, num_pieces));

    std::atomic<std::int64_t> next{0};
    std::atomic<std::int64_t> done{0};
    std::atomic<bool> abort{false};
    std::mutex mu;
    std::condition_variable cv;
    std::string error;
    unsigned running = threads;

    auto worker = [&] {
        try {
            FileReader reader;
            crypto::Sha1 sha;
            std::string buf(static_cast<std::size_t>(piece_len), '\0');
            for (;;) {
                std::int64_t piece = next.fetch_add(1);
                if (piece >= num_pieces || abort) break;
                std::int64_t begin = piece * piece_len;
                std::int64_t len = std::min(piece_len, total - begin);
                // First file holding `begin`: the last one whose offset <= begin with data.
                auto it = std::upper_bound(
                    files.begin(), files.end(), begin,
                    [](std::int64_t v, const InputFile& f) { return v < f.offset; });
                std::int64_t filled = 0;
                for (--it; filled < len; ++it) {
                    std::int64_t pos = begin + filled;
                    if (pos >= it->offset + it->length) continue;
                    std::int64_t n = std::min(len - filled, it->offset + it->length - pos);
                    if (it->pad)
                        std::memset(buf.data() + filled, 0, static_cast<std::size_t>(n));
                    else
                        reader.read(*it, pos - it->offset, buf.data() + filled,
                                    static_cast<std::size_t>(n));
                    filled += n;
                }
                if (v1) {
                    sha.update(buf.data(), static_cast<std::size_t>(len));
                    Sha1Digest d = sha.finish();
                    std::memcpy(hashes.data() + piece * 20, d.bytes.data(), 20);
                }
                if (v2) {
                    const InputFile* f = owner[static_cast<std::size_t>(piece)];
                    std::int64_t data_len = std::min(len, f->offset + f->length - begin);
                    MerkleHasher mh(data_len, piece_leaves(f->length, piece_len));
                    mh.update(buf.data(), static_cast<std::size_t>(data_len));
                    out.v2[static_cast<std::size_t>(piece)] = mh.finish();
                }
                done.fetch_add(1);
                cv.notify_one();
            }
        } catch (const std::exception& e) {
            std::lock_guard lock(mu);
            if (error.empty()) error = e.what();
            abort = true;
        }
        std::lock_guard lock(mu);
        --running;
        cv.notify_one();
    };

    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back(worker);
    std::int64_t reported = -1;
    {
        std::unique_lock lock(mu);
        for (;;) {
            bool finished = running == 0;
            std::int64_t now = done.load();
            if (opts.progress && now != reported && error.empty()) {
                lock.unlock();
                opts.progress(now, num_pieces);
                lock.lock();
                reported = now;
            }
            if (finished) break;
            cv.wait_for(lock, std::chrono::milliseconds(100));
        }
    }
    for (auto& t : pool) t.join();
    if (!error.empty()) fail(error);
    return out;
}

// The BEP 52 file tree, with each file's pieces root, and the piece layers of the files
// larger than one piece.
void add_v2(const std::vector<InputFile>& files, bool multi, const std::string& name,
            std::int64_t piece_len, const PieceHashes& hashes, bencode::Dict& info,
            bencode::Dict& layers) {
    using bencode::Dict;
    Dict tree;
    for (const auto& f : files) {
        if (f.pad) continue;
        Dict entry{{"length", f.length}};
        if (f.length > 0) {
            auto first = static_cast<std::size_t>(f.offset / piece_len);
            auto n = static_cast<std::size_t>((f.length + piece_len - 1) / piece_len);
            std::span<const Sha256Digest> layer(hashes.v2.data() + first, n);
            Sha256Digest root = n == 1 ? layer[0] : root_from_layer(layer, piece_len);
            entry["pieces root"] = std::string(root.view());
            if (n > 1) {
                std::string bytes;
                bytes.reserve(n * 32);
                for (const auto& h : layer) bytes += h.view();
                layers[std::string(root.view())] = std::move(bytes);
            }
        }
        Dict* at = &tree;
        std::vector<std::string> comps = multi ? f.components : std::vector<std::string>{name};
        for (const auto& c : comps) {
            auto& v = (*at)[c];
            if (!std::holds_alternative<Dict>(v.v)) v = Dict{};
            at = &std::get<Dict>(v.v);
        }
        (*at)[""] = std::move(entry);
    }
    info["file tree"] = std::move(tree);
    info["meta version"] = 2;
}

}  // namespace

std::int64_t auto_piece_size(std::int64_t total_size) {
    std::int64_t ps = kMinPiece;
    while (ps < kMaxAutoPiece && total_size / ps > 2000) ps *= 2;
    return ps;
}

std::string create_torrent(const fs::path& path, const CreateOptions& opts) {
    fs::path root = fs::absolute(path).lexically_normal();
    if (!root.has_filename()) root = root.parent_path();  // "dir/" names "dir"
    std::string name = root.filename().string();
    if (name.empty() || name == "." || name == "..")
        fail("cannot name a torrent after " + path.string());

    std::error_code ec;
    auto st = fs::status(root, ec);
    if (ec) fail("cannot access " + path.string() + ": " + ec.message());
    std::vector<InputFile> files;
    bool multi = fs::is_directory(st);
    if (multi) {
        files = walk_directory(root);
        if (files.empty()) fail(path.string() + ": directory contains no files");
    } else if (fs::is_regular_file(st)) {
        InputFile f;
        f.disk_path = root;
        f.length = size_of(root);
        files.push_back(std::move(f));
    } else {
        fail(path.string() + ": not a regular file or directory");
    }

    std::int64_t total = 0;
    for (auto& f : files) {
        if (f.length > std::numeric_limits<std::int64_t>::max() - total)
            fail("total size overflows");
        f.offset = total;
        total += f.length;
    }
    if (total == 0) fail(path.string() + ": no data to share (all files are empty)");

    std::int64_t piece_len = opts.piece_size ? opts.piece_size : auto_piece_size(total);
    if (piece_len <= 0 || piece_len > kMaxPiece)
        fail("piece size " + std::to_string(piece_len) + " out of range (1 to 256 MiB)");
    const bool v2 = opts.format != Format::v1;
    if (v2 && (piece_len < kMinPiece || (piece_len & (piece_len - 1)) != 0))
        fail("a v2 or hybrid torrent needs a power-of-two piece size of at least 16384 bytes");
    if (v2) {
        // BEP 52: each non-empty file starts a piece; BEP 47 pads fill the gaps.
        std::vector<InputFile> laid;
        laid.reserve(files.size() * 2);
        std::int64_t pos = 0;
        for (auto& f : files) {
            if (f.length > 0 && pos % piece_len != 0) {
                InputFile pad;
                pad.pad = true;
                pad.offset = pos;
                pad.length = piece_len - pos % piece_len;
                pad.components = {".pad", std::to_string(pad.length)};
                pos += pad.length;
                laid.push_back(std::move(pad));
            }
            if (f.length > std::numeric_limits<std::int64_t>::max() - pos - piece_len)
                fail("total size overflows");
            f.offset = pos;
            pos += f.length;
            laid.push_back(std::move(f));
        }
        // A hybrid's v1 half ends with a pad to the piece boundary too, as libtorrent 2.0
        // writes it (same info dictionary, so the same info-hashes as libtorrent's).
        if (opts.format == Format::hybrid && multi && pos % piece_len != 0) {
            InputFile pad;
            pad.pad = true;
            pad.offset = pos;
            pad.length = piece_len - pos % piece_len;
            pad.components = {".pad", std::to_string(pad.length)};
            pos += pad.length;
            laid.push_back(std::move(pad));
        }
        files = std::move(laid);
        total = pos;
    }

    PieceHashes hashes = hash_pieces(files, total, piece_len, opts);

    using bencode::Dict;
    using bencode::List;
    Dict info;
    info["name"] = name;
    info["piece length"] = piece_len;
    if (opts.is_private) info["private"] = 1;
    Dict layers;
    if (v2) add_v2(files, multi, name, piece_len, hashes, info, layers);
    if (opts.format != Format::v2) {
        info["pieces"] = std::move(hashes.sha1);
        if (multi) {
            List list;
            for (const auto& f : files) {
                List comps(f.components.begin(), f.components.end());
                Dict entry{{"length", f.length}, {"path", std::move(comps)}};
                if (f.pad) entry["attr"] = "p";
                list.push_back(std::move(entry));
            }
            info["files"] = std::move(list);
        } else {
            info["length"] = total;
        }
    }

    Dict top;
    top["info"] = std::move(info);
    if (v2) top["piece layers"] = std::move(layers);  // BEP 52: required, even when empty
    if (!opts.trackers.empty()) {
        top["announce"] = opts.trackers.front();
        if (opts.trackers.size() > 1) {
            List tiers;
            for (const auto& t : opts.trackers) tiers.push_back(List{t});
            top["announce-list"] = std::move(tiers);
        }
    }
    if (opts.web_seeds.size() == 1) top["url-list"] = opts.web_seeds.front();
    if (opts.web_seeds.size() > 1)
        top["url-list"] = List(opts.web_seeds.begin(), opts.web_seeds.end());
    if (!opts.comment.empty()) top["comment"] = opts.comment;
    if (!opts.created_by.empty()) top["created by"] = opts.created_by;
    if (opts.creation_date != 0) {
        std::int64_t date = opts.creation_date < 0 ? static_cast<std::int64_t>(std::time(nullptr))
                                                   : opts.creation_date;
        top["creation date"] = date;
    }
    return bencode::encode(top);
}

}  // namespace pw::meta
