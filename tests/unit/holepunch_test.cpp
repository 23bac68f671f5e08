// BEP 55 ut_holepunch: the message codec (byte layouts, both address forms, every error
// code, rejects). The relay's decisions: tests/engine/holepunch_relay_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "wire/holepunch.hpp"

using namespace pw::wire;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
}

}  // namespace

TEST(HolepunchCodec, RendezvousIpv4Layout) {
    HolepunchMsg m;
    m.type = HolepunchMsg::rendezvous;
    m.addr[0] = 192, m.addr[1] = 0, m.addr[2] = 2, m.addr[3] = 7;
    m.port = 6881;
    auto enc = encode_holepunch(m);
    EXPECT_EQ(enc, bytes({0, 0, 192, 0, 2, 7, 0x1a, 0xe1, 0, 0, 0, 0}));
    EXPECT_EQ(enc.size(), holepunch_size_v4);
    auto back = decode_holepunch(enc);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
}

TEST(HolepunchCodec, ConnectIpv6Layout) {
    std::string in = bytes({1, 1});
    for (int i = 0; i < 16; ++i) in += static_cast<char>(0x20 + i);
    in += bytes({0xc8, 0xd5, 0, 0, 0, 0});
    ASSERT_EQ(in.size(), holepunch_size_v6);
    auto m = decode_holepunch(in);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, HolepunchMsg::connect);
    EXPECT_TRUE(m->v6);
    EXPECT_EQ(m->addr[0], 0x20);
    EXPECT_EQ(m->addr[15], 0x2f);
    EXPECT_EQ(m->port, 51413);
    EXPECT_EQ(m->error_code, 0u);
    EXPECT_EQ(encode_holepunch(*m), in);
}

TEST(HolepunchCodec, ErrorCodes) {
    for (std::uint32_t code : {1u, 2u, 3u, 4u}) {
        std::string in = bytes({2, 0, 127, 0, 0, 1, 0, 80, 0, 0, 0, static_cast<int>(code)});
        auto m = decode_holepunch(in);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->type, HolepunchMsg::error);
        EXPECT_EQ(m->error_code, code);
        EXPECT_EQ(encode_holepunch(*m), in);
    }
    EXPECT_EQ(holepunch_error_name(1), "NoSuchPeer");
    EXPECT_EQ(holepunch_error_name(2), "NotConnected");
    EXPECT_EQ(holepunch_error_name(3), "NoSupport");
    EXPECT_EQ(holepunch_error_name(4), "NoSelf");
    EXPECT_EQ(holepunch_error_name(77), "error 77");
    // An unknown code is carried as is, big-endian.
    auto m = decode_holepunch(bytes({2, 0, 1, 2, 3, 4, 0, 1, 0x01, 0x02, 0x03, 0x04}));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->error_code, 0x01020304u);
}

// libtorrent 2.0 writes rendezvous and connect without err_code (8 bytes for IPv4, 20 for
// IPv6): read as err_code 0.
TEST(HolepunchCodec, ReadsRendezvousAndConnectWithoutErrCode) {
    auto c = decode_holepunch(bytes({1, 0, 127, 0, 0, 2, 0x1a, 0xe1}));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->type, HolepunchMsg::connect);
    EXPECT_FALSE(c->v6);
    EXPECT_EQ(c->addr[0], 127);
    EXPECT_EQ(c->addr[3], 2);
    EXPECT_EQ(c->port, 6881);
    EXPECT_EQ(c->error_code, 0u);
    std::string v6 = std::string(1, '\0') + std::string(1, '\1') + std::string(15, '\0') + "\1" + "\x1a\xe1";
    auto r = decode_holepunch(v6);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type, HolepunchMsg::rendezvous);
    EXPECT_TRUE(r->v6);
    EXPECT_EQ(r->addr[15], 1);
    EXPECT_EQ(r->port, 6881);
    // A partial err_code is read as absent too.
    auto p = decode_holepunch(bytes({0, 0, 1, 2, 3, 4, 0, 1, 0, 0}));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->port, 1);
}

TEST(HolepunchCodec, Rejects) {
    EXPECT_FALSE(decode_holepunch(""));
    EXPECT_FALSE(decode_holepunch(bytes({0})));
    // Unknown message type, unknown address type.
    EXPECT_FALSE(decode_holepunch(bytes({3, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})));
    EXPECT_FALSE(decode_holepunch(bytes({0, 2, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})));
    // An error one byte short; a connect one byte short of its port; an IPv6 type with an
    // IPv4-sized body.
    EXPECT_FALSE(decode_holepunch(bytes({2, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0})));
    EXPECT_FALSE(decode_holepunch(bytes({2, 0, 1, 2, 3, 4, 0, 1})));
    EXPECT_FALSE(decode_holepunch(bytes({1, 0, 1, 2, 3, 4, 0})));
    EXPECT_FALSE(decode_holepunch(bytes({1, 1, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0})));
    EXPECT_FALSE(decode_holepunch(std::string(1, '\1') + std::string(1, '\1') + std::string(17, '\0')));
    EXPECT_FALSE(decode_holepunch(std::string(1, '\2') + std::string(1, '\1') + std::string(21, '\0')));
    // Trailing bytes are ignored.
    auto m = decode_holepunch(bytes({0, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0, 9, 9}));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->port, 1);
}

