// file_change(): what happened to a settled file, from its stamps then and now.
#include "storage/file_change.hpp"

#include <gtest/gtest.h>

#include "storage/resume.hpp"

using pw::storage::file_change;
using pw::storage::FileStamp;

TEST(FileChange, Unchanged) {
    EXPECT_FALSE(file_change({100, 5}, {100, 5}, 100));
}

TEST(FileChange, Deleted) {
    EXPECT_EQ(file_change({100, 5}, {-1, 0}, 100), "deleted");
}

TEST(FileChange, Truncated) {
    EXPECT_EQ(file_change({100, 5}, {40, 9}, 100), "truncated to 40 of 100 bytes");
    EXPECT_EQ(file_change({100, 5}, {0, 9}, 100), "truncated to 0 of 100 bytes");
}

TEST(FileChange, GrownOrModified) {
    EXPECT_EQ(file_change({100, 5}, {150, 9}, 100), "grown to 150 bytes");
    EXPECT_EQ(file_change({100, 5}, {100, 9}, 100), "modified");
}

TEST(FileChange, SuspectStampMatchesNoRealFile) {
    const FileStamp s = pw::storage::suspect_stamp;
    // Neither a missing file ({-1, 0}) nor any existing one has it: a restart rehashes.
    EXPECT_TRUE(file_change(s, {-1, 0}, 100));
    EXPECT_TRUE(file_change(s, {100, 5}, 100));
}

// A record that marks a file suspect makes the restart hash that file's pieces, whether
// the file is there or gone; the other file's pieces stay trusted.
TEST(FileChange, SuspectStampMakesResumePlanRecheck) {
    pw::meta::Metainfo m;
    m.piece_length = 10;
    m.total_size = 40;
    m.files = {{"a", 20, 0, false}, {"b", 20, 20, false}};
    m.piece_hashes.resize(4);
    pw::storage::ResumeData r;
    r.info_hash = m.info_hash;
    r.save_path = "/nonexistent-pw-root";
    r.have = {true, true, true, true};
    r.files = {{20, 7}, pw::storage::suspect_stamp};
    for (FileStamp b_now : {FileStamp{-1, 0}, FileStamp{20, 7}}) {
        auto plan = pw::storage::resume_plan(r, m, {{20, 7}, b_now}, "/nonexistent-pw-root");
        ASSERT_TRUE(plan);
        EXPECT_EQ(*plan, (std::vector<signed char>{1, 1, -1, -1}));
    }
}
