// KRPC codec (BEP 5, BEP 43): the examples of BEP 5, round trips of every message,
// and malformed input.
#include <gtest/gtest.h>

#include <string>

#include "dht/parse/krpc.hpp"

using namespace pw::dht;
using namespace std::string_literals;

namespace {

NodeId id_of(std::string_view twenty) {
    return pw::Sha1Digest::from_bytes(twenty);
}

Message roundtrip(const Message& m) {
    std::string wire = encode_message(m);
    DecodeResult r = decode_message(wire);
    EXPECT_TRUE(r.ok) << r.error << " in " << wire;
    return r.message;
}

}  // namespace

TEST(Krpc, Bep5PingQuery) {
    auto r = decode_message("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.type, MessageType::query);
    EXPECT_EQ(r.message.method, Method::ping);
    EXPECT_EQ(r.message.transaction, "aa");
    EXPECT_EQ(r.message.id, id_of("abcdefghij0123456789"));
    EXPECT_FALSE(r.message.read_only);
}

TEST(Krpc, Bep5PingEncodesExactly) {
    Message m;
    m.type = MessageType::query;
    m.method = Method::ping;
    m.transaction = "aa";
    m.id = id_of("abcdefghij0123456789");
    EXPECT_EQ(encode_message(m), "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    Message resp;
    resp.type = MessageType::response;
    resp.transaction = "aa";
    resp.id = id_of("mnopqrstuvwxyz123456");
    EXPECT_EQ(encode_message(resp), "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
}

TEST(Krpc, Bep5FindNodeAndGetPeersQueries) {
    auto f = decode_message(
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:"
        "qe");
    ASSERT_TRUE(f.ok) << f.error;
    EXPECT_EQ(f.message.method, Method::find_node);
    EXPECT_EQ(f.message.target, id_of("mnopqrstuvwxyz123456"));
    auto g = decode_message(
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:"
        "y1:qe");
    ASSERT_TRUE(g.ok) << g.error;
    EXPECT_EQ(g.message.method, Method::get_peers);
    EXPECT_EQ(g.message.target, id_of("mnopqrstuvwxyz123456"));
}

TEST(Krpc, Bep5GetPeersResponseWithValues) {
    auto r = decode_message(
        "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:"
        "re");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.type, MessageType::response);
    EXPECT_EQ(r.message.token, "aoeusnth");
    ASSERT_EQ(r.message.values.size(), 2u);
    EXPECT_EQ(r.message.values[0].ip, (std::array<std::uint8_t, 4>{'a', 'x', 'j', 'e'}));
    EXPECT_EQ(r.message.values[0].port, ('.' << 8) | 'u');
}

TEST(Krpc, Bep5AnnouncePeerWithImpliedPort) {
    auto r = decode_message(
        "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:"
        "porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.method, Method::announce_peer);
    EXPECT_TRUE(r.message.implied_port);
    EXPECT_EQ(r.message.port, 6881);
    EXPECT_EQ(r.message.token, "aoeusnth");
}

TEST(Krpc, Bep5Error) {
    auto r = decode_message("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.type, MessageType::error);
    EXPECT_EQ(r.message.error_code, 201);
    EXPECT_EQ(r.message.error_message, "A Generic Error Ocurred");
    Message e;
    e.type = MessageType::error;
    e.transaction = "aa";
    e.error_code = 201;
    e.error_message = "A Generic Error Ocurred";
    EXPECT_EQ(encode_message(e), "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee");
}

TEST(Krpc, RoundTripEveryQuery) {
    Message q;
    q.type = MessageType::query;
    q.transaction = "\x01\x02"s;
    q.version = "PW\0\1"s;
    q.id = id_of("01234567890123456789");
    q.target = id_of("abcdefghijabcdefghij");
    for (Method m : {Method::ping, Method::find_node, Method::get_peers, Method::announce_peer}) {
        q.method = m;
        q.port = 51413;
        q.token = "tok";
        q.implied_port = m == Method::announce_peer;
        Message d = roundtrip(q);
        EXPECT_EQ(d.method, m);
        EXPECT_EQ(d.method_name, method_name(m));
        EXPECT_EQ(d.id, q.id);
        EXPECT_EQ(d.version, q.version);
        EXPECT_EQ(d.transaction, q.transaction);
        if (m != Method::ping) {
            EXPECT_EQ(d.target, q.target);
        }
        if (m == Method::announce_peer) {
            EXPECT_EQ(d.port, 51413);
            EXPECT_EQ(d.token, "tok");
            EXPECT_TRUE(d.implied_port);
        }
    }
}

TEST(Krpc, ReadOnlyFlag) {
    Message q;
    q.type = MessageType::query;
    q.method = Method::ping;
    q.transaction = "xy";
    q.read_only = true;
    std::string wire = encode_message(q);
    EXPECT_NE(wire.find("2:roi1e"), std::string::npos);
    EXPECT_TRUE(roundtrip(q).read_only);
    q.read_only = false;
    EXPECT_EQ(encode_message(q).find("2:ro"), std::string::npos);
}

TEST(Krpc, RoundTripResponseNodesValuesToken) {
    Message r;
    r.type = MessageType::response;
    r.transaction = "t1";
    r.id = id_of("01234567890123456789");
    r.token = "secret12";
    for (int i = 0; i < 8; ++i) {
        NodeInfo n;
        n.id.bytes.fill(static_cast<std::uint8_t>(i));
        n.endpoint.ip = {127, 0, 0, static_cast<std::uint8_t>(i + 1)};
        n.endpoint.port = static_cast<std::uint16_t>(6881 + i);
        r.nodes.push_back(n);
        r.values.push_back(n.endpoint);
    }
    Message d = roundtrip(r);
    EXPECT_EQ(d.nodes, r.nodes);
    EXPECT_EQ(d.values, r.values);
    EXPECT_EQ(d.token, "secret12");
    EXPECT_EQ(compact_nodes(r.nodes).size(), 8 * compact_node_size);
}

TEST(Krpc, UnknownMethodAndExtraKeysTolerated) {
    auto r = decode_message(
        "d1:ad2:id20:abcdefghij01234567895:extrai5ee1:q9:sample_xy1:t2:aa1:v4:LT\x01\x02"
        "1:y1:q3:zzzl1:aee"s);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.method, Method::unknown);
    EXPECT_EQ(r.message.method_name, "sample_xy");
    EXPECT_EQ(r.message.version, "LT\x01\x02"s);
}

TEST(Krpc, Ipv6ValuesSkippedPortZeroDropped) {
    std::string v6(18, 'x');
    std::string zero_port = "\x7f\x00\x00\x01\x00\x00"s;
    std::string ok = "\x7f\x00\x00\x01\x1a\xe1"s;
    std::string wire = "d1:rd2:id20:abcdefghij01234567896:valuesl18:" + v6 + "6:" + zero_port +
                       "6:" + ok + "ee1:t2:aa1:y1:re";
    auto r = decode_message(wire);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.message.values.size(), 1u);
    EXPECT_EQ(r.message.values[0].port, 6881);
    EXPECT_EQ(r.message.values[0].to_string(), "127.0.0.1:6881");
}

TEST(Krpc, MalformedInputsRejected) {
    const std::string bad[] = {
        "",
        "garbage",
        "i42e",
        "le",
        "d1:t2:aae",                                                      // no y
        "d1:t2:aa1:y1:xe",                                                // bad y
        "d1:y1:qe",                                                       // no t
        "d1:t0:1:y1:qe",                                                  // empty t
        "d1:t17:aaaaaaaaaaaaaaaaa1:y1:re",                                // t too long
        "d1:q4:ping1:t2:aa1:y1:qe",                                       // no a
        "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",                         // short id
        "d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe",                // no q
        "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe",  // no target
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe"
        "1:q13:announce_peer1:t2:aa1:y1:qe",  // port 0
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe"
        "1:q13:announce_peer1:t2:aa1:y1:qe",  // port too big
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881ee"
        "1:q13:announce_peer1:t2:aa1:y1:qe",  // no token
        "d1:rd2:id20:abcdefghij01234567895:nodes25:aaaaaaaaaaaaaaaaaaaaaaaaae1:t2:aa1:y1:re",  // 25
        "d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re",  // 5-byte value
        "d1:rd2:id20:abcdefghij01234567896:valuesi1ee1:t2:aa1:y1:re",        // values not list
        "d1:rde1:t2:aa1:y1:re",                                              // response without id
        "d1:eli201ee1:t2:aa1:y1:ee",  // error without message
        "d1:ei201e1:t2:aa1:y1:ee",    // error not a list
        "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe trailing",
    };
    for (const std::string& s : bad) {
        auto r = decode_message(s);
        EXPECT_FALSE(r.ok) << "accepted: " << s;
        EXPECT_FALSE(r.error.empty());
    }
}

TEST(Krpc, BadQueryKeepsTransactionForErrorReply) {
    auto r = decode_message("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe");
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.has_transaction);
    EXPECT_EQ(r.message.transaction, "zz");
    EXPECT_EQ(r.message.type, MessageType::query);
}

TEST(Krpc, HugeNodeListIsCapped) {
    std::string nodes;
    for (int i = 0; i < 500; ++i) {
        std::string id(20, static_cast<char>(i));
        nodes += id + "\x7f\x00\x00\x01\x1a\xe1"s;
    }
    std::string wire = "d1:rd2:id20:abcdefghij01234567895:nodes" + std::to_string(nodes.size()) +
                       ":" + nodes + "e1:t2:aa1:y1:re";
    auto r = decode_message(wire);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.nodes.size(), max_nodes_decoded);
}

TEST(Krpc, DeepNestingRejectedCheaply) {
    std::string deep = "d1:t2:aa1:y1:q1:x" + std::string(5000, 'l') + std::string(5000, 'e') + "e";
    EXPECT_FALSE(decode_message(deep).ok);
}
