// Bencode decoder and encoder (BEP 3): valid values, exact raw bytes, every error
// with its byte offset, limits, and encoder ordering and round trips.
#include "bencode/bencode.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace pw::bencode {
namespace {

// Decodes `in` expecting failure; returns the error for inspection.
DecodeError decode_error(std::string_view in, const Limits& lim = {}) {
    try {
        decode(in, lim);
    } catch (const DecodeError& e) {
        return e;
    }
    ADD_FAILURE() << "decoding '" << in << "' did not fail";
    return DecodeError(0, "none");
}

TEST(BencodeDecode, Integers) {
    EXPECT_EQ(decode("i0e").root().as_int(), 0);
    EXPECT_EQ(decode("i42e").root().as_int(), 42);
    EXPECT_EQ(decode("i-17e").root().as_int(), -17);
    EXPECT_EQ(decode("i9223372036854775807e").root().as_int(),
              std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(decode("i-9223372036854775808e").root().as_int(),
              std::numeric_limits<std::int64_t>::min());
    EXPECT_TRUE(decode("i1e").root().is_int());
}

TEST(BencodeDecode, Strings) {
    auto doc = decode("4:spam");
    EXPECT_TRUE(doc.root().is_string());
    EXPECT_EQ(doc.root().as_string(), "spam");
    EXPECT_EQ(decode("0:").root().as_string(), "");
    std::string binary("3:\0\xff\n", 5);
    EXPECT_EQ(decode(binary).root().as_string(), std::string_view("\0\xff\n", 3));
}

TEST(BencodeDecode, ListsAndDicts) {
    auto doc = decode("l4:spami7ee");
    Node l = doc.root();
    ASSERT_TRUE(l.is_list());
    EXPECT_EQ(l.size(), 2u);
    EXPECT_EQ(l.at(0).as_string(), "spam");
    EXPECT_EQ(l.at(1).as_int(), 7);
    EXPECT_FALSE(l.at(2));

    auto d = decode("d3:cow3:moo4:spaml1:a1:bee");
    Node r = d.root();
    ASSERT_TRUE(r.is_dict());
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(r.find_string("cow"), "moo");
    EXPECT_EQ(r.find("spam").size(), 2u);
    EXPECT_FALSE(r.find("missing"));
    EXPECT_FALSE(r.find_int("cow").has_value());
    auto items = r.items();
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].first, "cow");
    EXPECT_EQ(items[1].first, "spam");

    EXPECT_EQ(decode("le").root().size(), 0u);
    EXPECT_EQ(decode("de").root().size(), 0u);
}

TEST(BencodeDecode, AbsentNodeIsSafe) {
    Node n;
    EXPECT_FALSE(n);
    EXPECT_FALSE(n.is_dict());
    EXPECT_EQ(n.as_int(), 0);
    EXPECT_EQ(n.as_string(), "");
    EXPECT_EQ(n.raw(), "");
    EXPECT_EQ(n.size(), 0u);
    EXPECT_FALSE(n.find("x"));
    EXPECT_TRUE(n.elements().empty());
}

TEST(BencodeDecode, RawBytesOfNestedValues) {
    std::string in = "d1:ald1:bi1eee1:c3:xyz1:di-5ee";
    auto doc = decode(in);
    Node root = doc.root();
    EXPECT_EQ(root.raw(), in);
    Node a = root.find("a");
    EXPECT_EQ(a.raw(), "ld1:bi1eee");
    EXPECT_EQ(a.offset(), 4u);
    EXPECT_EQ(a.at(0).raw(), "d1:bi1ee");
    EXPECT_EQ(a.at(0).offset(), 5u);
    EXPECT_EQ(a.at(0).find("b").raw(), "i1e");
    EXPECT_EQ(root.find("c").raw(), "3:xyz");
    EXPECT_EQ(root.find("d").raw(), "i-5e");
    EXPECT_EQ(root.find("d").offset(), in.size() - 5);
}

TEST(BencodeDecode, UnsortedUniqueKeysAccepted) {
    auto doc = decode("d1:bi1e1:ai2ee");
    EXPECT_EQ(doc.root().find_int("a"), 2);
    EXPECT_EQ(doc.root().find_int("b"), 1);
}

TEST(BencodeDecode, DecodePrefix) {
    std::size_t used = 0;
    auto doc = decode_prefix("i5eXYZ", used);
    EXPECT_EQ(used, 3u);
    EXPECT_EQ(doc.root().as_int(), 5);
}

struct ErrorCase {
    const char* input;
    std::size_t offset;
    const char* reason;
};

class BencodeErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(BencodeErrors, ReportsReasonAndOffset) {
    const ErrorCase& c = GetParam();
    DecodeError e = decode_error(c.input);
    EXPECT_EQ(e.reason(), c.reason) << c.input;
    EXPECT_EQ(e.offset(), c.offset) << c.input;
    EXPECT_NE(std::string(e.what()).find(" at byte " + std::to_string(c.offset)),
              std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    All, BencodeErrors,
    ::testing::Values(
        ErrorCase{"", 0, "unexpected end of input"}, ErrorCase{"x", 0, "unexpected character 'x'"},
        ErrorCase{"i01e", 3, "leading zero in number"}, ErrorCase{"i-0e", 3, "negative zero"},
        ErrorCase{"i9223372036854775808e", 1, "integer out of range"},
        ErrorCase{"i-9223372036854775809e", 1, "integer out of range"},
        ErrorCase{"i99999999999999999999999e", 1, "integer out of range"},
        ErrorCase{"ie", 1, "expected digits"}, ErrorCase{"i-e", 2, "expected digits"},
        ErrorCase{"i1-e", 2, "expected 'e'"}, ErrorCase{"i12", 3, "unexpected end of input"},
        ErrorCase{"02:ab", 2, "leading zero in number"},
        ErrorCase{"5:abc", 2, "string runs past end of input"},
        ErrorCase{"3", 1, "unexpected end of input"}, ErrorCase{"l", 1, "unexpected end of input"},
        ErrorCase{"li1e", 4, "unexpected end of input"},
        ErrorCase{"d1:a", 4, "unexpected end of input"},
        ErrorCase{"di1ei2ee", 1, "dictionary key is not a string"},
        ErrorCase{"dlei1ee", 1, "dictionary key is not a string"},
        ErrorCase{"d1:ai1e1:ai2ee", 10, "duplicate dictionary key"},
        ErrorCase{"d1:ai1e1:bi2e1:ai3ee", 16, "duplicate dictionary key"},
        ErrorCase{"i1ex", 3, "trailing data after value"},
        ErrorCase{"lei0e", 2, "trailing data after value"}));

TEST(BencodeLimits, Depth) {
    std::string ok = std::string(64, 'l') + std::string(64, 'e');
    EXPECT_NO_THROW(decode(ok));
    std::string deep = std::string(65, 'l') + std::string(65, 'e');
    DecodeError e = decode_error(deep);
    EXPECT_EQ(e.reason(), "nesting too deep");
    EXPECT_EQ(e.offset(), 64u);
    Limits lim;
    lim.max_depth = 2;
    EXPECT_NO_THROW(decode("llee", lim));
    EXPECT_EQ(decode_error("llleee", lim).offset(), 2u);
}

TEST(BencodeLimits, Tokens) {
    Limits lim;
    lim.max_tokens = 3;
    EXPECT_NO_THROW(decode("li1ei2ee", lim));
    DecodeError e = decode_error("li1ei2ei3ee", lim);
    EXPECT_EQ(e.reason(), "too many values");
    EXPECT_EQ(e.offset(), 7u);
}

TEST(BencodeLimits, StringLength) {
    Limits lim;
    lim.max_string = 2;
    EXPECT_NO_THROW(decode("2:ab", lim));
    DecodeError e = decode_error("3:abc", lim);
    EXPECT_EQ(e.reason(), "string too long");
    EXPECT_EQ(e.offset(), 2u);
}

TEST(BencodeEncode, Scalars) {
    EXPECT_EQ(encode(Value(0)), "i0e");
    EXPECT_EQ(encode(Value(-3)), "i-3e");
    EXPECT_EQ(encode(Value(std::numeric_limits<std::int64_t>::min())), "i-9223372036854775808e");
    EXPECT_EQ(encode(Value("spam")), "4:spam");
    EXPECT_EQ(encode(Value(std::string("a\0b", 3))), std::string("3:a\0b", 5));
    std::string out;
    put_int(out, 7);
    put_string(out, "xy");
    EXPECT_EQ(out, "i7e2:xy");
}

TEST(BencodeEncode, KeysSortedAsRawBytes) {
    Dict d;
    d["\xff"] = 1;
    d["a"] = 2;
    d["B"] = 3;
    d["ab"] = 4;
    d[""] = 5;
    EXPECT_EQ(encode(d), "d0:i5e1:Bi3e1:ai2e2:abi4e1:\xffi1ee");
}

TEST(BencodeEncode, RoundTrip) {
    Dict inner{{"length", 5}, {"path", List{"dir", "file.txt"}}};
    Dict top{{"info", Dict{{"files", List{inner, inner}}, {"name", "x"}}},
             {"announce", "http://127.0.0.1/a"},
             {"n", -1}};
    std::string enc = encode(top);
    auto doc = decode(enc);
    Node r = doc.root();
    EXPECT_EQ(r.find_string("announce"), "http://127.0.0.1/a");
    EXPECT_EQ(r.find_int("n"), -1);
    Node files = r.find("info").find("files");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files.at(1).find("path").at(1).as_string(), "file.txt");
    EXPECT_EQ(r.find("info").raw(), encode(top.at("info")));
}

}  // namespace
}  // namespace pw::bencode
