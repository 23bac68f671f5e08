// BEP 52 / BEP 47 metainfo: libtorrent-made v2 and hybrid torrents (tests/unit/data/v2,
// made by lt.create_torrent 2.0.8 over files of data(n, seed)), piece verification, and
// every hostile variation of the file tree, piece layers and hybrid halves.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bencode/bencode.hpp"
#include "meta/magnet.hpp"
#include "meta/merkle.hpp"
#include "meta/metainfo.hpp"
#include "meta/piece_hasher.hpp"

namespace pw::meta {
namespace {

using bencode::Dict;
using bencode::List;

std::string data(std::size_t n, int seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed * 13) % 251);
    return s;
}

std::string read(const std::string& name) {
    std::ifstream f(std::string(PW_UNIT_DATA_DIR) + "/v2/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// The files of multi_*.torrent in tree order: (path under "multi/", size, seed).
struct LtFile {
    const char* path;
    std::size_t size;
    int seed;
};
const LtFile kMulti[] = {{"a/empty.bin", 0, 0}, {"a/small.bin", 1000, 1}, {"b.bin", 16384, 2},
                         {"c.bin", 40000, 3},   {"d.bin", 100000, 4},     {"e.bin", 65536, 5}};

// The torrent's byte stream (pads as zeros) built from the file list.
std::string stream_of(const Metainfo& m) {
    std::string out(static_cast<std::size_t>(m.total_size), '\0');
    for (const auto& f : m.files) {
        if (f.pad) continue;
        for (const auto& lf : kMulti)
            if (f.path == std::string("multi/") + lf.path)
                out.replace(static_cast<std::size_t>(f.offset), lf.size, data(lf.size, lf.seed));
    }
    return out;
}

TEST(MetainfoV2, LibtorrentV2Only) {
    Metainfo m = parse(read("multi_v2.torrent"));
    EXPECT_EQ(m.format, Format::v2);
    ASSERT_TRUE(m.info_hash_v2);
    EXPECT_EQ(m.info_hash_v2->hex(),
              "adc579a98ace7c26ed6c08f39fb28d743f86d8d19f4d86024ec8cef2f5792582");
    EXPECT_EQ(m.info_hash, m.info_hash_v2->truncated());
    EXPECT_TRUE(m.piece_hashes.empty());
    EXPECT_EQ(m.num_pieces(), 10);
    EXPECT_EQ(m.total_size, 327680 - 65536 + 65536);
    EXPECT_TRUE(m.multi_file);
    // Same layout as libtorrent's file_storage: pads after every file but the last.
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t, bool>> want = {
        {"multi/a/empty.bin", 0, 0, false},        {"multi/a/small.bin", 1000, 0, false},
        {"multi/.pad/31768", 31768, 1000, true},   {"multi/b.bin", 16384, 32768, false},
        {"multi/.pad/16384", 16384, 49152, true},  {"multi/c.bin", 40000, 65536, false},
        {"multi/.pad/25536", 25536, 105536, true}, {"multi/d.bin", 100000, 131072, false},
        {"multi/.pad/31072", 31072, 231072, true}, {"multi/e.bin", 65536, 262144, false}};
    ASSERT_EQ(m.files.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(m.files[i].path, std::get<0>(want[i]));
        EXPECT_EQ(m.files[i].length, std::get<1>(want[i]));
        EXPECT_EQ(m.files[i].offset, std::get<2>(want[i]));
        EXPECT_EQ(m.files[i].pad, std::get<3>(want[i]));
    }
    EXPECT_EQ(m.files[3].pieces_root.hex(),
              "d6482ccb400387106428853dccec89b86358b7e51b4c682ec48ed34f2b97eca5");
    // v2 pieces end with their file.
    EXPECT_EQ(m.piece_size(0), 1000);
    EXPECT_EQ(m.piece_size(1), 16384);
    EXPECT_EQ(m.piece_size(2), 32768);
    EXPECT_EQ(m.piece_size(3), 40000 - 32768);
    EXPECT_EQ(m.piece_size(9), 32768);

    std::string s = stream_of(m);
    for (int p = 0; p < m.num_pieces(); ++p) {
        std::string_view piece =
            std::string_view(s).substr(static_cast<std::size_t>(p) * 32768, m.piece_size(p));
        EXPECT_TRUE(piece_matches(m, p, piece)) << p;
        std::string bad(piece);
        bad[bad.size() / 2] ^= 1;
        EXPECT_FALSE(piece_matches(m, p, bad)) << p;
    }
}

TEST(MetainfoV2, LibtorrentHybrid) {
    Metainfo m = parse(read("multi_hybrid.torrent"));
    EXPECT_EQ(m.format, Format::hybrid);
    EXPECT_EQ(m.info_hash.hex(), "11e99ff2c5352dfe4bd2f0a9642aabe003a5c21b");
    ASSERT_TRUE(m.info_hash_v2);
    EXPECT_EQ(m.info_hash_v2->hex(),
              "e5d207cda4d82e1f63ab4ff70615996a95ea28378b3f63938e6ca1af1e41843f");
    EXPECT_EQ(m.num_pieces(), 10);
    EXPECT_EQ(m.piece_hashes_v2.size(), 10u);
    EXPECT_EQ(m.piece_size(3), 32768);  // v1 pieces include the pad bytes
    std::string s = stream_of(m);
    for (int p = 0; p < m.num_pieces(); ++p) {
        std::string piece = s.substr(static_cast<std::size_t>(p) * 32768, m.piece_size(p));
        EXPECT_TRUE(piece_matches(m, p, piece)) << p;
        // A change in the pad bytes fails the v1 half even though v2 ignores them.
        if (p == 3) {
            piece.back() = 1;
            EXPECT_FALSE(piece_matches(m, p, piece));
        }
    }
    // From a magnet (bare info dictionary): no piece layers, verified by SHA-1 only.
    Metainfo bare = parse_info(m.info_bytes);
    EXPECT_EQ(bare.format, Format::hybrid);
    EXPECT_TRUE(bare.piece_hashes_v2.empty());
    EXPECT_EQ(bare.info_hash, m.info_hash);
}

TEST(MetainfoV2, LibtorrentSingleFile) {
    Metainfo v2 = parse(read("single_v2.torrent"));
    EXPECT_EQ(v2.format, Format::v2);
    EXPECT_FALSE(v2.multi_file);
    EXPECT_EQ(v2.info_hash_v2->hex(),
              "d6046fcf8ab62186146d39551b70bd08911351709bfed25ee6d048389c7b5610");
    ASSERT_EQ(v2.files.size(), 1u);
    EXPECT_EQ(v2.files[0].path, "one.bin");
    EXPECT_EQ(v2.num_pieces(), 4);
    Metainfo h = parse(read("single_hybrid.torrent"));
    EXPECT_EQ(h.format, Format::hybrid);
    EXPECT_EQ(h.info_hash.hex(), "e3c1f0ab66bdb689a1857f0ffbcaf0a40ffdc1ef");
    std::string d = data(50000, 3);
    for (int p = 0; p < 4; ++p) {
        auto piece = std::string_view(d).substr(static_cast<std::size_t>(p) * 16384, 16384);
        EXPECT_TRUE(piece_matches(v2, p, piece));
        EXPECT_TRUE(piece_matches(h, p, piece));
    }
    EXPECT_THROW(parse_info(v2.info_bytes), MetainfoError);  // v2 magnet: no layers
    // Unless the layers are to be fetched: then the files are known, the hashes not, and
    // the info dictionary with the layers encoded back parses to the same torrent.
    ParseLimits lim;
    lim.allow_missing_layers = true;
    Metainfo bare = parse_info(v2.info_bytes, lim);
    EXPECT_TRUE(bare.piece_hashes_v2.empty());
    EXPECT_EQ(bare.v2_spans.size(), v2.v2_spans.size());
    EXPECT_EQ(bare.files[0].pieces_root, v2.files[0].pieces_root);
    EXPECT_EQ(encode_piece_layers(bare), "");
    std::string layers = encode_piece_layers(v2);
    ASSERT_FALSE(layers.empty());
    Metainfo again = parse("d4:info" + v2.info_bytes + "12:piece layers" + layers + "e");
    EXPECT_EQ(again.piece_hashes_v2, v2.piece_hashes_v2);
    EXPECT_EQ(again.info_hash_v2, v2.info_hash_v2);
}

// A v2 torrent built here: files (tree path components, size, seed) with 32 KiB pieces.
struct Spec {
    std::vector<std::string> path;
    std::size_t size;
};

Dict file_node(std::size_t size, int seed, Dict& layers, std::int64_t pl = 32768) {
    Dict f{{"length", static_cast<std::int64_t>(size)}};
    if (size > 0) {
        auto leaves = leaf_hashes(data(size, seed));
        Sha256Digest root = file_root(leaves, pl);
        f["pieces root"] = std::string(root.view());
        if (static_cast<std::int64_t>(size) > pl) {
            std::string layer;
            for (auto& h : piece_layer(leaves, pl)) layer += h.view();
            layers[std::string(root.view())] = layer;
        }
    }
    return Dict{{"", f}};
}

Dict make_v2(const std::vector<Spec>& files, Dict* info_out = nullptr) {
    Dict tree;
    Dict layers;
    int seed = 0;
    for (const auto& s : files) {
        Dict* at = &tree;
        for (std::size_t i = 0; i + 1 < s.path.size(); ++i) {
            auto& v = (*at)[s.path[i]];
            if (!std::holds_alternative<Dict>(v.v)) v = Dict{};
            at = &std::get<Dict>(v.v);
        }
        (*at)[s.path.back()] = file_node(s.size, ++seed, layers);
    }
    Dict info{{"name", "t"}, {"piece length", 32768}, {"meta version", 2}, {"file tree", tree}};
    if (info_out) *info_out = info;
    return Dict{{"info", info}, {"piece layers", layers}};
}

std::string error_of(const Dict& torrent) {
    try {
        parse(bencode::encode(torrent));
    } catch (const MetainfoError& e) {
        return e.what();
    }
    return "";
}

TEST(MetainfoV2, BuiltTorrentParses) {
    Metainfo m = parse(bencode::encode(make_v2({{{"x", "a"}, 70000}, {{"y"}, 5}})));
    EXPECT_EQ(m.num_pieces(), 4);
    EXPECT_EQ(m.files.back().path, "t/y");
    EXPECT_EQ(m.files.back().offset, 3 * 32768);
}

TEST(MetainfoV2, HostileTrees) {
    EXPECT_NE(error_of(make_v2({{{".."}, 10}})).find("'..'"), std::string::npos);
    EXPECT_NE(error_of(make_v2({{{"."}, 10}})).find("'.'"), std::string::npos);
    EXPECT_NE(error_of(make_v2({{{"a/b"}, 10}})).find("separator"), std::string::npos);
    EXPECT_NE(error_of(make_v2({{{"x", ""}, 10}})), "");
    // Deeper than any real torrent.
    std::vector<std::string> deep(60, "d");
    EXPECT_NE(error_of(make_v2({{deep, 10}})).find("deeper"), std::string::npos);
    // The root itself a file; a file with siblings; an empty directory.
    Dict t = make_v2({{{"a"}, 10}});
    auto& info = std::get<Dict>(t["info"].v);
    info["file tree"] = Dict{{"", Dict{{"length", 1}}}};
    EXPECT_NE(error_of(t).find("root is a file"), std::string::npos);
    Dict layers;
    Dict f = file_node(10, 1, layers);
    f["z"] = Dict{};
    info["file tree"] = Dict{{"a", f}};
    EXPECT_NE(error_of(t).find("sibling"), std::string::npos);
    info["file tree"] = Dict{{"a", Dict{}}};
    EXPECT_NE(error_of(t).find("empty"), std::string::npos);
    // Too many files for the limit.
    ParseLimits lim;
    lim.max_files = 1;
    EXPECT_THROW(parse(bencode::encode(make_v2({{{"a"}, 1}, {{"b"}, 1}})), lim), MetainfoError);
}

TEST(MetainfoV2, HostileFileEntries) {
    Dict t = make_v2({{{"a"}, 10}});
    auto& info = std::get<Dict>(t["info"].v);
    info["file tree"] =
        Dict{{"a", Dict{{"", Dict{{"length", 0}, {"pieces root", std::string(32, 'x')}}}}},
             {"b", Dict{{"", Dict{{"length", 1}, {"pieces root", std::string(32, 'x')}}}}}};
    EXPECT_NE(error_of(t).find("empty but has a 'pieces root'"), std::string::npos);
    info["file tree"] = Dict{{"b", Dict{{"", Dict{{"length", 1}}}}}};
    EXPECT_NE(error_of(t).find("no 'pieces root'"), std::string::npos);
    info["file tree"] = Dict{{"b", Dict{{"", Dict{{"length", 1}, {"pieces root", "short"}}}}}};
    EXPECT_NE(error_of(t).find("32 bytes"), std::string::npos);
    info["file tree"] = Dict{{"b", Dict{{"", Dict{{"length", -1}}}}}};
    EXPECT_NE(error_of(t).find("negative"), std::string::npos);
    info["file tree"] = Dict{{"b", Dict{{"", Dict{{"length", 0}}}}}};
    EXPECT_NE(error_of(t).find("no data"), std::string::npos);
    // A symlink whose target leaves the torrent.
    info["file tree"] =
        Dict{{"a", file_node(10, 1, std::get<Dict>(t["piece layers"].v))},
             {"l", Dict{{"", Dict{{"attr", "l"}, {"symlink path", List{"..", "etc"}}}}}}};
    EXPECT_NE(error_of(t).find("leaves the torrent"), std::string::npos);
    info["file tree"] = Dict{{"a", file_node(10, 1, std::get<Dict>(t["piece layers"].v))},
                             {"l", Dict{{"", Dict{{"attr", "lx"}, {"symlink path", List{"a"}}}}}}};
    Metainfo m = parse(bencode::encode(t));
    EXPECT_TRUE(m.files.back().symlink);
    EXPECT_EQ(m.files.back().symlink_target, "a");
}

TEST(MetainfoV2, HostileLayersAndVersions) {
    Dict t = make_v2({{{"a"}, 100000}});
    auto& info = std::get<Dict>(t["info"].v);
    auto& layers = std::get<Dict>(t["piece layers"].v);
    ASSERT_EQ(layers.size(), 1u);
    std::string key = layers.begin()->first;
    std::string good = std::get<std::string>(layers.begin()->second.v);
    layers[key] = good.substr(32);
    EXPECT_NE(error_of(t).find("expected 4 hashes"), std::string::npos);
    std::string flipped = good;
    flipped[5] ^= 1;
    layers[key] = flipped;
    EXPECT_NE(error_of(t).find("does not match"), std::string::npos);
    layers.clear();
    EXPECT_NE(error_of(t).find("no entry in 'piece layers'"), std::string::npos);
    t.erase("piece layers");
    EXPECT_NE(error_of(t).find("no 'piece layers'"), std::string::npos);
    info["meta version"] = 3;
    EXPECT_NE(error_of(t).find("unsupported 'meta version' 3"), std::string::npos);
    info["meta version"] = 2;
    info["piece length"] = 20000;
    EXPECT_NE(error_of(t).find("power of two"), std::string::npos);
    info["piece length"] = 32768;
    info.erase("file tree");
    EXPECT_NE(error_of(t).find("no 'file tree'"), std::string::npos);
}

// A hybrid built from a v2 torrent: v1 list with pads, SHA-1 over the padded stream.
Dict make_hybrid(const std::vector<Spec>& files, bool pads = true) {
    Dict info;
    Dict t = make_v2(files, &info);
    List list;
    std::string stream;
    int seed = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        List path(files[i].path.begin(), files[i].path.end());
        list.push_back(Dict{{"length", static_cast<std::int64_t>(files[i].size)}, {"path", path}});
        stream += data(files[i].size, ++seed);
        std::size_t gap = (32768 - stream.size() % 32768) % 32768;
        if (pads && gap && files[i].size && i + 1 < files.size()) {
            list.push_back(Dict{{"length", static_cast<std::int64_t>(gap)},
                                {"path", List{".pad", std::to_string(gap)}},
                                {"attr", "p"}});
            stream += std::string(gap, '\0');
        }
    }
    std::string pieces;
    for (std::size_t at = 0; at < stream.size(); at += 32768)
        pieces += crypto::sha1(std::string_view(stream).substr(at, 32768)).view();
    info["files"] = list;
    info["pieces"] = pieces;
    t["info"] = info;
    return t;
}

TEST(MetainfoV2, HybridHalvesMustAgree) {
    std::vector<Spec> files = {{{"a"}, 1000}, {{"b"}, 40000}, {{"c"}, 7}};
    Metainfo m = parse(bencode::encode(make_hybrid(files)));
    EXPECT_EQ(m.format, Format::hybrid);
    EXPECT_EQ(m.num_pieces(), 4);
    // No pads: the v1 offsets are not piece aligned.
    EXPECT_NE(error_of(make_hybrid(files, false)).find("disagree"), std::string::npos);
    // A length, a path, a file count that differ between the halves.
    Dict t = make_hybrid(files);
    auto& info = std::get<Dict>(t["info"].v);
    auto& list = std::get<List>(info["files"].v);
    std::get<Dict>(list[0].v)["path"] = List{"z"};
    EXPECT_NE(error_of(t).find("disagree on the path"), std::string::npos);
    t = make_hybrid(files);
    auto& list2 = std::get<List>(std::get<Dict>(t["info"].v)["files"].v);
    list2.pop_back();  // the v1 pieces no longer cover the v1 files
    EXPECT_NE(error_of(t), "");
    t = make_hybrid(files);
    auto& info3 = std::get<Dict>(t["info"].v);
    std::get<Dict>(std::get<List>(info3["files"].v)[0].v)["length"] = 999;
    EXPECT_NE(error_of(t), "");
}

TEST(MetainfoV2, Magnets) {
    const std::string v2 =
        "urn:btmh:1220adc579a98ace7c26ed6c08f39fb28d743f86d8d19f4d86024ec8cef2f5792582";
    // v2 only: the swarm is named by the v2 hash truncated to 20 bytes (BEP 52).
    Magnet v = parse_magnet("magnet:?xt=" + v2 + "&dn=x");
    ASSERT_TRUE(v.info_hash_v2);
    EXPECT_EQ(v.info_hash_v2->hex(), v2.substr(13));
    EXPECT_FALSE(v.has_btih);
    EXPECT_EQ(v.info_hash, v.info_hash_v2->truncated());
    Magnet back = parse_magnet(make_magnet(v));
    EXPECT_EQ(back.info_hash_v2, v.info_hash_v2);
    EXPECT_FALSE(back.has_btih);
    EXPECT_EQ(make_magnet(v).find("btih"), std::string::npos);
    // Upper-case hex is accepted; other multihashes, lengths and two different ones are not.
    std::string upper = v2;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(parse_magnet("magnet:?xt=" + upper).info_hash_v2, v.info_hash_v2);
    EXPECT_THROW(parse_magnet("magnet:?xt=urn:btmh:1114" + v2.substr(13)), MetainfoError);
    EXPECT_THROW(parse_magnet("magnet:?xt=" + v2.substr(0, v2.size() - 2)), MetainfoError);
    std::string other = v2;
    other.back() = other.back() == '0' ? '1' : '0';
    EXPECT_THROW(parse_magnet("magnet:?xt=" + v2 + "&xt=" + other), MetainfoError);
    // A hybrid's magnet: the btih names the swarm, the btmh checks the metadata too.
    Magnet m =
        parse_magnet("magnet:?xt=urn:btih:11e99ff2c5352dfe4bd2f0a9642aabe003a5c21b&xt=" + v2);
    EXPECT_EQ(m.info_hash.hex(), "11e99ff2c5352dfe4bd2f0a9642aabe003a5c21b");
    EXPECT_TRUE(m.has_btih);
    ASSERT_TRUE(m.info_hash_v2);
    back = parse_magnet(make_magnet(m));
    EXPECT_EQ(back.info_hash, m.info_hash);
    EXPECT_EQ(back.info_hash_v2, m.info_hash_v2);
}

}  // namespace
}  // namespace pw::meta
