// KRPC codec (BEP 5, BEP 43, BEP 32): the examples of BEP 5, round trips of every
// message, nodes6/want/IPv6 values, and malformed input.
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
    EXPECT_EQ(r.message.values[0].ip_bytes(), "axje");
    EXPECT_FALSE(r.message.values[0].v6);
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

TEST(Krpc, HybridValuesParsedPortZeroDropped) {
    // BEP 32: a "values" list may mix 6-byte IPv4 and 18-byte IPv6 peers.
    std::string v6 = "\x20\x01\x0d\xb8"s + std::string(11, '\0') + "\x01\x1a\xe2"s;
    std::string zero_port = "\x7f\x00\x00\x01\x00\x00"s;
    std::string ok = "\x7f\x00\x00\x01\x1a\xe1"s;
    std::string wire = "d1:rd2:id20:abcdefghij01234567896:valuesl18:" + v6 + "6:" + zero_port +
                       "6:" + ok + "ee1:t2:aa1:y1:re";
    auto r = decode_message(wire);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.message.values.size(), 2u);
    EXPECT_TRUE(r.message.values[0].v6);
    EXPECT_EQ(r.message.values[0].to_string(), "[2001:db8::1]:6882");
    EXPECT_EQ(r.message.values[0].ip_bytes().size(), 16u);
    EXPECT_EQ(compact_endpoint(r.message.values[0]), v6);
    EXPECT_FALSE(r.message.values[1].v6);
    EXPECT_EQ(r.message.values[1].to_string(), "127.0.0.1:6881");
}

namespace {
Endpoint v6_endpoint(std::uint8_t last, std::uint16_t port) {
    Endpoint ep;
    ep.ip[15] = last;  // ::last
    ep.port = port;
    ep.v6 = true;
    return ep;
}
}  // namespace

TEST(Krpc, Nodes6DecodedAsIpv6) {
    std::string node6 = std::string(20, 'n') + std::string(15, '\0') + "\x01\x1a\xe1"s;
    std::string wire = "d1:rd2:id20:abcdefghij01234567896:nodes638:" + node6 + "e1:t2:aa1:y1:re";
    auto r = decode_message(wire);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.message.nodes.empty());
    ASSERT_EQ(r.message.nodes6.size(), 1u);
    EXPECT_EQ(r.message.nodes6[0].id, id_of(std::string(20, 'n')));
    EXPECT_EQ(r.message.nodes6[0].endpoint, v6_endpoint(1, 6881));
    EXPECT_EQ(r.message.nodes6[0].endpoint.to_string(), "[::1]:6881");
}

TEST(Krpc, RoundTripNodesAndNodes6) {
    Message r;
    r.type = MessageType::response;
    r.transaction = "t6";
    r.id = id_of("01234567890123456789");
    r.token = "tok";
    for (int i = 0; i < 8; ++i) {
        NodeInfo n4, n6;
        n4.id.bytes.fill(static_cast<std::uint8_t>(i));
        n4.endpoint.ip = {10, 0, 0, static_cast<std::uint8_t>(i + 1)};
        n4.endpoint.port = static_cast<std::uint16_t>(7000 + i);
        n6.id.bytes.fill(static_cast<std::uint8_t>(100 + i));
        n6.endpoint =
            v6_endpoint(static_cast<std::uint8_t>(i + 1), static_cast<std::uint16_t>(8000 + i));
        r.nodes.push_back(n4);
        r.nodes6.push_back(n6);
        r.values.push_back(i % 2 ? n4.endpoint : n6.endpoint);
    }
    std::string wire = encode_message(r);
    EXPECT_NE(wire.find("6:nodes6304:"), std::string::npos);  // 8 x 38 bytes
    EXPECT_NE(wire.find("5:nodes208:"), std::string::npos);   // 8 x 26 bytes
    Message d = roundtrip(r);
    EXPECT_EQ(d.nodes, r.nodes);
    EXPECT_EQ(d.nodes6, r.nodes6);
    EXPECT_EQ(d.values, r.values);
    EXPECT_EQ(compact_nodes(r.nodes6).size(), 8 * compact_node6_size);
}

TEST(Krpc, WantDecodedAndEncoded) {
    auto both = decode_message(
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee"
        "1:q9:find_node1:t2:aa1:y1:qe");
    ASSERT_TRUE(both.ok) << both.error;
    EXPECT_EQ(both.message.want, want_n4 | want_n6);
    auto six = decode_message(
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:wantl2:n6ee"
        "1:q9:get_peers1:t2:aa1:y1:qe");
    ASSERT_TRUE(six.ok) << six.error;
    EXPECT_EQ(six.message.want, want_n6);
    // Unknown flags and non-string entries are ignored; no "want" is 0.
    auto odd = decode_message(
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n9i4eee"
        "1:q9:find_node1:t2:aa1:y1:qe");
    ASSERT_TRUE(odd.ok) << odd.error;
    EXPECT_EQ(odd.message.want, 0);

    Message q;
    q.transaction = "qq";
    q.id = id_of("abcdefghij0123456789");
    q.method = Method::get_peers;
    q.target = id_of("mnopqrstuvwxyz123456");
    q.want = want_n4 | want_n6;
    EXPECT_NE(encode_message(q).find("4:wantl2:n42:n6e"), std::string::npos);
    EXPECT_EQ(roundtrip(q).want, want_n4 | want_n6);
    q.want = want_n6;
    EXPECT_NE(encode_message(q).find("4:wantl2:n6e"), std::string::npos);
    q.want = 0;
    EXPECT_EQ(encode_message(q).find("4:want"), std::string::npos);
    q.method = Method::ping;  // only find_node and get_peers carry it
    q.want = want_n4;
    EXPECT_EQ(encode_message(q).find("4:want"), std::string::npos);
}

TEST(Krpc, MalformedInputsRejected) {
    const std::
        string
            bad
                [] =
                    {
                        "",
                        "garbage",
                        "i42e",
                        "le",
                        "d1:t2:aae",                                        // no y
                        "d1:t2:aa1:y1:xe",                                  // bad y
                        "d1:y1:qe",                                         // no t
                        "d1:t0:1:y1:qe",                                    // empty t
                        "d1:t17:aaaaaaaaaaaaaaaaa1:y1:re",                  // t too long
                        "d1:q4:ping1:t2:aa1:y1:qe",                         // no a
                        "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",           // short id
                        "d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe",  // no q
                        "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe",  // no
                                                                                          // target
                        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:"
                        "porti0e5:token1:xe"
                        "1:q13:announce_peer1:t2:aa1:y1:qe",  // port 0
                        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:"
                        "porti70000e5:token1:xe"
                        "1:q13:announce_peer1:t2:aa1:y1:qe",  // port too big
                        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:"
                        "porti6881ee"
                        "1:q13:announce_peer1:t2:aa1:y1:qe",  // no token
                        "d1:rd2:id20:abcdefghij01234567895:nodes25:aaaaaaaaaaaaaaaaaaaaaaaaae1:t2:"
                        "aa1:y1:re",                                                         // 25
                        "d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re",  // 5-byte
                                                                                             // value
                        "d1:rd2:id20:abcdefghij01234567896:valuesi1ee1:t2:aa1:y1:re",  // values not
                                                                                       // list
                        "d1:rd2:id20:abcdefghij01234567896:valuesl17:aaaaaaaaaaaaaaaaaee1:t2:aa1:"
                        "y1:re",  // 17
                        "d1:rd2:id20:abcdefghij01234567896:valuesl19:aaaaaaaaaaaaaaaaaaaee1:t2:aa1:"
                        "y1:re",  // 19
                        "d1:rd2:id20:abcdefghij01234567896:nodes626:aaaaaaaaaaaaaaaaaaaaaaaaaae1:"
                        "t2:aa1:y1:re",                                                // 26
                        "d1:rd2:id20:abcdefghij01234567896:nodes6i1ee1:t2:aa1:y1:re",  // nodes6 not
                                                                                       // a string
                        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:want2:n4e"
                        "1:q9:find_node1:t2:aa1:y1:qe",  // want not a list
                        "d1:rde1:t2:aa1:y1:re",          // response without id
                        "d1:eli201ee1:t2:aa1:y1:ee",     // error without message
                        "d1:ei201e1:t2:aa1:y1:ee",       // error not a list
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

    std::string nodes6;
    for (int i = 0; i < 500; ++i)
        nodes6 += std::string(20, static_cast<char>(i)) + std::string(15, '\0') + "\x01\x1a\xe1"s;
    wire = "d1:rd2:id20:abcdefghij01234567896:nodes6" + std::to_string(nodes6.size()) + ":" +
           nodes6 + "e1:t2:aa1:y1:re";
    r = decode_message(wire);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.message.nodes6.size(), max_nodes_decoded);
}

TEST(Krpc, DeepNestingRejectedCheaply) {
    std::string deep = "d1:t2:aa1:y1:q1:x" + std::string(5000, 'l') + std::string(5000, 'e') + "e";
    EXPECT_FALSE(decode_message(deep).ok);
}

TEST(Krpc, Bep42IpFieldRoundTrips) {
    // A reply carrying the requester's address at the top level (BEP 42 "Bootstrapping").
    auto r = decode_message("d2:ip6:\x7c\x1f\x4b\x15\x1a\xe1"
                            "1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re"s);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_TRUE(r.message.ip.has_value());
    EXPECT_EQ(r.message.ip->to_string(), "124.31.75.21:6881");

    Message e;
    e.type = MessageType::error;
    e.transaction = "ab";
    e.error_code = 203;
    e.error_message = "x";
    Endpoint v6;
    v6.v6 = true;
    v6.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    v6.port = 51413;
    e.ip = v6;
    std::string wire = encode_message(e);
    EXPECT_NE(wire.find("2:ip18:"), std::string::npos);
    Message back = roundtrip(e);
    ASSERT_TRUE(back.ip.has_value());
    EXPECT_EQ(*back.ip, v6);

    Message q;
    q.type = MessageType::query;
    q.method = Method::ping;
    q.transaction = "aa";
    EXPECT_EQ(encode_message(q).find("2:ip"), std::string::npos);
    EXPECT_FALSE(roundtrip(q).ip.has_value());
}

TEST(Krpc, Bep42IpOfAnotherSizeIsIgnored) {
    for (std::string ip : {"4:abcd"s, "0:"s, "7:abcdefg"s, "i5e"s}) {
        auto r = decode_message("d2:ip" + ip + "1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re");
        ASSERT_TRUE(r.ok) << ip << ": " << r.error;
        EXPECT_FALSE(r.message.ip.has_value()) << ip;
    }
}
