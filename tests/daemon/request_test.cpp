// The RPC request parser, both dialects.
#include "daemon/rpc/parse/request.hpp"

#include <gtest/gtest.h>

using namespace pw::daemon::rpc;

namespace {
Request ok(std::string_view body) {
    auto r = parse_request(body);
    EXPECT_TRUE(std::holds_alternative<Request>(r)) << body;
    return std::holds_alternative<Request>(r) ? std::get<Request>(r) : Request{};
}
RpcError bad(std::string_view body) {
    auto r = parse_request(body);
    EXPECT_TRUE(std::holds_alternative<RpcError>(r)) << body;
    return std::holds_alternative<RpcError>(r) ? std::get<RpcError>(r) : RpcError{};
}
}  // namespace

TEST(RpcRequest, NameSpellings) {
    EXPECT_EQ(to_snake("hashString"), "hash_string");
    EXPECT_EQ(to_snake("download-dir"), "download_dir");
    EXPECT_EQ(to_snake("peer_limit"), "peer_limit");
    EXPECT_EQ(to_snake("peersGettingFromUs"), "peers_getting_from_us");
    EXPECT_EQ(to_camel("peers_getting_from_us"), "peersGettingFromUs");
    EXPECT_EQ(to_kebab("download_dir"), "download-dir");
}

TEST(RpcRequest, Legacy) {
    auto r = ok(
        R"({"method":"torrent-get","arguments":{"fields":["hashString","id"],"ids":[1,2]},"tag":7})");
    EXPECT_EQ(r.dialect, Dialect::legacy);
    EXPECT_EQ(r.method, "torrent_get");
    EXPECT_EQ(r.id, 7);
    EXPECT_EQ(r.params.at("fields").as_array().at(0), "hash_string");
    EXPECT_FALSE(r.notification);
    auto k = ok(
        R"({"method":"torrent-remove","arguments":{"delete-local-data":true,"nested":{"camelKey":1}}})");
    EXPECT_TRUE(k.params.at("delete_local_data").as_bool());
    EXPECT_TRUE(k.params.at("nested").as_object().contains("camel_key"));
    EXPECT_TRUE(k.id.is_null());
    EXPECT_TRUE(ok(R"({"method":"session-get"})").params.empty());
}

TEST(RpcRequest, JsonRpc) {
    auto r = ok(
        R"({"jsonrpc":"2.0","method":"torrent_get","params":{"fields":["hash_string"]},"id":"a"})");
    EXPECT_EQ(r.dialect, Dialect::jsonrpc);
    EXPECT_EQ(r.method, "torrent_get");
    EXPECT_EQ(r.id, "a");
    EXPECT_FALSE(r.notification);
    EXPECT_TRUE(ok(R"({"jsonrpc":"2.0","method":"session_stats"})").notification);
    EXPECT_FALSE(ok(R"({"jsonrpc":"2.0","method":"session_stats","id":null})").notification);
}

TEST(RpcRequest, BadInputGetsTheDialectsError) {
    auto e = bad("not json");
    EXPECT_EQ(e.code, ErrorCode::parse_error);
    EXPECT_EQ(bad("[1,2]").code, ErrorCode::invalid_request);
    EXPECT_EQ(bad("42").code, ErrorCode::invalid_request);
    auto j = bad(R"({"jsonrpc":"1.0","method":"x","id":3})");
    EXPECT_EQ(j.dialect, Dialect::jsonrpc);
    EXPECT_EQ(j.code, ErrorCode::invalid_request);
    EXPECT_EQ(j.id, 3);
    EXPECT_EQ(bad(R"({"jsonrpc":"2.0","method":"x","id":{}})").code, ErrorCode::invalid_request);
    EXPECT_EQ(bad(R"({"jsonrpc":"2.0","method":5,"id":1})").code, ErrorCode::invalid_request);
    EXPECT_EQ(bad(R"({"jsonrpc":"2.0","id":1})").code, ErrorCode::invalid_request);
    EXPECT_EQ(bad(R"({"jsonrpc":"2.0","method":"x","params":[1],"id":1})").code,
              ErrorCode::invalid_params);
    auto l = bad(R"({"method":"torrent-get","arguments":"x","tag":4})");
    EXPECT_EQ(l.dialect, Dialect::legacy);
    EXPECT_EQ(l.code, ErrorCode::invalid_params);
    EXPECT_EQ(l.id, 4);
    std::string deep = std::string(100, '[') + std::string(100, ']');
    EXPECT_EQ(bad(R"({"method":"x","arguments":{"a":)" + deep + "}}").code, ErrorCode::parse_error);
}
