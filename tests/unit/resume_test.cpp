// Resume data: encoding, tolerant decoding, atomic save, and trusting a record only while
// the files are unchanged.
#include "storage/resume.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>

#include "bencode/bencode.hpp"

namespace fs = std::filesystem;
namespace be = pw::bencode;
using pw::meta::FileEntry;
using pw::storage::FileStamp;
using pw::storage::ResumeData;

namespace {

class TempDir {
  public:
    TempDir() {
        static std::atomic<int> n{0};
        path_ = fs::temp_directory_path() /
                ("pw-resume-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

pw::Sha1Digest digest(char fill) {
    pw::Sha1Digest d;
    d.bytes.fill(static_cast<std::uint8_t>(fill));
    return d;
}

ResumeData sample() {
    ResumeData r;
    r.info_hash = digest('\x5a');
    r.save_path = "/srv/downloads";
    r.have = {true, false, true, true, false, false, false, true, false, true, false, false, true};
    r.files = {{1234, 1700000000123456789}, {-1, 0}, {0, 42}};
    return r;
}

void expect_equal(const ResumeData& a, const ResumeData& b) {
    EXPECT_EQ(a.info_hash, b.info_hash);
    EXPECT_EQ(a.save_path, b.save_path);
    EXPECT_EQ(a.have, b.have);
    ASSERT_EQ(a.files.size(), b.files.size());
    for (std::size_t i = 0; i < a.files.size(); ++i) {
        EXPECT_EQ(a.files[i].size, b.files[i].size);
        EXPECT_EQ(a.files[i].mtime_ns, b.files[i].mtime_ns);
    }
}

// The sample's encoding as a Value tree, to build malformed variants from.
be::Dict sample_dict() {
    be::Dict d;
    d["files"] = be::List{be::List{1234, std::int64_t{1700000000123456789}}, be::List{-1, 0},
                          be::List{0, 42}};
    d["info-hash"] = std::string(20, '\x5a');
    d["pieces"] = std::string("\xb1\x48", 2);
    d["save-path"] = "/srv/downloads";
    d["version"] = 1;
    return d;
}

void write_file(const fs::path& p, std::string_view content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
}

}  // namespace

TEST(ResumeCodec, RoundTrip) {
    ResumeData r = sample();
    std::string bytes = pw::storage::encode_resume(r);
    EXPECT_EQ(bytes, be::encode(sample_dict()));  // the documented format, bit for bit
    auto back = pw::storage::decode_resume(bytes, 13);
    ASSERT_TRUE(back);
    expect_equal(*back, r);
}

TEST(ResumeCodec, BitfieldIsMsbFirst) {
    ResumeData r = sample();
    r.have.assign(9, false);
    r.have[0] = true;
    r.have[8] = true;
    std::string bytes = pw::storage::encode_resume(r);
    auto doc = be::decode(bytes);
    EXPECT_EQ(doc.root().find_string("pieces"), std::string_view("\x80\x80", 2));
}

TEST(ResumeCodec, EmptyTorrentState) {
    ResumeData r = sample();
    r.have.clear();
    r.files.clear();
    auto back = pw::storage::decode_resume(pw::storage::encode_resume(r), 0);
    ASSERT_TRUE(back);
    expect_equal(*back, r);
}

TEST(ResumeCodec, MalformedIsRejected) {
    using Mutate = std::function<void(be::Dict&)>;
    const std::vector<std::pair<const char*, Mutate>> cases = {
        {"no version", [](be::Dict& d) { d.erase("version"); }},
        {"version 2", [](be::Dict& d) { d["version"] = 2; }},
        {"version string", [](be::Dict& d) { d["version"] = "1"; }},
        {"no info-hash", [](be::Dict& d) { d.erase("info-hash"); }},
        {"short info-hash", [](be::Dict& d) { d["info-hash"] = std::string(19, 'a'); }},
        {"long info-hash", [](be::Dict& d) { d["info-hash"] = std::string(21, 'a'); }},
        {"int info-hash", [](be::Dict& d) { d["info-hash"] = 5; }},
        {"no save-path", [](be::Dict& d) { d.erase("save-path"); }},
        {"empty save-path", [](be::Dict& d) { d["save-path"] = ""; }},
        {"list save-path", [](be::Dict& d) { d["save-path"] = be::List{}; }},
        {"no pieces", [](be::Dict& d) { d.erase("pieces"); }},
        {"short pieces", [](be::Dict& d) { d["pieces"] = std::string("\xb1", 1); }},
        {"long pieces", [](be::Dict& d) { d["pieces"] = std::string("\xb1\x48\x00", 3); }},
        {"spare bit set", [](be::Dict& d) { d["pieces"] = std::string("\xb1\x4c", 2); }},
        {"int pieces", [](be::Dict& d) { d["pieces"] = 7; }},
        {"no files", [](be::Dict& d) { d.erase("files"); }},
        {"files string", [](be::Dict& d) { d["files"] = "x"; }},
        {"file not list", [](be::Dict& d) { d["files"] = be::List{5}; }},
        {"file one item", [](be::Dict& d) { d["files"] = be::List{be::List{5}}; }},
        {"file three items",
         [](be::Dict& d) {
             d["files"] = be::List{be::List{5, 6, 7}};
         }},
        {"file size string",
         [](be::Dict& d) {
             d["files"] = be::List{be::List{"5", 6}};
         }},
        {"file mtime string",
         [](be::Dict& d) {
             d["files"] = be::List{be::List{5, "6"}};
         }},
        {"file size -2",
         [](be::Dict& d) {
             d["files"] = be::List{be::List{-2, 6}};
         }},
    };
    for (const auto& [name, mutate] : cases) {
        be::Dict d = sample_dict();
        mutate(d);
        EXPECT_FALSE(pw::storage::decode_resume(be::encode(d), 13)) << name;
    }
    // The unmodified dictionary is accepted, so each case above fails for its own reason.
    EXPECT_TRUE(pw::storage::decode_resume(be::encode(sample_dict()), 13));

    std::string good = be::encode(sample_dict());
    EXPECT_FALSE(pw::storage::decode_resume("", 13));
    EXPECT_FALSE(pw::storage::decode_resume("garbage", 13));
    EXPECT_FALSE(pw::storage::decode_resume(good + "x", 13));          // trailing data
    EXPECT_FALSE(pw::storage::decode_resume(good.substr(0, 40), 13));  // truncated
    EXPECT_FALSE(pw::storage::decode_resume("li1ee", 13));             // not a dict
    EXPECT_FALSE(pw::storage::decode_resume(good, 17));                // wrong piece count
    EXPECT_FALSE(pw::storage::decode_resume(good, 8));
    EXPECT_FALSE(pw::storage::decode_resume(good, 12));  // piece 12 would be a spare bit
    EXPECT_FALSE(pw::storage::decode_resume(good, -1));
}

TEST(ResumeFile, SaveAndLoad) {
    TempDir dir;
    fs::path file = dir.path() / "state/resume/abc.resume";  // directories are created
    ResumeData r = sample();
    ASSERT_TRUE(pw::storage::save_resume_file(file, r));
    auto back = pw::storage::load_resume_file(file, 13);
    ASSERT_TRUE(back);
    expect_equal(*back, r);

    r.have.assign(13, true);
    ASSERT_TRUE(pw::storage::save_resume_file(file, r));  // replaces
    back = pw::storage::load_resume_file(file, 13);
    ASSERT_TRUE(back);
    expect_equal(*back, r);
    // No temporary files left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()),
              1);

    EXPECT_FALSE(pw::storage::load_resume_file(file, 17));  // needs 3 bytes
    EXPECT_FALSE(pw::storage::load_resume_file(dir.path() / "missing", 13));
    EXPECT_FALSE(pw::storage::load_resume_file(dir.path(), 13));  // a directory
    write_file(dir.path() / "bad", "d7:version");
    EXPECT_FALSE(pw::storage::load_resume_file(dir.path() / "bad", 13));
}

TEST(ResumeFile, SaveFailsCleanly) {
    TempDir dir;
    write_file(dir.path() / "blocker", "x");
    EXPECT_FALSE(pw::storage::save_resume_file(dir.path() / "blocker/sub/r.resume", sample()));
    fs::create_directories(dir.path() / "isdir");  // rename onto a directory fails
    EXPECT_FALSE(pw::storage::save_resume_file(dir.path() / "isdir", sample()));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

TEST(ResumeStamps, SizeAndMtime) {
    TempDir dir;
    fs::create_directories(dir.path() / "t");
    write_file(dir.path() / "t/a", "hello");
    std::vector<FileEntry> files = {
        {"t/a", 5, 0, false}, {"t/missing", 3, 5, false}, {".pad/2", 2, 8, true}};
    auto st = pw::storage::stamp_files(files, dir.path());
    ASSERT_EQ(st.size(), 3u);
    struct stat sb;
    ASSERT_EQ(::stat((dir.path() / "t/a").c_str(), &sb), 0);
    EXPECT_EQ(st[0].size, 5);
    EXPECT_EQ(st[0].mtime_ns, sb.st_mtim.tv_sec * 1'000'000'000ll + sb.st_mtim.tv_nsec);
    EXPECT_EQ(st[1].size, -1);
    EXPECT_EQ(st[2].size, 0);  // pad files are never on disk; constant stamp
    EXPECT_EQ(st[2].mtime_ns, 0);
}

class ResumeMatch : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(dir.path() / "t");
        write_file(dir.path() / "t/a", "0123456789");
        write_file(dir.path() / "t/b", "abcdef");
        m.info_hash = digest('\x11');
        m.piece_length = 8;
        m.total_size = 16;
        m.piece_hashes.resize(2);
        m.files = {{"t/a", 10, 0, false}, {"t/b", 6, 10, false}};
        r.info_hash = m.info_hash;
        r.save_path = dir.path().string();
        r.have = {true, false};
        r.files = pw::storage::stamp_files(m.files, dir.path());
    }
    TempDir dir;
    pw::meta::Metainfo m;
    ResumeData r;
};

TEST_F(ResumeMatch, UnchangedFilesMatch) {
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path()));
    // The same directory spelled differently.
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path() / "."));
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path() / "t/.."));
    fs::create_directory_symlink(dir.path(), dir.path().string() + "-link");
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path().string() + "-link"));
    fs::remove(dir.path().string() + "-link");
}

// A file renamed from "<name>.part" to its own name once complete (storage.hpp's partial
// names) keeps its stamp: the record still vouches for it under either name.
TEST_F(ResumeMatch, APartialNameKeepsTheStamp) {
    fs::rename(dir.path() / "t/b", dir.path() / "t/b.part");
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path()));
    auto with_suffix = pw::storage::stamp_files(m.files, dir.path());
    EXPECT_EQ(with_suffix[1].size, 6);
    fs::rename(dir.path() / "t/b.part", dir.path() / "t/b");
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path()));
}

TEST_F(ResumeMatch, TouchedFileDoesNotMatch) {
    auto t = fs::last_write_time(dir.path() / "t/b");
    fs::last_write_time(dir.path() / "t/b", t + std::chrono::seconds(1));
    EXPECT_FALSE(pw::storage::resume_matches(r, m, dir.path()));
    fs::last_write_time(dir.path() / "t/b", t);
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path()));
}

TEST_F(ResumeMatch, ResizedOrMissingFileDoesNotMatch) {
    auto t = fs::last_write_time(dir.path() / "t/a");
    fs::resize_file(dir.path() / "t/a", 4);
    fs::last_write_time(dir.path() / "t/a", t);  // same mtime, other size
    EXPECT_FALSE(pw::storage::resume_matches(r, m, dir.path()));
    fs::remove(dir.path() / "t/a");
    EXPECT_FALSE(pw::storage::resume_matches(r, m, dir.path()));
}

TEST_F(ResumeMatch, OtherTorrentOrPlaceDoesNotMatch) {
    ResumeData other = r;
    other.info_hash = digest('\x12');
    EXPECT_FALSE(pw::storage::resume_matches(other, m, dir.path()));
    other = r;
    other.have.push_back(false);
    EXPECT_FALSE(pw::storage::resume_matches(other, m, dir.path()));
    other = r;
    other.files.pop_back();
    EXPECT_FALSE(pw::storage::resume_matches(other, m, dir.path()));
    other = r;
    other.save_path = (dir.path() / "t").string();
    EXPECT_FALSE(pw::storage::resume_matches(other, m, dir.path()));
}

TEST_F(ResumeMatch, PlanTrustsUnchangedFilesAndChecksPiecesOfChangedOnes) {
    // Pieces: 0 = a[0..8), 1 = a[8..10) + b[0..6).
    using Plan = std::vector<signed char>;
    auto now = [&] { return pw::storage::stamp_files(m.files, dir.path()); };
    EXPECT_EQ(pw::storage::resume_plan(r, m, now(), dir.path()), (Plan{1, 0}));
    auto t = fs::last_write_time(dir.path() / "t/b");
    fs::last_write_time(dir.path() / "t/b", t + std::chrono::seconds(1));
    EXPECT_EQ(pw::storage::resume_plan(r, m, now(), dir.path()), (Plan{1, -1}));
    fs::last_write_time(dir.path() / "t/b", t);
    fs::resize_file(dir.path() / "t/a", 4);  // a touches both pieces
    EXPECT_EQ(pw::storage::resume_plan(r, m, now(), dir.path()), (Plan{-1, -1}));
}

TEST_F(ResumeMatch, PlanRefusesARecordOfOtherFiles) {
    auto now = pw::storage::stamp_files(m.files, dir.path());
    ResumeData other = r;
    other.info_hash = digest('\x12');
    EXPECT_FALSE(pw::storage::resume_plan(other, m, now, dir.path()));
    other = r;
    other.have.push_back(false);
    EXPECT_FALSE(pw::storage::resume_plan(other, m, now, dir.path()));
    other = r;
    other.save_path = (dir.path() / "t").string();
    EXPECT_FALSE(pw::storage::resume_plan(other, m, now, dir.path()));
    now.pop_back();
    EXPECT_FALSE(pw::storage::resume_plan(r, m, now, dir.path()));
}

TEST(ResumeCodec, PrioritiesAndPartsRoundTrip) {
    ResumeData r = sample();
    r.priorities = {0, 7, 4};
    r.parts = {4096, 1700000000000000001};
    auto back = pw::storage::decode_resume(pw::storage::encode_resume(r), 13);
    ASSERT_TRUE(back);
    expect_equal(*back, r);
    EXPECT_EQ(back->priorities, r.priorities);
    EXPECT_EQ(back->parts.size, 4096);
    EXPECT_EQ(back->parts.mtime_ns, 1700000000000000001);
    // Without them (older records): all normal, no parts file.
    auto plain = pw::storage::decode_resume(pw::storage::encode_resume(sample()), 13);
    ASSERT_TRUE(plain);
    EXPECT_TRUE(plain->priorities.empty());
    EXPECT_EQ(plain->parts.size, -1);
    // Bad ones are refused: wrong count, out of range, wrong type.
    for (auto bad : {be::List{0, 7}, be::List{0, 8, 4}, be::List{0, -1, 4},
                     be::List{0, std::string("x"), 4}}) {
        be::Dict d = sample_dict();
        d["priorities"] = bad;
        EXPECT_FALSE(pw::storage::decode_resume(be::encode(d), 13));
    }
    be::Dict d = sample_dict();
    d["parts"] = be::List{-2, 0};
    EXPECT_FALSE(pw::storage::decode_resume(be::encode(d), 13));
}

TEST_F(ResumeMatch, PartsFileMustMatchItsStamp) {
    auto parts = dir.path() / ".x.parts";
    r.parts = pw::storage::stamp_file(parts);  // none
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path(), parts));
    write_file(parts, "zz");
    EXPECT_FALSE(pw::storage::resume_matches(r, m, dir.path(), parts));  // appeared
    r.parts = pw::storage::stamp_file(parts);
    EXPECT_TRUE(pw::storage::resume_matches(r, m, dir.path(), parts));
    fs::remove(parts);
    EXPECT_FALSE(pw::storage::resume_matches(r, m, dir.path(), parts));  // lost
}

TEST_F(ResumeMatch, PlanRefusesARecordWhoseLeftoversFileChanged) {
    auto now = pw::storage::stamp_files(m.files, dir.path());
    r.parts = {4096, 17};
    EXPECT_FALSE(pw::storage::resume_plan(r, m, now, dir.path(), {}));          // gone
    EXPECT_FALSE(pw::storage::resume_plan(r, m, now, dir.path(), {4096, 18}));  // touched
    EXPECT_TRUE(pw::storage::resume_plan(r, m, now, dir.path(), {4096, 17}));
    r.parts = {};
    EXPECT_FALSE(pw::storage::resume_plan(r, m, now, dir.path(), {10, 1}));  // appeared
}
