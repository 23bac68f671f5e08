// Fast-resume records. See resume.hpp for the contract.
//
// Format (bencoded dictionary, keys in BEP 3 order):
//   "files":     [[size, mtime_ns], ...]  one per metainfo file; size -1 when missing
//   "info-hash": 20 bytes
//   "parts":     [size, mtime_ns] of the parts file (optional; size -1 when missing)
//   "priorities": [p, ...] file priorities 0..7 (optional)
//   "pieces":    bitfield, piece 0 in the high bit of the first byte, as in the BEP 3
//                'bitfield' message; spare bits are zero
//   "save-path": the download directory
//   "version":   1
#include "storage/resume.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <iterator>

#include "bencode/bencode.hpp"
#include "storage/storage.hpp"

namespace pw::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kVersion = 1;
constexpr std::uintmax_t kMaxResumeFile = 256u << 20;

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (n == 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// The path as an absolute, normalised string, resolving symlinks of the parts that exist.
std::string canonical_string(const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) return p.lexically_normal().string();
    fs::path c = fs::weakly_canonical(abs, ec);
    if (ec) c = abs.lexically_normal();
    std::string s = c.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

}  // namespace

std::vector<FileStamp> stamp_files(const std::vector<meta::FileEntry>& files,
                                   const fs::path& root) {
    std::vector<FileStamp> out;
    out.reserve(files.size());
    for (const auto& f : files) {
        FileStamp s;
        if (f.pad) {
            // Pad files never exist on disk (BEP 47): a constant stamp.
            s.size = 0;
        } else if (struct stat st; ::stat(stored_path(root / f.path).c_str(), &st) == 0) {
            s.size = st.st_size;
            s.mtime_ns =
                static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
        }
        out.push_back(s);
    }
    return out;
}

FileStamp stamp_file(const fs::path& p) {
    FileStamp s;
    if (struct stat st; ::stat(p.c_str(), &st) == 0) {
        s.size = st.st_size;
        s.mtime_ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    return s;
}

std::string encode_resume(const ResumeData& r) {
    std::string bits((r.have.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < r.have.size(); ++i)
        if (r.have[i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (0x80 >> (i % 8)));

    bencode::List files;
    files.reserve(r.files.size());
    for (const auto& s : r.files) files.emplace_back(bencode::List{s.size, s.mtime_ns});

    bencode::Dict d;
    d["files"] = std::move(files);
    d["info-hash"] = std::string(r.info_hash.view());
    if (r.parts.size >= 0) d["parts"] = bencode::List{r.parts.size, r.parts.mtime_ns};
    if (!r.priorities.empty()) {
        bencode::List prios;
        for (int p : r.priorities) prios.emplace_back(std::int64_t(p));
        d["priorities"] = std::move(prios);
    }
    d["pieces"] = std::move(bits);
    d["save-path"] = r.save_path;
    d["version"] = kVersion;
    return bencode::encode(d);
}

std::optional<ResumeData> decode_resume(std::string_view bytes, int num_pieces) {
    if (num_pieces < 0) return std::nullopt;
    bencode::Document doc;
    try {
        doc = bencode::decode(bytes);
    } catch (const bencode::DecodeError&) {
        return std::nullopt;
    }
    bencode::Node root = doc.root();
    if (!root.is_dict()) return std::nullopt;
    if (root.find_int("version") != kVersion) return std::nullopt;

    ResumeData r;
    auto hash = root.find_string("info-hash");
    if (!hash || hash->size() != 20) return std::nullopt;
    r.info_hash = Sha1Digest::from_bytes(*hash);

    auto save = root.find_string("save-path");
    if (!save || save->empty()) return std::nullopt;
    r.save_path = std::string(*save);

    auto bits = root.find_string("pieces");
    auto n = static_cast<std::size_t>(num_pieces);
    if (!bits || bits->size() != (n + 7) / 8) return std::nullopt;
    r.have.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        r.have[i] = (static_cast<unsigned char>((*bits)[i / 8]) & (0x80 >> (i % 8))) != 0;
    if (n % 8 != 0) {
        auto spare = static_cast<unsigned char>(bits->back()) & (0xff >> (n % 8));
        if (spare != 0) return std::nullopt;
    }

    bencode::Node files = root.find("files");
    if (!files.is_list()) return std::nullopt;
    for (const auto& f : files.elements()) {
        if (!f.is_list() || f.size() != 2) return std::nullopt;
        bencode::Node size = f.at(0), mtime = f.at(1);
        if (!size.is_int() || !mtime.is_int() || size.as_int() < -1) return std::nullopt;
        r.files.push_back({size.as_int(), mtime.as_int()});
    }
    if (bencode::Node parts = root.find("parts"); parts) {
        if (!parts.is_list() || parts.size() != 2 || !parts.at(0).is_int() ||
            !parts.at(1).is_int() || parts.at(0).as_int() < -1)
            return std::nullopt;
        r.parts = {parts.at(0).as_int(), parts.at(1).as_int()};
    }
    if (bencode::Node prios = root.find("priorities"); prios) {
        if (!prios.is_list() || prios.size() != r.files.size()) return std::nullopt;
        for (const auto& p : prios.elements()) {
            if (!p.is_int() || p.as_int() < 0 || p.as_int() > 7) return std::nullopt;
            r.priorities.push_back(static_cast<int>(p.as_int()));
        }
    }
    return r;
}

bool save_resume_file(const fs::path& file, const ResumeData& r) {
    std::error_code ec;
    fs::path dir = file.parent_path();
    if (!dir.empty()) {
        fs::create_directories(dir, ec);
        if (ec) return false;
    }
    static std::atomic<unsigned> counter{0};
    fs::path tmp = file;
    tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);

    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    bool ok = write_all(fd, encode_resume(r)) && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (ok) ok = ::rename(tmp.c_str(), file.c_str()) == 0;
    if (!ok) {
        ::unlink(tmp.c_str());
        return false;
    }
    // Make the rename itself durable.
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

std::optional<ResumeData> load_resume_file(const fs::path& file, int num_pieces) {
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    if (ec || size > kMaxResumeFile) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || bytes.size() > kMaxResumeFile) return std::nullopt;
    return decode_resume(bytes, num_pieces);
}

bool resume_matches(const ResumeData& r, const meta::Metainfo& m, const fs::path& root) {
    if (r.info_hash != m.info_hash) return false;
    if (r.have.size() != static_cast<std::size_t>(m.num_pieces())) return false;
    if (r.files.size() != m.files.size()) return false;
    if (canonical_string(r.save_path) != canonical_string(root)) return false;
    auto now = stamp_files(m.files, root);
    for (std::size_t i = 0; i < now.size(); ++i)
        if (now[i].size != r.files[i].size || now[i].mtime_ns != r.files[i].mtime_ns) return false;
    return true;
}

bool resume_matches(const ResumeData& r, const meta::Metainfo& m, const fs::path& root,
                    const fs::path& parts_file) {
    if (!resume_matches(r, m, root)) return false;
    auto now = stamp_file(parts_file);
    if (now.size < 0 && r.parts.size < 0) return true;
    return now.size == r.parts.size && now.mtime_ns == r.parts.mtime_ns;
}

std::optional<std::vector<signed char>> resume_plan(const ResumeData& r, const meta::Metainfo& m,
                                                    const std::vector<FileStamp>& now,
                                                    const fs::path& root, const FileStamp& parts_now) {
    const auto n = static_cast<std::size_t>(m.num_pieces());
    if (r.info_hash != m.info_hash || r.have.size() != n || r.files.size() != m.files.size() ||
        now.size() != m.files.size() || m.piece_length <= 0)
        return std::nullopt;
    if (canonical_string(r.save_path) != canonical_string(root)) return std::nullopt;
    // The parts file holds bytes of several files' boundary pieces: when it changed, the
    // record cannot say which pieces it still vouches for.
    if ((parts_now.size >= 0 || r.parts.size >= 0) &&
        (parts_now.size != r.parts.size || parts_now.mtime_ns != r.parts.mtime_ns))
        return std::nullopt;
    std::vector<signed char> plan(n);
    for (std::size_t p = 0; p < n; ++p) plan[p] = r.have[p] ? 1 : 0;
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        const auto& f = m.files[i];
        if (f.pad || f.length == 0) continue;
        if (now[i].size == r.files[i].size && now[i].mtime_ns == r.files[i].mtime_ns) continue;
        const auto first = static_cast<std::size_t>(f.offset / m.piece_length);
        const auto last = static_cast<std::size_t>((f.offset + f.length - 1) / m.piece_length);
        for (std::size_t p = first; p <= last && p < n; ++p) plan[p] = -1;
    }
    return plan;
}

}  // namespace pw::storage
