// The RPC answer encoder: a result member given as JSON text already (torrent-get's
// "torrents") gives the same answer as the one built as a tree, in both dialects.
#include "daemon/rpc/response.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

using namespace pw::daemon::rpc;
namespace json = boost::json;

namespace {
// Both encodings of one result: `torrents` as a tree member, and as raw text.
void expect_same(Dialect d, const json::value& id, const json::object& others) {
    json::array torrents{json::object{{"id", 1}, {"name", "a \"quoted\" name"}},
                         json::object{{"id", 2}, {"name", "b"}}};
    json::object tree;
    tree["torrents"] = torrents;
    for (auto& kv : others) tree[kv.key()] = kv.value();
    auto want = encode_success(d, id, tree);
    std::string raw;
    append_json(raw, torrents);
    auto got = encode_success(d, id, others, "torrents", std::move(raw));
    EXPECT_EQ(got, want);
    EXPECT_EQ(json::parse(got), json::parse(want));
}
}  // namespace

TEST(RpcResponse, RawMemberMatchesTheTree) {
    for (auto d : {Dialect::legacy, Dialect::jsonrpc}) {
        expect_same(d, json::value(7), {});
        expect_same(d, json::value(nullptr), {});
        expect_same(d, json::value("tag-string"), json::object{{"removed", json::array{3, 4}}});
    }
}

TEST(RpcResponse, RawMemberEnvelope) {
    auto legacy = encode_success(Dialect::legacy, json::value(5), {}, "torrents", "[]");
    EXPECT_EQ(legacy, R"({"result":"success","arguments":{"torrents":[]},"tag":5})");
    auto rpc2 = encode_success(Dialect::jsonrpc, json::value(9),
                               json::object{{"removed", json::array{}}}, "torrents", "[1]");
    EXPECT_EQ(rpc2, R"({"jsonrpc":"2.0","result":{"torrents":[1],"removed":[]},"id":9})");
}

TEST(RpcResponse, AppendJsonAppends) {
    std::string s = "x";
    append_json(s, json::parse(R"({"k":[1,2.5,"\u0001"]})"));
    EXPECT_EQ(s, "x" + json::serialize(json::parse(R"({"k":[1,2.5,"\u0001"]})")));
    std::string big;
    append_json(big, json::value(std::string(10000, 'z')));  // longer than one read
    EXPECT_EQ(big.size(), 10002u);
}
