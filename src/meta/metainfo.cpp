// Metainfo v1 parsing and validation: BEP 3 (info dictionary), BEP 12 (announce-list),
// BEP 19 (url-list), BEP 27 (private), BEP 47 (padding files, `attr`).
//
// The info-hash is the SHA-1 of the `info` value's exact bytes as they appear in the
// input. Every path that leaves this file is relative, '/'-separated and free of "..",
// empty and "." components: file paths are a security boundary.
#include "meta/metainfo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "bencode/bencode.hpp"
#include "meta/metainfo_detail.hpp"
#include "meta/url_list.hpp"

namespace pw::meta {

namespace {

using bencode::Node;

constexpr std::size_t kMaxTorrentFile = 64u << 20;

[[noreturn]] void fail(const std::string& why) {
    throw MetainfoError("torrent: " + why);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3f);
    }
    static constexpr std::array<std::uint32_t, 5> kMin{0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

// Largest prefix length <= max that does not split a UTF-8 sequence. The input is
// already valid UTF-8 (sanitize_component replaces invalid bytes first).
std::size_t utf8_cut(std::string_view s, std::size_t max) {
    if (s.size() <= max) return s.size();
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    return n;
}

// Free text (comments) with every invalid UTF-8 byte replaced by U+FFFD.
std::string valid_utf8(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        if (std::size_t n = utf8_sequence(in, i)) {
            out.append(in.substr(i, n));
            i += n;
        } else {
            out += "\xef\xbf\xbd";
            ++i;
        }
    }
    return out;
}

void trim_dots_spaces(std::string& s) {
    while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
}

bool is_reserved_windows_name(std::string_view stem) {
    std::string up;
    for (char c : stem) up += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    static constexpr std::array<std::string_view, 4> kPlain{"CON", "PRN", "AUX", "NUL"};
    if (std::find(kPlain.begin(), kPlain.end(), up) != kPlain.end()) return true;
    return up.size() == 4 && (up.starts_with("COM") || up.starts_with("LPT")) && up[3] >= '1' &&
           up[3] <= '9';
}

// Splits a component into stem and extension (".ext"). A leading dot is part of the
// stem (".bashrc" has no extension); very long "extensions" are not treated as one.
std::pair<std::string, std::string> split_extension(const std::string& c, std::size_t max_len) {
    std::size_t dot = c.rfind('.');
    if (dot == std::string::npos || dot == 0 ||
        c.size() - dot > std::min<std::size_t>(max_len / 2, 32))
        return {c, {}};
    return {c.substr(0, dot), c.substr(dot)};
}

// Joins stem and extension, shortening the stem so the result fits in max_len bytes.
std::string fit(std::string stem, const std::string& ext, std::size_t max_len) {
    std::size_t room = max_len > ext.size() ? max_len - ext.size() : 1;
    stem.resize(utf8_cut(stem, room));
    trim_dots_spaces(stem);
    if (stem.empty()) stem = "_";
    return stem + ext;
}

// URLs must be printable ASCII (RFC 3986); anything else is dropped, not repaired.
bool has_scheme(std::string_view u, std::string_view scheme) {
    if (u.size() <= scheme.size()) return false;
    for (char c : u)
        if (c <= 0x20 || c >= 0x7f) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(u[i])) != scheme[i]) return false;
    return true;
}

bool is_web_seed_url(std::string_view u) {
    return has_scheme(u, "http://") || has_scheme(u, "https://");
}

bool is_tracker_url(std::string_view u) {
    return is_web_seed_url(u) || has_scheme(u, "udp://");
}

// Prefers the BEP-unofficial but widespread "<key>.utf-8" variant when it is a string.
std::optional<std::string_view> utf8_string(const Node& dict, std::string_view key) {
    if (auto s = dict.find_string(std::string(key) + ".utf-8")) return s;
    return dict.find_string(key);
}

std::int64_t require_int(const Node& dict, std::string_view key, const std::string& where) {
    Node n = dict.find(key);
    if (!n) fail(where + " has no '" + std::string(key) + "'");
    if (!n.is_int()) fail(where + " '" + std::string(key) + "' is not an integer");
    return n.as_int();
}

// Turns a path list (BEP 3 `path`) into sanitized components appended to `out`.
void append_components(const Node& list, const std::string& where, std::size_t max_len,
                       std::string& out) {
    bool any = false;
    for (const Node& c : list.elements()) {
        if (!c.is_string()) fail(where + " path has a component that is not a string");
        std::string s = sanitize_component(c.as_string(), max_len);
        if (s.empty()) continue;
        out += '/';
        out += s;
        any = true;
    }
    if (!any) out += "/_";
}

// Inserts ".N" before the extension of a component.
std::string numbered(const std::string& component, int n, std::size_t max_len) {
    auto [stem, ext] = split_extension(component, max_len);
    return fit(std::move(stem), "." + std::to_string(n) + ext, max_len);
}

// A name inside a directory: (directory id, component). Id 0 is the download directory.
struct Entry {
    std::uint32_t parent;
    std::string_view name;
    bool operator==(const Entry&) const = default;
};

struct EntryHash {
    std::size_t operator()(const Entry& e) const noexcept {
        return std::hash<std::string_view>()(e.name) * 31 + e.parent;
    }
};

// Makes every non-pad file path unique, and distinct from every directory that holds
// another file, by numbering later duplicates. Directories are interned as
// (parent, name) pairs so the work stays linear in the total path length.
void make_paths_unique(std::vector<FileEntry>& files, std::size_t max_len) {
    std::unordered_map<Entry, std::uint32_t, EntryHash> dirs;
    std::vector<std::pair<std::uint32_t, std::size_t>> leaf(files.size());  // parent, name start
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (files[i].pad) continue;
        std::string_view p = files[i].path;
        std::uint32_t parent = 0;
        std::size_t start = 0;
        for (std::size_t slash = p.find('/'); slash != p.npos; slash = p.find('/', start)) {
            Entry e{parent, p.substr(start, slash - start)};
            parent = dirs.try_emplace(e, static_cast<std::uint32_t>(dirs.size() + 1)).first->second;
            start = slash + 1;
        }
        leaf[i] = {parent, start};
    }
    std::unordered_set<Entry, EntryHash> taken;
    std::unordered_map<Entry, int, EntryHash> next_number;
    std::deque<std::string> new_names;  // stable storage for the views in `taken`
    std::vector<std::pair<std::size_t, std::string_view>> renames;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (files[i].pad) continue;
        auto [parent, start] = leaf[i];
        Entry e{parent, std::string_view(files[i].path).substr(start)};
        if (taken.count(e) || dirs.count(e)) {
            int& n = next_number[e];
            Entry candidate;
            do {
                new_names.push_back(numbered(std::string(e.name), ++n, max_len));
                candidate = Entry{parent, new_names.back()};
            } while (taken.count(candidate) || dirs.count(candidate));
            renames.emplace_back(i, candidate.name);
            e = candidate;
        }
        taken.insert(e);
    }
    for (auto& [i, name] : renames) files[i].path = files[i].path.substr(0, leaf[i].second) += name;
}

std::vector<std::vector<std::string>> parse_trackers(const Node& root) {
    std::vector<std::vector<std::string>> tiers;
    std::set<std::string_view> seen;
    Node list = root.find("announce-list");
    for (const Node& tier_node : list.elements()) {
        std::vector<std::string> tier;
        for (const Node& u : tier_node.elements()) {
            if (!u.is_string() || !is_tracker_url(u.as_string())) continue;
            if (!seen.insert(u.as_string()).second) continue;
            tier.emplace_back(u.as_string());
        }
        if (!tier.empty()) tiers.push_back(std::move(tier));
    }
    if (tiers.empty()) {
        auto a = root.find_string("announce");
        if (a && is_tracker_url(*a)) tiers.push_back({std::string(*a)});
    }
    return tiers;
}

void parse_files(const Node& info, const ParseLimits& lim, Metainfo& m) {
    Node length = info.find("length");
    Node files = info.find("files");
    if (length && files) fail("'info' has both 'length' and 'files'");
    if (!length && !files) fail("'info' has neither 'length' nor 'files'");

    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    if (length) {
        if (!length.is_int()) fail("'info' 'length' is not an integer");
        if (length.as_int() < 0) fail("'info' 'length' is negative");
        m.multi_file = false;
        FileEntry f;
        f.path = m.name;
        f.length = length.as_int();
        detail::read_attributes(info, "'info'", lim.max_path_component, f);
        m.files.push_back(std::move(f));
        m.total_size = length.as_int();
        return;
    }

    if (!files.is_list()) fail("'info' 'files' is not a list");
    std::size_t count = files.size();
    if (count == 0) fail("'info' 'files' is empty");
    if (count > lim.max_files)
        fail("too many files (" + std::to_string(count) + ", limit " +
             std::to_string(lim.max_files) + ")");
    m.multi_file = true;
    m.files.reserve(count);
    std::int64_t total = 0;
    std::size_t index = 0;
    for (const Node& fn : files.elements()) {
        std::string where = "file " + std::to_string(index++);
        if (!fn.is_dict()) fail(where + " is not a dictionary");
        FileEntry f;
        detail::read_attributes(fn, where, lim.max_path_component, f);
        Node len = fn.find("length");
        if (len || !f.symlink) f.length = require_int(fn, "length", where);
        if (f.length < 0) fail(where + " has a negative length");
        if (f.length > kMax - total) fail("total size overflows");
        f.offset = total;
        total += f.length;

        Node path = fn.find("path.utf-8");
        if (!path.is_list() || path.size() == 0) path = fn.find("path");
        f.path = m.name;
        if (!path && f.pad) {
            f.path += "/.pad/" + std::to_string(f.length);
        } else {
            if (!path) fail(where + " has no 'path'");
            if (!path.is_list()) fail(where + " 'path' is not a list");
            if (path.size() == 0) fail(where + " has an empty 'path'");
            append_components(path, where, lim.max_path_component, f.path);
        }
        m.files.push_back(std::move(f));
    }
    m.total_size = total;
    make_paths_unique(m.files, lim.max_path_component);
}

Metainfo parse_info_node(const Node& info, const Node& layers, const ParseLimits& lim) {
    if (!info.is_dict()) fail("'info' is not a dictionary");
    Metainfo m;
    m.info_bytes = std::string(info.raw());
    m.info_hash = crypto::sha1(info.raw());
    // BEP 52: the version is checked before anything else so that a newer format is
    // reported as such rather than as some other malformation.
    bool v2 = false;
    if (Node mv = info.find("meta version")) {
        if (!mv.is_int()) fail("'meta version' is not an integer");
        if (mv.as_int() != 2)
            fail("unsupported 'meta version' " + std::to_string(mv.as_int()) +
                 " (this client reads versions 1 and 2)");
        v2 = true;
    }

    Node name = info.find("name");
    if (name && !name.is_string()) fail("'info' 'name' is not a string");
    auto name_text = utf8_string(info, "name");
    if (!name_text) fail("'info' has no 'name'");
    m.name = sanitize_component(*name_text, lim.max_path_component);
    if (m.name.empty()) m.name = "_";

    std::int64_t pl = require_int(info, "piece length", "'info'");
    if (pl <= 0) fail("'piece length' must be positive (got " + std::to_string(pl) + ")");
    if (pl > lim.max_piece_length)
        fail("'piece length' " + std::to_string(pl) + " exceeds the limit of " +
             std::to_string(lim.max_piece_length));
    m.piece_length = pl;

    Node pieces = info.find("pieces");
    if (v2 && (pl < (16 << 10) || (pl & (pl - 1)) != 0))
        fail("'piece length' " + std::to_string(pl) +
             " of a v2 torrent is not a power of two of at least 16384");
    if (v2 && !pieces) {
        m.format = Format::v2;
        detail::parse_v2(info, layers, lim, m);
        Node priv = info.find("private");
        m.is_private = priv.is_int() && priv.as_int() == 1;
        return m;
    }
    if (!pieces) fail("'info' has no 'pieces'");
    if (!pieces.is_string()) fail("'info' 'pieces' is not a string");
    std::string_view ph = pieces.as_string();
    if (ph.size() % 20 != 0)
        fail("'pieces' length " + std::to_string(ph.size()) + " is not a multiple of 20");

    parse_files(info, lim, m);
    if (m.total_size == 0) fail("torrent has no data");
    std::int64_t expected = m.total_size / pl + (m.total_size % pl != 0 ? 1 : 0);
    if (static_cast<std::int64_t>(ph.size() / 20) != expected)
        fail("'pieces' holds " + std::to_string(ph.size() / 20) + " hashes but " +
             std::to_string(m.total_size) + " bytes in pieces of " + std::to_string(pl) + " need " +
             std::to_string(expected));
    m.piece_hashes.reserve(ph.size() / 20);
    for (std::size_t i = 0; i < ph.size(); i += 20)
        m.piece_hashes.push_back(Sha1Digest::from_bytes(ph.substr(i, 20)));
    if (v2) {
        m.format = Format::hybrid;
        detail::parse_v2(info, layers, lim, m);
    }

    Node priv = info.find("private");
    m.is_private = priv.is_int() && priv.as_int() == 1;
    return m;
}

}  // namespace

namespace detail {

void fail(const std::string& why) {
    meta::fail(why);
}

void make_paths_unique(std::vector<FileEntry>& files, std::size_t max_len) {
    meta::make_paths_unique(files, max_len);
}

}  // namespace detail

const char* format_name(Format f) {
    switch (f) {
        case Format::v2:
            return "v2";
        case Format::hybrid:
            return "hybrid";
        case Format::v1:
            break;
    }
    return "v1";
}

std::string sanitize_component(std::string_view in, std::size_t max_len) {
    if (max_len == 0) max_len = 1;
    if (in.empty() || in == ".") return {};
    if (in == "..") return "_";
    std::string s;
    s.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        auto c = static_cast<unsigned char>(in[i]);
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') {
            s += '_';
            ++i;
        } else if (std::size_t n = utf8_sequence(in, i)) {
            s.append(in.substr(i, n));
            i += n;
        } else {
            s += '_';  // a byte that is not valid UTF-8
            ++i;
        }
    }
    trim_dots_spaces(s);
    if (s.empty()) return "_";
    if (s.size() > max_len) {
        auto [stem, ext] = split_extension(s, max_len);
        s = fit(std::move(stem), ext, max_len);
    }
    std::size_t dot = s.find('.');
    if (is_reserved_windows_name(std::string_view(s).substr(0, dot)))
        s = dot == std::string::npos ? s + "_" : s.substr(0, dot) + "_" + s.substr(dot);
    return s;
}

std::int64_t Metainfo::piece_size(int piece) const {
    if (piece < 0 || piece >= num_pieces()) return 0;
    if (format == Format::v2 && !v2_spans.empty()) return v2_piece(piece).data_len;
    if (piece < num_pieces() - 1) return piece_length;
    return total_size - piece_length * static_cast<std::int64_t>(num_pieces() - 1);
}

Metainfo parse(std::string_view torrent_file, const ParseLimits& lim) {
    bencode::Document doc;
    try {
        doc = bencode::decode(torrent_file);
    } catch (const bencode::DecodeError& e) {
        fail(e.what());
    }
    Node root = doc.root();
    if (!root.is_dict()) fail("top level is not a dictionary");
    Node info = root.find("info");
    if (!info) fail("'info' dictionary missing");
    Metainfo m = parse_info_node(info, root.find("piece layers"), lim);
    m.trackers = parse_trackers(root);
    m.url_list = parse_url_list(root).urls;
    if (auto c = utf8_string(root, "comment")) m.comment = valid_utf8(*c);
    if (auto c = root.find_string("created by")) m.created_by = valid_utf8(*c);
    if (auto d = root.find_int("creation date")) m.creation_date = *d;
    return m;
}

Metainfo parse_info(std::string_view info_dict, const ParseLimits& lim) {
    bencode::Document doc;
    try {
        doc = bencode::decode(info_dict);
    } catch (const bencode::DecodeError& e) {
        fail(e.what());
    }
    return parse_info_node(doc.root(), Node(), lim);
}

Metainfo load(const std::filesystem::path& file) {
    auto io_fail = [&](const std::string& why) -> MetainfoError {
        return MetainfoError("cannot read " + file.string() + ": " + why);
    };
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_fail(std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw io_fail(std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw io_fail(std::strerror(EISDIR));
    std::string data;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw io_fail(std::strerror(errno));
        }
        if (n == 0) break;
        if (data.size() + static_cast<std::size_t>(n) > kMaxTorrentFile)
            throw io_fail("file larger than 64 MiB");
        data.append(buf, static_cast<std::size_t>(n));
    }
    return parse(data);
}

}  // namespace pw::meta
