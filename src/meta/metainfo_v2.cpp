// BEP 52 metainfo: the `file tree`, `piece layers`, the v2 info-hash and the consistency of
// hybrid torrents (BEP 52 "Upgrade Path" with BEP 47 pad files). See metainfo_detail.hpp.
//
// Everything here is controlled by whoever wrote the torrent, so every size is checked
// before it is used: tree depth and file count are bounded, path components may not be
// empty, "." or ".." or hold '/', an empty file has no root, a file larger than a piece
// needs a piece layer of exactly one hash per piece whose Merkle root is the file's
// pieces root, and piece counts are checked before anything is allocated from them.
#include <algorithm>
#include <limits>
#include <map>
#include <string>

#include "meta/merkle.hpp"
#include "meta/metainfo_detail.hpp"

namespace pw::meta {

namespace {

using bencode::Node;
using detail::fail;

constexpr int kMaxTreeDepth = 48;  // directories nested deeper than any real torrent
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

struct TreeFile {
    FileEntry entry;
    std::string shown;  // printable path for error messages
};

// A path component of the tree, refused when it could name something other than a
// child of its directory.
void check_component(std::string_view key, const std::string& where) {
    if (key.empty()) fail("'file tree' has an empty name under '" + where + "'");
    if (key == "." || key == "..")
        fail("'file tree' has a '" + std::string(key) + "' component under '" + where + "'");
    if (key.find('/') != std::string_view::npos || key.find('\\') != std::string_view::npos)
        fail("'file tree' name under '" + where + "' holds a path separator");
}

std::string shown_path(const std::vector<std::string>& comps) {
    std::string out;
    for (const auto& c : comps) out += (out.empty() ? "" : "/") + c;
    return out.empty() ? "/" : out;
}

class TreeWalker {
  public:
    TreeWalker(const ParseLimits& lim) : lim_(lim) {}

    void walk(const Node& dir, std::vector<std::string>& comps, int depth) {
        if (depth > kMaxTreeDepth)
            fail("'file tree' is nested deeper than " + std::to_string(kMaxTreeDepth) + " levels");
        for (const auto& [key, child] : dir.items()) {
            std::string where = shown_path(comps);
            check_component(key, where);
            comps.push_back(sanitize_component(key, lim_.max_path_component));
            if (!child.is_dict())
                fail("'file tree' entry '" + shown_path(comps) + "' is not a dictionary");
            if (Node file = child.find("")) {
                if (child.size() != 1)
                    fail("'file tree' file '" + shown_path(comps) + "' has sibling entries");
                add_file(file, comps);
            } else {
                if (child.size() == 0)
                    fail("'file tree' directory '" + shown_path(comps) + "' is empty");
                walk(child, comps, depth + 1);
            }
            comps.pop_back();
        }
    }

    std::vector<TreeFile> files;

  private:
    void add_file(const Node& f, const std::vector<std::string>& comps) {
        std::string where = "file '" + shown_path(comps) + "'";
        if (!f.is_dict()) fail(where + " is not a dictionary");
        if (files.size() >= lim_.max_files)
            fail("too many files (limit " + std::to_string(lim_.max_files) + ")");
        TreeFile t;
        t.shown = shown_path(comps);
        detail::read_attributes(f, where, lim_.max_path_component, t.entry);
        t.entry.pad = false;  // v2 has no pad files: the tree is the files themselves
        Node len = f.find("length");
        if (!len && !t.entry.symlink) fail(where + " has no 'length'");
        if (len && !len.is_int()) fail(where + " 'length' is not an integer");
        t.entry.length = len ? len.as_int() : 0;
        if (t.entry.length < 0) fail(where + " has a negative length");
        if (t.entry.symlink && t.entry.length != 0) fail(where + " is a symlink with data");
        Node root = f.find("pieces root");
        if (t.entry.length == 0) {
            if (root) fail(where + " is empty but has a 'pieces root'");
        } else {
            if (!root) fail(where + " has no 'pieces root'");
            if (!root.is_string() || root.as_string().size() != 32)
                fail(where + " 'pieces root' is not 32 bytes");
            t.entry.pieces_root = Sha256Digest::from_bytes(root.as_string());
        }
        // Paths are joined by the caller once single- or multi-file is known.
        for (const auto& c : comps) t.entry.path += (t.entry.path.empty() ? "" : "/") + c;
        files.push_back(std::move(t));
    }

    const ParseLimits& lim_;
};

std::int64_t pieces_of(std::int64_t length, std::int64_t pl) {
    return length / pl + (length % pl != 0 ? 1 : 0);
}

// Verifies the piece layer of a file larger than one piece against its root and
// appends its hashes to `out`.
void read_layer(const Node& layers, const TreeFile& t, std::int64_t pl,
                std::vector<Sha256Digest>& out) {
    std::string where = "file '" + t.shown + "'";
    Node layer = layers.find(t.entry.pieces_root.view());
    if (!layer) fail(where + " has no entry in 'piece layers'");
    if (!layer.is_string()) fail(where + " piece layer is not a string");
    std::int64_t n = pieces_of(t.entry.length, pl);
    std::string_view bytes = layer.as_string();
    if (static_cast<std::int64_t>(bytes.size() / 32) != n || bytes.size() % 32 != 0)
        fail(where + " piece layer holds " + std::to_string(bytes.size()) + " bytes, expected " +
             std::to_string(n) + " hashes of 32 bytes");
    std::vector<Sha256Digest> hashes;
    hashes.reserve(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < bytes.size(); i += 32)
        hashes.push_back(Sha256Digest::from_bytes(bytes.substr(i, 32)));
    if (root_from_layer(hashes, pl) != t.entry.pieces_root)
        fail(where + " piece layer does not match its 'pieces root'");
    out.insert(out.end(), hashes.begin(), hashes.end());
}

// Compares the v1 file list of a hybrid (m.files, with pads) with the v2 tree, file by
// file, and the piece-aligned offsets the v2 layout gives.
void check_hybrid(const Metainfo& m, const std::vector<TreeFile>& tree,
                  const std::vector<std::int64_t>& offsets) {
    std::size_t k = 0;
    for (const FileEntry& f : m.files) {
        if (f.pad) continue;
        if (k == tree.size())
            fail("hybrid torrent's v1 and v2 halves disagree: the v1 list has more files");
        const FileEntry& t = tree[k].entry;
        std::string at = " at file " + std::to_string(k) + " ('" + tree[k].shown + "')";
        if (f.path != t.path) fail("hybrid torrent's v1 and v2 halves disagree on the path" + at);
        if (f.length != t.length)
            fail("hybrid torrent's v1 and v2 halves disagree on the length" + at);
        if (f.length > 0 && f.offset != offsets[k])
            fail("hybrid torrent's v1 and v2 halves disagree on the piece alignment" + at);
        ++k;
    }
    if (k != tree.size())
        fail("hybrid torrent's v1 and v2 halves disagree: the v2 tree has more files");
}

}  // namespace

namespace detail {

void read_attributes(const Node& dict, const std::string& where, std::size_t max_len,
                     FileEntry& f) {
    auto attr = dict.find_string("attr");
    if (!attr) return;
    f.pad = attr->find('p') != std::string_view::npos;
    f.executable = attr->find('x') != std::string_view::npos;
    f.hidden = attr->find('h') != std::string_view::npos;
    f.symlink = attr->find('l') != std::string_view::npos;
    if (!f.symlink) return;
    Node target = dict.find("symlink path");
    if (!target.is_list() || target.size() == 0)
        fail(where + " is a symlink without a 'symlink path' list");
    for (const Node& c : target.elements()) {
        if (!c.is_string()) fail(where + " 'symlink path' has a component that is not a string");
        std::string_view s = c.as_string();
        if (s.empty() || s == "." || s == ".." || s.find('/') != std::string_view::npos ||
            s.find('\\') != std::string_view::npos)
            fail(where + " 'symlink path' leaves the torrent");
        f.symlink_target += (f.symlink_target.empty() ? "" : "/") + sanitize_component(s, max_len);
    }
}

void parse_v2(const Node& info, const Node& layers, const ParseLimits& lim, Metainfo& m) {
    m.info_hash_v2 = crypto::sha256(info.raw());
    if (m.format == Format::v2) m.info_hash = m.info_hash_v2->truncated();

    Node tree = info.find("file tree");
    if (!tree) fail("v2 'info' has no 'file tree'");
    if (!tree.is_dict()) fail("'file tree' is not a dictionary");
    if (tree.size() == 0) fail("'file tree' is empty");
    if (tree.find("")) fail("'file tree' root is a file");
    TreeWalker walker(lim);
    std::vector<std::string> comps;
    walker.walk(tree, comps, 0);
    std::vector<TreeFile>& files = walker.files;

    // BEP 52: {name: {"": ...}} alone is a single-file torrent; anything else is rooted
    // in the torrent's name (which is what libtorrent does too).
    bool single =
        tree.size() == 1 && files.size() == 1 && files[0].entry.path.find('/') == std::string::npos;
    for (auto& t : files) t.entry.path = single ? m.name : m.name + "/" + t.entry.path;
    if (!single) {
        std::vector<FileEntry> entries;
        entries.reserve(files.size());
        for (auto& t : files) entries.push_back(std::move(t.entry));
        make_paths_unique(entries, lim.max_path_component);
        for (std::size_t i = 0; i < files.size(); ++i) files[i].entry = std::move(entries[i]);
    }

    // Piece-aligned offsets of the v2 layout.
    const std::int64_t pl = m.piece_length;
    std::vector<std::int64_t> offsets(files.size());
    std::int64_t pos = 0;     // end of the data so far
    std::int64_t pieces = 0;  // pieces so far
    for (std::size_t i = 0; i < files.size(); ++i) {
        std::int64_t len = files[i].entry.length;
        if (len == 0) {
            offsets[i] = pos;
            continue;
        }
        if (pieces > (kMax - len) / pl - 1) fail("total size overflows");
        offsets[i] = pieces * pl;
        pieces += pieces_of(len, pl);
        pos = offsets[i] + len;
        if (pieces > std::numeric_limits<int>::max()) fail("too many pieces");
    }
    if (pieces == 0) fail("torrent has no data");

    if (m.format == Format::hybrid) {
        if (m.multi_file == single)
            fail("hybrid torrent's v1 and v2 halves disagree on single- or multi-file");
        check_hybrid(m, files, offsets);
        if (m.num_pieces() != pieces)
            fail("hybrid torrent's v1 and v2 halves disagree on the number of pieces (" +
                 std::to_string(m.num_pieces()) + " and " + std::to_string(pieces) + ")");
        // Carry the v2 facts over to the matching v1 entries.
        std::size_t k = 0;
        for (auto& f : m.files) {
            if (f.pad) continue;
            f.pieces_root = files[k].entry.pieces_root;
            ++k;
        }
    } else {
        m.multi_file = !single;
        m.files.clear();
        m.files.reserve(files.size() * 2);
        std::int64_t end = 0;
        for (std::size_t i = 0; i < files.size(); ++i) {
            FileEntry& f = files[i].entry;
            if (f.length > 0 && offsets[i] > end) {
                FileEntry pad;
                pad.length = offsets[i] - end;
                pad.path = m.name + "/.pad/" + std::to_string(pad.length);
                pad.offset = end;
                pad.pad = true;
                m.files.push_back(std::move(pad));
            }
            f.offset = f.length > 0 ? offsets[i] : end;
            if (f.length > 0) end = offsets[i] + f.length;
            m.files.push_back(std::move(f));
        }
        m.total_size = end;
    }

    // Spans of the non-empty files in piece space, and the piece hashes.
    m.v2_spans.clear();
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        const FileEntry& f = m.files[i];
        if (f.pad || f.length == 0) continue;
        m.v2_spans.push_back({static_cast<int>(i), f.length, static_cast<int>(f.offset / pl),
                              static_cast<int>(pieces_of(f.length, pl))});
    }
    bool need_layers = false;
    for (const auto& t : files) need_layers = need_layers || t.entry.length > pl;
    if (need_layers && !layers) {
        if (m.format == Format::hybrid) return;  // from a magnet: verified by its v1 hashes
        if (lim.allow_missing_layers) return;     // from a btmh magnet: layers come later
        fail("v2 torrent has no 'piece layers'");
    }
    if (need_layers && !layers.is_dict()) fail("'piece layers' is not a dictionary");
    std::vector<Sha256Digest> hashes;
    hashes.reserve(static_cast<std::size_t>(pieces));
    for (const auto& t : files) {
        if (t.entry.length == 0) continue;
        if (t.entry.length <= pl)
            hashes.push_back(t.entry.pieces_root);
        else
            read_layer(layers, t, pl, hashes);
    }
    m.piece_hashes_v2 = std::move(hashes);
}

}  // namespace detail

std::string encode_piece_layers(const Metainfo& m) {
    if (m.piece_hashes_v2.empty()) return {};
    std::map<Sha256Digest, std::string> layers;  // sorted keys, as bencoding wants
    for (const auto& s : m.v2_spans) {
        if (s.num_pieces < 2) continue;
        std::string bytes;
        bytes.reserve(static_cast<std::size_t>(s.num_pieces) * 32);
        for (int i = 0; i < s.num_pieces; ++i)
            bytes += m.piece_hashes_v2[static_cast<std::size_t>(s.first_piece + i)].view();
        layers.emplace(m.files[static_cast<std::size_t>(s.file)].pieces_root, std::move(bytes));
    }
    if (layers.empty()) return {};
    std::string out = "d";
    for (const auto& [root, bytes] : layers) {
        bencode::put_string(out, root.view());
        bencode::put_string(out, bytes);
    }
    return out + "e";
}

V2PieceShape Metainfo::v2_piece(int piece) const {
    auto it = std::upper_bound(v2_spans.begin(), v2_spans.end(), piece,
                               [](int p, const V2Span& s) { return p < s.first_piece; });
    if (it == v2_spans.begin()) return {};
    --it;
    std::int64_t into = static_cast<std::int64_t>(piece - it->first_piece) * piece_length;
    if (piece >= it->first_piece + it->num_pieces) return {};
    return {std::min(piece_length, it->length - into), piece_leaves(it->length, piece_length)};
}

}  // namespace pw::meta
