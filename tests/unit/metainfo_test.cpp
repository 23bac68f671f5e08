// Metainfo v1 parsing (BEP 3, 12, 19, 27, 47): valid torrents, validation errors, and
// path sanitising against hostile names.
#include "meta/metainfo.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bencode/bencode.hpp"
#include "meta/url_list.hpp"

namespace pw::meta {
namespace {

using bencode::Dict;
using bencode::List;
using bencode::Value;

constexpr std::int64_t kPiece = 16384;

std::string hashes_for(std::int64_t total, std::int64_t piece = kPiece) {
    std::int64_t n = (total + piece - 1) / piece;
    std::string out;
    for (std::int64_t i = 0; i < n; ++i) out += std::string(20, static_cast<char>('a' + i % 26));
    return out;
}

Dict single_info(std::string name = "file.bin", std::int64_t length = 40000) {
    return Dict{{"name", std::move(name)},
                {"length", length},
                {"piece length", kPiece},
                {"pieces", hashes_for(length)}};
}

struct F {
    List path;
    std::int64_t length;
    std::string attr = {};
};

Dict multi_info(std::vector<F> files, std::string name = "dir") {
    List list;
    std::int64_t total = 0;
    for (auto& f : files) {
        Dict d{{"length", f.length}, {"path", f.path}};
        if (!f.attr.empty()) d["attr"] = f.attr;
        list.push_back(std::move(d));
        total += f.length;
    }
    return Dict{{"name", std::move(name)},
                {"files", std::move(list)},
                {"piece length", kPiece},
                {"pieces", hashes_for(total)}};
}

std::string torrent(Dict info, Dict top = {}) {
    top["info"] = std::move(info);
    return bencode::encode(top);
}

std::string parse_error(std::string_view data, const ParseLimits& lim = {}) {
    try {
        parse(data, lim);
    } catch (const MetainfoError& e) {
        return e.what();
    }
    return "(no error)";
}

// Every path must stay inside the download directory.
void expect_safe(const std::string& p) {
    ASSERT_FALSE(p.empty());
    EXPECT_NE(p.front(), '/') << p;
    std::size_t start = 0;
    for (;;) {
        std::size_t slash = p.find('/', start);
        std::string c =
            p.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        EXPECT_FALSE(c.empty()) << p;
        EXPECT_NE(c, ".") << p;
        EXPECT_NE(c, "..") << p;
        EXPECT_LE(c.size(), 255u) << p;
        for (char ch : c) {
            EXPECT_NE(ch, '\\') << p;
            EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << p;
        }
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}

TEST(Metainfo, SingleFile) {
    Dict info = single_info("file.bin", 40000);
    std::string data = torrent(info, Dict{{"announce", "http://127.0.0.1:6969/announce"},
                                          {"comment", "hello"},
                                          {"created by", "test"},
                                          {"creation date", 1700000000}});
    Metainfo m = parse(data);
    EXPECT_EQ(m.name, "file.bin");
    EXPECT_FALSE(m.multi_file);
    EXPECT_EQ(m.piece_length, kPiece);
    EXPECT_EQ(m.num_pieces(), 3);
    EXPECT_EQ(m.total_size, 40000);
    ASSERT_EQ(m.files.size(), 1u);
    EXPECT_EQ(m.files[0].path, "file.bin");
    EXPECT_EQ(m.files[0].length, 40000);
    EXPECT_EQ(m.files[0].offset, 0);
    EXPECT_EQ(m.piece_size(0), kPiece);
    EXPECT_EQ(m.piece_size(2), 40000 - 2 * kPiece);
    EXPECT_EQ(m.piece_size(3), 0);
    EXPECT_EQ(m.piece_size(-1), 0);
    EXPECT_EQ(m.piece_hashes[1].view(), std::string(20, 'b'));
    EXPECT_EQ(m.info_bytes, bencode::encode(info));
    EXPECT_EQ(m.info_hash, crypto::sha1(bencode::encode(info)));
    ASSERT_EQ(m.trackers.size(), 1u);
    EXPECT_EQ(m.trackers[0], std::vector<std::string>{"http://127.0.0.1:6969/announce"});
    EXPECT_EQ(m.comment, "hello");
    EXPECT_EQ(m.created_by, "test");
    EXPECT_EQ(m.creation_date, 1700000000);
    EXPECT_FALSE(m.is_private);
}

TEST(Metainfo, InfoHashCoversExactBytesEvenWhenUnsorted) {
    std::string info =
        "d4:name1:a6:lengthi10e12:piece lengthi16384e6:pieces20:" + std::string(20, 'z') + "e";
    Metainfo m = parse("d4:info" + info + "e");
    EXPECT_EQ(m.info_hash, crypto::sha1(info));
    EXPECT_EQ(m.info_bytes, info);
    Metainfo bare = parse_info(info);
    EXPECT_EQ(bare.info_hash, m.info_hash);
    EXPECT_EQ(bare.name, "a");
    EXPECT_TRUE(bare.trackers.empty());
}

TEST(Metainfo, MultiFileOffsetsAndZeroLengthFiles) {
    Metainfo m = parse(torrent(multi_info(
        {{List{"a.txt"}, 100}, {List{"sub", "empty"}, 0}, {List{"sub", "b.bin"}, 20000}})));
    EXPECT_TRUE(m.multi_file);
    EXPECT_EQ(m.name, "dir");
    ASSERT_EQ(m.files.size(), 3u);
    EXPECT_EQ(m.files[0].path, "dir/a.txt");
    EXPECT_EQ(m.files[1].path, "dir/sub/empty");
    EXPECT_EQ(m.files[1].length, 0);
    EXPECT_EQ(m.files[1].offset, 100);
    EXPECT_EQ(m.files[2].path, "dir/sub/b.bin");
    EXPECT_EQ(m.files[2].offset, 100);
    EXPECT_EQ(m.total_size, 20100);
    EXPECT_EQ(m.num_pieces(), 2);
}

TEST(Metainfo, PadFiles) {
    Metainfo m = parse(torrent(multi_info({{List{"a"}, 100},
                                           {List{".pad", "16284"}, 16284, "p"},
                                           {List{"b"}, 100},
                                           {List{".pad", "16284"}, 16284, "p"},
                                           {List{"c"}, 5, "x"}})));
    ASSERT_EQ(m.files.size(), 5u);
    EXPECT_FALSE(m.files[0].pad);
    EXPECT_TRUE(m.files[1].pad);
    EXPECT_TRUE(m.files[3].pad);
    EXPECT_FALSE(m.files[4].pad);
    // Pad files are never written, so identical pad paths are not renamed.
    EXPECT_EQ(m.files[1].path, "dir/.pad/16284");
    EXPECT_EQ(m.files[3].path, "dir/.pad/16284");
    EXPECT_EQ(m.files[2].offset, 16384);

    // BEP 47 lets pad files omit `path`.
    Dict info = multi_info({{List{"a"}, 10}, {List{}, 6, "p"}});
    std::get<Dict>(std::get<List>(info["files"].v)[1].v).erase("path");
    Metainfo p = parse(torrent(info));
    EXPECT_EQ(p.files[1].path, "dir/.pad/6");
}

TEST(Metainfo, AnnounceList) {
    Dict top{{"announce", "http://127.0.0.1/ignored"},
             {"announce-list",
              List{List{"http://127.0.0.1/a", "udp://127.0.0.1:80", 5}, List{},
                   List{"https://127.0.0.1/b", "http://127.0.0.1/a"},
                   List{"wss://127.0.0.1/c", "magnet:?x", "http://bad url"}, "not a list"}}};
    Metainfo m = parse(torrent(single_info(), top));
    ASSERT_EQ(m.trackers.size(), 2u);
    EXPECT_EQ(m.trackers[0],
              (std::vector<std::string>{"http://127.0.0.1/a", "udp://127.0.0.1:80"}));
    EXPECT_EQ(m.trackers[1], (std::vector<std::string>{"https://127.0.0.1/b"}));

    Dict empty{{"announce", "udp://127.0.0.1:1"}, {"announce-list", List{List{}}}};
    Metainfo e = parse(torrent(single_info(), empty));
    ASSERT_EQ(e.trackers.size(), 1u);
    EXPECT_EQ(e.trackers[0][0], "udp://127.0.0.1:1");

    Metainfo none = parse(torrent(single_info(), Dict{{"announce", "ftp://127.0.0.1/"}}));
    EXPECT_TRUE(none.trackers.empty());
}

TEST(Metainfo, UrlList) {
    Metainfo one = parse(torrent(single_info(), Dict{{"url-list", "http://127.0.0.1/f"}}));
    EXPECT_EQ(one.url_list, std::vector<std::string>{"http://127.0.0.1/f"});
    Metainfo many = parse(torrent(
        single_info(), Dict{{"url-list", List{"https://127.0.0.1/x", 3, "udp://127.0.0.1/", ""}}}));
    EXPECT_EQ(many.url_list, std::vector<std::string>{"https://127.0.0.1/x"});
    auto warn = read_url_list(torrent(
        single_info(), Dict{{"url-list", List{"https://127.0.0.1/x", 3, "udp://127.0.0.1/", ""}}}));
    ASSERT_EQ(warn.warnings.size(), 1u);  // the udp:// entry and the 3; the empty one is silent
    EXPECT_NE(warn.warnings[0].find("ignored 2"), std::string::npos);
    EXPECT_TRUE(read_url_list(torrent(single_info(), Dict{{"url-list", "http://127.0.0.1/f"}}))
                    .warnings.empty());
    EXPECT_TRUE(read_url_list("not bencode").urls.empty());
}

TEST(Metainfo, UrlListBounded) {
    List urls;
    for (int i = 0; i < 100; ++i) urls.push_back("http://127.0.0.1/" + std::to_string(i));
    urls.push_back("http://127.0.0.1/" + std::string(3000, 'a'));
    Metainfo m = parse(torrent(single_info(), Dict{{"url-list", urls}}));
    EXPECT_EQ(m.url_list.size(), 64u);
    EXPECT_EQ(m.url_list[63], "http://127.0.0.1/63");
    EXPECT_EQ(read_url_list(torrent(single_info(), Dict{{"url-list", urls}})).warnings.size(), 2u);
}

TEST(Metainfo, Private) {
    Dict info = single_info();
    info["private"] = 1;
    EXPECT_TRUE(parse(torrent(info)).is_private);
    info["private"] = 0;
    EXPECT_FALSE(parse(torrent(info)).is_private);
    info["private"] = "1";
    EXPECT_FALSE(parse(torrent(info)).is_private);
}

TEST(Metainfo, Utf8VariantsPreferred) {
    Dict info = multi_info({{List{"legacy"}, 10}}, "legacy-name");
    info["name.utf-8"] = "n\xc3\xa4me";
    auto& file = std::get<Dict>(std::get<List>(info["files"].v)[0].v);
    file["path.utf-8"] = List{"f\xc3\xbc"};
    Metainfo m = parse(torrent(info, Dict{{"comment", "old"}, {"comment.utf-8", "new \xff"}}));
    EXPECT_EQ(m.name, "n\xc3\xa4me");
    EXPECT_EQ(m.files[0].path, "n\xc3\xa4me/f\xc3\xbc");
    EXPECT_EQ(m.comment, "new \xef\xbf\xbd");
}

TEST(MetainfoErrors, Structure) {
    EXPECT_EQ(parse_error("d4:info"), "torrent: bencode: unexpected end of input at byte 7");
    EXPECT_EQ(parse_error("li1ee"), "torrent: top level is not a dictionary");
    EXPECT_EQ(parse_error("de"), "torrent: 'info' dictionary missing");
    EXPECT_EQ(parse_error("d4:infoi1ee"), "torrent: 'info' is not a dictionary");
    EXPECT_EQ(parse_error(torrent(single_info()) + "x"),
              "torrent: bencode: trailing data after value at byte " +
                  std::to_string(torrent(single_info()).size()));
}

// Applies `edit` to a valid single-file info dict and returns the parse error.
template <class Edit>
std::string single_error(Edit edit) {
    Dict info = single_info();
    edit(info);
    return parse_error(torrent(info));
}

TEST(MetainfoErrors, Fields) {
    EXPECT_EQ(single_error([](Dict& d) { d.erase("name"); }), "torrent: 'info' has no 'name'");
    EXPECT_EQ(single_error([](Dict& d) { d["name"] = 5; }),
              "torrent: 'info' 'name' is not a string");
    EXPECT_EQ(single_error([](Dict& d) { d.erase("piece length"); }),
              "torrent: 'info' has no 'piece length'");
    EXPECT_EQ(single_error([](Dict& d) { d["piece length"] = "16384"; }),
              "torrent: 'info' 'piece length' is not an integer");
    EXPECT_EQ(single_error([](Dict& d) { d["piece length"] = 0; }),
              "torrent: 'piece length' must be positive (got 0)");
    EXPECT_EQ(single_error([](Dict& d) { d["piece length"] = -16384; }),
              "torrent: 'piece length' must be positive (got -16384)");
    EXPECT_EQ(single_error([](Dict& d) { d["piece length"] = std::int64_t{1} << 40; }),
              "torrent: 'piece length' 1099511627776 exceeds the limit of 268435456");
    EXPECT_EQ(single_error([](Dict& d) { d.erase("pieces"); }), "torrent: 'info' has no 'pieces'");
    EXPECT_EQ(single_error([](Dict& d) { d["pieces"] = 1; }),
              "torrent: 'info' 'pieces' is not a string");
    EXPECT_EQ(single_error([](Dict& d) { d["pieces"] = std::string(59, 'x'); }),
              "torrent: 'pieces' length 59 is not a multiple of 20");
    EXPECT_EQ(single_error([](Dict& d) { d["pieces"] = std::string(40, 'x'); }),
              "torrent: 'pieces' holds 2 hashes but 40000 bytes in pieces of 16384 need 3");
    EXPECT_EQ(single_error([](Dict& d) { d["pieces"] = std::string(80, 'x'); }),
              "torrent: 'pieces' holds 4 hashes but 40000 bytes in pieces of 16384 need 3");
    EXPECT_EQ(single_error([](Dict& d) { d["length"] = -1; }),
              "torrent: 'info' 'length' is negative");
    EXPECT_EQ(single_error([](Dict& d) { d["length"] = "1"; }),
              "torrent: 'info' 'length' is not an integer");
    EXPECT_EQ(single_error([](Dict& d) { d.erase("length"); }),
              "torrent: 'info' has neither 'length' nor 'files'");
    EXPECT_EQ(single_error([](Dict& d) { d["files"] = List{}; }),
              "torrent: 'info' has both 'length' and 'files'");
    EXPECT_EQ(single_error([](Dict& d) {
                  d["length"] = 0;
                  d["pieces"] = "";
              }),
              "torrent: torrent has no data");
}

template <class Edit>
std::string multi_error(Edit edit) {
    Dict info = multi_info({{List{"a"}, 10}, {List{"b"}, 10}});
    edit(info);
    return parse_error(torrent(info));
}

Dict& file_dict(Dict& info, std::size_t i) {
    return std::get<Dict>(std::get<List>(info["files"].v)[i].v);
}

TEST(MetainfoErrors, Files) {
    EXPECT_EQ(multi_error([](Dict& d) { d["files"] = List{}; }),
              "torrent: 'info' 'files' is empty");
    EXPECT_EQ(multi_error([](Dict& d) { d["files"] = "x"; }),
              "torrent: 'info' 'files' is not a list");
    EXPECT_EQ(multi_error([](Dict& d) { std::get<List>(d["files"].v)[1] = 7; }),
              "torrent: file 1 is not a dictionary");
    EXPECT_EQ(multi_error([](Dict& d) { file_dict(d, 1)["length"] = -5; }),
              "torrent: file 1 has a negative length");
    EXPECT_EQ(multi_error([](Dict& d) { file_dict(d, 0).erase("length"); }),
              "torrent: file 0 has no 'length'");
    EXPECT_EQ(multi_error([](Dict& d) { file_dict(d, 0)["length"] = List{}; }),
              "torrent: file 0 'length' is not an integer");
    EXPECT_EQ(multi_error([](Dict& d) { file_dict(d, 0).erase("path"); }),
              "torrent: file 0 has no 'path'");
    EXPECT_EQ(multi_error([](Dict& d) { file_dict(d, 0)["path"] = "a"; }),
              "torrent: file 0 'path' is not a list");
    EXPECT_EQ(multi_error([](Dict& d) { file_dict(d, 0)["path"] = List{}; }),
              "torrent: file 0 has an empty 'path'");
    EXPECT_EQ(multi_error([](Dict& d) {
                  file_dict(d, 1)["path"] = List{"x", 3};
              }),
              "torrent: file 1 path has a component that is not a string");
    EXPECT_EQ(multi_error([](Dict& d) {
                  file_dict(d, 0)["length"] = std::numeric_limits<std::int64_t>::max();
              }),
              "torrent: total size overflows");
    EXPECT_EQ(multi_error([](Dict& d) {
                  file_dict(d, 0)["length"] = 0;
                  file_dict(d, 1)["length"] = 0;
                  d["pieces"] = "";
              }),
              "torrent: torrent has no data");
    ParseLimits lim;
    lim.max_files = 1;
    EXPECT_EQ(parse_error(torrent(multi_info({{List{"a"}, 10}, {List{"b"}, 10}})), lim),
              "torrent: too many files (2, limit 1)");
}

struct PathCase {
    std::vector<std::string> components;
    std::string expected;  // the file's path below the torrent's directory
};

class HostilePaths : public ::testing::TestWithParam<PathCase> {};

TEST_P(HostilePaths, StayInsideDownloadDirectory) {
    const PathCase& c = GetParam();
    List path(c.components.begin(), c.components.end());
    Metainfo m = parse(torrent(multi_info({{path, 10}})));
    ASSERT_EQ(m.files.size(), 1u);
    expect_safe(m.files[0].path);
    EXPECT_EQ(m.files[0].path, "dir/" + c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    All, HostilePaths,
    ::testing::Values(PathCase{{"..", "..", "etc", "passwd"}, "_/_/etc/passwd"},
                      PathCase{{"/etc/passwd"}, "_etc_passwd"},
                      PathCase{{"a/../../b"}, "a_.._.._b"},
                      PathCase{{"..\\..\\win.ini"}, ".._.._win.ini"},
                      PathCase{{"C:\\Windows"}, "C:_Windows"}, PathCase{{".", "", "x", "."}, "x"},
                      PathCase{{".", ""}, "_"}, PathCase{{"a\nb\x01\x7f"}, "a_b__"},
                      PathCase{{std::string("nu\0l", 4)}, "nu_l"}, PathCase{{"CON"}, "CON_"},
                      PathCase{{"con.txt"}, "con_.txt"}, PathCase{{"Lpt9.tar.gz"}, "Lpt9_.tar.gz"},
                      PathCase{{"COM0"}, "COM0"}, PathCase{{"aux", "nul"}, "aux_/nul_"},
                      PathCase{{"name. . ."}, "name"}, PathCase{{"..."}, "_"},
                      PathCase{{"   "}, "_"}, PathCase{{"bad\xff\xc3utf8"}, "bad__utf8"},
                      PathCase{{"\xed\xa0\x80"}, "___"}, PathCase{{"\xc0\xaf"}, "__"}));

TEST(MetainfoPaths, HostileName) {
    EXPECT_EQ(parse(torrent(single_info(".."))).files[0].path, "_");
    EXPECT_EQ(parse(torrent(single_info("/etc/passwd"))).files[0].path, "_etc_passwd");
    EXPECT_EQ(parse(torrent(single_info(""))).files[0].path, "_");
    EXPECT_EQ(parse(torrent(single_info("."))).name, "_");
    Metainfo m = parse(torrent(multi_info({{List{"f"}, 10}}, "../../x")));
    EXPECT_EQ(m.name, ".._.._x");
    EXPECT_EQ(m.files[0].path, ".._.._x/f");
}

TEST(MetainfoPaths, LongComponentsKeepExtensionAndUtf8) {
    std::string ascii = std::string(300, 'a') + ".txt";
    std::string out = parse(torrent(multi_info({{List{ascii}, 10}}))).files[0].path;
    EXPECT_EQ(out, "dir/" + std::string(251, 'a') + ".txt");

    std::string umlauts;
    for (int i = 0; i < 200; ++i) umlauts += "\xc3\xa4";  // 400 bytes
    out = sanitize_component(umlauts + ".mkv", 255);
    EXPECT_LE(out.size(), 255u);
    EXPECT_EQ(out.substr(out.size() - 4), ".mkv");
    EXPECT_EQ(out.size(), 250u + 4u);  // 125 whole two-byte characters
    out = sanitize_component(umlauts, 255);
    EXPECT_EQ(out.size(), 254u);

    ParseLimits lim;
    lim.max_path_component = 10;
    Metainfo m = parse(torrent(multi_info({{List{"abcdefghijklmnop.iso"}, 10}})), lim);
    EXPECT_EQ(m.files[0].path, "dir/abcdef.iso");
}

TEST(MetainfoPaths, DuplicatesMadeDistinct) {
    Metainfo m = parse(torrent(multi_info({{List{"a.txt"}, 1},
                                           {List{"a.txt"}, 1},
                                           {List{"a.txt"}, 1},
                                           {List{"A.txt"}, 1},
                                           {List{"a.1.txt"}, 1}})));
    std::vector<std::string> paths;
    for (auto& f : m.files) paths.push_back(f.path);
    EXPECT_EQ(paths, (std::vector<std::string>{"dir/a.txt", "dir/a.1.txt", "dir/a.2.txt",
                                               "dir/A.txt", "dir/a.1.1.txt"}));
    // Sanitising can create the collision: ".." and "_" both become "_".
    Metainfo s = parse(torrent(multi_info({{List{".."}, 1}, {List{"_"}, 1}})));
    EXPECT_EQ(s.files[0].path, "dir/_");
    EXPECT_EQ(s.files[1].path, "dir/_.1");
}

// A multi-file torrent of `count` one-byte files that all have the path `path`
// (bencoded), built as bytes because Value trees this large are slow to build.
std::string repeated_files(const std::string& path, int count) {
    std::string files;
    for (int i = 0; i < count; ++i) files += "d6:lengthi1e4:path" + path + "e";
    return "d4:infod5:filesl" + files + "e4:name3:dir12:piece lengthi" + std::to_string(1 << 20) +
           "e6:pieces20:" + std::string(20, 'x') + "ee";
}

TEST(MetainfoPaths, ManyDuplicatesAndDeepPaths) {
    // Hostile torrents with thousands of identical or very deep paths parse in linear time.
    Metainfo m = parse(repeated_files("l1:ae", 50000));
    EXPECT_EQ(m.files[0].path, "dir/a");
    EXPECT_EQ(m.files[49999].path, "dir/a.49999");
    std::string deep = "l";
    for (int i = 0; i < 50000; ++i) deep += "1:d";
    Metainfo d = parse(repeated_files(deep + "e", 20));
    EXPECT_EQ(d.files[1].path.size(), 3u + 50000u * 2 + 2);  // "dir" + "/d" x 50000 + ".1"
    EXPECT_TRUE(d.files[1].path.ends_with("/d/d.1"));
}

TEST(MetainfoPaths, FileCollidingWithDirectory) {
    Metainfo m = parse(torrent(multi_info({{List{"x"}, 1}, {List{"x", "y"}, 1}})));
    EXPECT_EQ(m.files[0].path, "dir/x.1");
    EXPECT_EQ(m.files[1].path, "dir/x/y");
    Metainfo r = parse(torrent(multi_info({{List{"x", "y", "z"}, 1}, {List{"x", "y"}, 1}})));
    EXPECT_EQ(r.files[0].path, "dir/x/y/z");
    EXPECT_EQ(r.files[1].path, "dir/x/y.1");
}

TEST(MetainfoPaths, SanitizeComponent) {
    EXPECT_EQ(sanitize_component(""), "");
    EXPECT_EQ(sanitize_component("."), "");
    EXPECT_EQ(sanitize_component(".."), "_");
    EXPECT_EQ(sanitize_component(".hidden"), ".hidden");
    EXPECT_EQ(sanitize_component("ok name.txt"), "ok name.txt");
    EXPECT_EQ(sanitize_component("prn.log"), "prn_.log");
    EXPECT_EQ(sanitize_component("conx"), "conx");
    EXPECT_EQ(sanitize_component("tab\there"), "tab_here");
}

class TempDir {
  public:
    TempDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("pw-metainfo-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

TEST(MetainfoLoad, FilesAndErrors) {
    TempDir dir;
    auto good = dir.path() / "good.torrent";
    {
        std::ofstream f(good, std::ios::binary);
        f << torrent(single_info());
    }
    EXPECT_EQ(load(good).name, "file.bin");

    auto missing = dir.path() / "missing.torrent";
    try {
        load(missing);
        FAIL() << "no error";
    } catch (const MetainfoError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot read " + missing.string() + ": No such file or directory");
    }
    auto big = dir.path() / "big.torrent";
    std::ofstream(big, std::ios::binary) << "d";
    std::filesystem::resize_file(big, (64u << 20) + 1);  // sparse: no disk space used
    try {
        load(big);
        FAIL() << "no error";
    } catch (const MetainfoError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot read " + big.string() + ": file larger than 64 MiB");
    }
    EXPECT_THROW(load(dir.path()), MetainfoError);
}

}  // namespace
}  // namespace pw::meta
