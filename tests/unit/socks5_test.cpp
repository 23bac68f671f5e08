// The SOCKS5 codec (RFC 1928, RFC 1929) and the --proxy URL parser.
#include "proxy/parse/socks5.hpp"

#include <gtest/gtest.h>

#include "proxy/parse/proxy_url.hpp"

using namespace pw::proxy;
using namespace pw::proxy::socks5;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int x : b) s += static_cast<char>(x);
    return s;
}

template <class T>
const T& ok(const std::variant<T, Error>& v) {
    if (auto* e = std::get_if<Error>(&v)) ADD_FAILURE() << e->reason;
    return std::get<T>(v);
}

}  // namespace

TEST(Socks5, Greeting) {
    EXPECT_EQ(encode_greeting(false), bytes({5, 1, 0}));
    EXPECT_EQ(encode_greeting(true), bytes({5, 2, 0, 2}));
    EXPECT_EQ(greeting_size(bytes({5})), 0u);
    EXPECT_EQ(greeting_size(bytes({5, 2})), 4u);
    EXPECT_EQ(ok(decode_greeting(bytes({5, 2, 0, 2}))), bytes({0, 2}));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_greeting(bytes({4, 1, 0}))));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_greeting(bytes({5, 0}))));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_greeting(bytes({5, 2, 0}))));
}

TEST(Socks5, MethodSelection) {
    EXPECT_EQ(ok(decode_method_selection(bytes({5, 0}))), Method::none);
    EXPECT_EQ(ok(decode_method_selection(bytes({5, 2}))), Method::user_pass);
    EXPECT_EQ(ok(decode_method_selection(bytes({5, 0xff}))), Method::unacceptable);
    EXPECT_TRUE(std::holds_alternative<Error>(decode_method_selection(bytes({5, 1}))));  // GSSAPI
    EXPECT_TRUE(std::holds_alternative<Error>(decode_method_selection(bytes({4, 0}))));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_method_selection(bytes({5}))));
    EXPECT_EQ(encode_method_selection(Method::user_pass), bytes({5, 2}));
}

TEST(Socks5, UserPassAuth) {
    EXPECT_EQ(ok(encode_auth_request("ab", "xyz")), bytes({1, 2, 'a', 'b', 3, 'x', 'y', 'z'}));
    EXPECT_TRUE(std::holds_alternative<Error>(encode_auth_request("", "x")));
    EXPECT_TRUE(std::holds_alternative<Error>(encode_auth_request("u", std::string(256, 'p'))));
    EXPECT_TRUE(
        std::holds_alternative<std::string>(encode_auth_request(std::string(255, 'u'), "p")));
    const std::string req = bytes({1, 2, 'a', 'b', 3, 'x', 'y', 'z'});
    EXPECT_EQ(ok(auth_request_size(req.substr(0, 1))), 0u);
    EXPECT_EQ(ok(auth_request_size(req.substr(0, 4))), 0u);
    EXPECT_EQ(ok(auth_request_size(req.substr(0, 5))), req.size());
    auto c = ok(decode_auth_request(req));
    EXPECT_EQ(c.user, "ab");
    EXPECT_EQ(c.pass, "xyz");
    EXPECT_TRUE(std::holds_alternative<Error>(decode_auth_request(req + "!")));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_auth_request(req.substr(0, 7))));
    EXPECT_TRUE(ok(decode_auth_reply(encode_auth_reply(true))));
    EXPECT_FALSE(ok(decode_auth_reply(bytes({1, 1}))));
    EXPECT_FALSE(ok(decode_auth_reply(bytes({1, 0xff}))));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_auth_reply(bytes({5, 0}))));
}

TEST(Socks5, ConnectRequestIpv4Ipv6Domain) {
    EXPECT_EQ(ok(encode_request(Command::connect, Address::v4({127, 0, 0, 2}, 6881))),
              bytes({5, 1, 0, 1, 127, 0, 0, 2, 0x1a, 0xe1}));
    std::array<std::uint8_t, 16> v6{};
    v6[15] = 1;
    const std::string r6 = ok(encode_request(Command::connect, Address::v6(v6, 80)));
    ASSERT_EQ(r6.size(), 4u + 16 + 2);
    EXPECT_EQ(r6[3], 4);
    const std::string rd =
        ok(encode_request(Command::udp_associate, Address::name("tracker.test", 6969)));
    EXPECT_EQ(rd.substr(0, 5), bytes({5, 3, 0, 3, 12}));
    EXPECT_EQ(rd.substr(5, 12), "tracker.test");
    EXPECT_TRUE(
        std::holds_alternative<Error>(encode_request(Command::connect, Address::name("", 1))));
    EXPECT_TRUE(std::holds_alternative<Error>(
        encode_request(Command::connect, Address::name(std::string(256, 'a'), 1))));
    // Round trip through the server-side decoder.
    for (const auto& a :
         {Address::v4({1, 2, 3, 4}, 1), Address::v6(v6, 65535), Address::name("x.y", 7)}) {
        const std::string m = ok(encode_request(Command::connect, a));
        EXPECT_EQ(ok(message_size(m.substr(0, 5))), m.size());
        auto req = ok(decode_request(m));
        EXPECT_EQ(req.command, 1);
        EXPECT_EQ(req.dst, a);
    }
}

TEST(Socks5, ReplyParsing) {
    const std::string r = encode_reply(ReplyCode::succeeded, Address::v4({127, 0, 0, 9}, 1080));
    EXPECT_EQ(r, bytes({5, 0, 0, 1, 127, 0, 0, 9, 0x04, 0x38}));
    EXPECT_EQ(ok(message_size(r.substr(0, 3))), 0u);  // need more
    EXPECT_EQ(ok(message_size(r.substr(0, 5))), r.size());
    auto rep = ok(decode_reply(r));
    EXPECT_EQ(rep.code, 0);
    EXPECT_EQ(rep.bound.host_text(), "127.0.0.9");
    EXPECT_EQ(rep.bound.port, 1080);
    // Domain-name reply: the size comes from the length byte.
    const std::string d =
        encode_reply(ReplyCode::connection_refused, Address::name("proxy.test", 1));
    EXPECT_EQ(ok(message_size(d.substr(0, 5))), 4u + 1 + 10 + 2);
    EXPECT_EQ(ok(decode_reply(d)).code, 5);
    // Bad version, unknown ATYP, zero-length name, truncation and trailing bytes.
    EXPECT_TRUE(std::holds_alternative<Error>(message_size(bytes({4, 0, 0, 1, 0}))));
    EXPECT_TRUE(std::holds_alternative<Error>(message_size(bytes({5, 0, 0, 2, 0}))));
    EXPECT_TRUE(std::holds_alternative<Error>(message_size(bytes({5, 0, 0, 3, 0}))));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_reply(r.substr(0, 9))));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_reply(r + "x")));
}

TEST(Socks5, ReplyMessages) {
    EXPECT_EQ(reply_message(5), "proxy: connection refused by destination");
    EXPECT_EQ(reply_message(2), "proxy: connection not allowed by ruleset");
    EXPECT_EQ(reply_message(4), "proxy: host unreachable");
    EXPECT_EQ(reply_message(200), "proxy: unknown reply code 200");
}

TEST(Socks5, UdpDatagrams) {
    const std::string w = ok(encode_udp(Address::name("tracker.test", 6969), "payload"));
    EXPECT_EQ(w.substr(0, 5), bytes({0, 0, 0, 3, 12}));
    auto d = ok(decode_udp(w));
    EXPECT_EQ(d.peer, Address::name("tracker.test", 6969));
    EXPECT_EQ(d.payload, "payload");
    const std::string v4 = ok(encode_udp(Address::v4({127, 0, 0, 1}, 53), ""));
    EXPECT_EQ(v4.size(), 10u);
    EXPECT_EQ(ok(decode_udp(v4)).payload, "");
    std::string frag = w;
    frag[2] = 1;  // FRAG != 0: dropped
    EXPECT_TRUE(std::holds_alternative<Error>(decode_udp(frag)));
    std::string rsv = w;
    rsv[0] = 1;
    EXPECT_TRUE(std::holds_alternative<Error>(decode_udp(rsv)));
    EXPECT_TRUE(std::holds_alternative<Error>(decode_udp(w.substr(0, 8))));  // name cut off
    EXPECT_TRUE(std::holds_alternative<Error>(decode_udp(bytes({0, 0, 0, 9, 1, 2, 3}))));
}

TEST(ProxyUrl, Accepts) {
    auto c = std::get<ProxyConfig>(parse_proxy_url("socks5://127.0.0.9:1080"));
    EXPECT_EQ(c.host, "127.0.0.9");
    EXPECT_EQ(c.port, 1080);
    EXPECT_TRUE(c.user.empty());
    c = std::get<ProxyConfig>(parse_proxy_url("SOCKS5h://al%40ice:p%3Ass@proxy.example:9050/"));
    EXPECT_EQ(c.host, "proxy.example");
    EXPECT_EQ(c.user, "al@ice");
    EXPECT_EQ(c.pass, "p:ss");
    c = std::get<ProxyConfig>(parse_proxy_url("socks5://u:p@[::1]:1080"));
    EXPECT_EQ(c.host, "::1");
    EXPECT_EQ(c.where(), "[::1]:1080");
}

TEST(ProxyUrl, Refuses) {
    for (const char* bad :
         {"127.0.0.9:1080", "http://127.0.0.9:1080", "socks4://h:1", "socks5://h", "socks5://h:0",
          "socks5://h:65536", "socks5://h:12x", "socks5://:1080", "socks5://user@h:1",
          "socks5://:p@h:1", "socks5://u:@h:1", "socks5://u:p%4@h:1", "socks5://h:1/path",
          "socks5://::1:1080", "socks5://[::1:1080", "socks5://h h:1"}) {
        auto r = parse_proxy_url(bad);
        ASSERT_TRUE(std::holds_alternative<std::string>(r)) << bad;
        EXPECT_FALSE(std::get<std::string>(r).empty());
        EXPECT_EQ(std::get<std::string>(r).find('\n'), std::string::npos);
    }
}
