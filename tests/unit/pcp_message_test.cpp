// PCP MAP message codec (RFC 6887): the byte layout of requests and responses, the size,
// version and R-bit rules, error responses with and without the payload, and options.
#include <gtest/gtest.h>

#include <string>

#include "nat/parse/pcp_message.hpp"

using pw::nat::MapProtocol;
using namespace pw::nat::pcp;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int v : b) s.push_back(static_cast<char>(v));
    return s;
}

Nonce nonce() {
    Nonce n{};
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::uint8_t>(0xa0 + i);
    return n;
}

Response granted() {
    Response r;
    r.opcode = opcode_map;
    r.result = 0;
    r.lifetime = 7200;
    r.epoch = 1234;
    r.has_map = true;
    r.nonce = nonce();
    r.protocol = 6;
    r.internal_port = 6881;
    r.external_port = 7881;
    r.external_address = v4_mapped({203, 0, 113, 9});
    return r;
}

}  // namespace

TEST(PcpMessage, EncodesAMapRequestByteForByte) {
    MapRequest q;
    q.lifetime = 7200;
    q.client_address = v4_mapped({192, 168, 1, 20});
    q.nonce = nonce();
    q.protocol = protocol_number(MapProtocol::udp);
    q.internal_port = 6881;
    q.suggested_external_port = 6882;
    q.suggested_external_address = v4_mapped({0, 0, 0, 0});
    std::string m = encode_map_request(q);
    std::string want = bytes({2, 1, 0, 0, 0, 0, 0x1c, 0x20,                         // header, lifetime
                              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 20,  // client
                              0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,  // nonce
                              17, 0, 0, 0, 0x1a, 0xe1, 0x1a, 0xe2,                  // UDP, ports
                              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0});
    EXPECT_EQ(m, want);
    EXPECT_EQ(m.size(), map_message_size);
    RequestDecodeResult back = decode_map_request(m);
    ASSERT_TRUE(back.ok) << back.error;
    EXPECT_EQ(back.request.nonce, q.nonce);
    EXPECT_EQ(back.request.client_address, q.client_address);
    EXPECT_EQ(back.request.lifetime, 7200u);
    EXPECT_EQ(back.request.suggested_external_port, 6882);
    EXPECT_EQ(protocol_number(MapProtocol::tcp), 6);
}

TEST(PcpMessage, DecodesASuccessfulMapResponse) {
    std::string m = encode_response(granted());
    ASSERT_EQ(m.size(), 60u);
    EXPECT_EQ(static_cast<std::uint8_t>(m[1]), 0x81);  // R bit | MAP
    DecodeResult d = decode_response(m);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.response.opcode, opcode_map);
    EXPECT_EQ(d.response.result, 0);
    EXPECT_EQ(d.response.lifetime, 7200u);
    EXPECT_EQ(d.response.epoch, 1234u);
    EXPECT_TRUE(d.response.has_map);
    EXPECT_EQ(d.response.nonce, nonce());
    EXPECT_EQ(d.response.protocol, 6);
    EXPECT_EQ(d.response.internal_port, 6881);
    EXPECT_EQ(d.response.external_port, 7881);
    EXPECT_TRUE(is_v4_mapped(d.response.external_address));
    EXPECT_EQ(d.response.external_address[12], 203);
    EXPECT_EQ(d.response.options, 0u);
}

TEST(PcpMessage, RefusesBadSizesVersionsAndRequests) {
    std::string ok = encode_response(granted());
    EXPECT_FALSE(decode_response(ok.substr(0, 20)).ok);                // shorter than the header
    EXPECT_FALSE(decode_response(ok.substr(0, 58)).ok);                // not a multiple of 4
    EXPECT_FALSE(decode_response(ok.substr(0, 56)).ok);                // success without payload
    EXPECT_FALSE(decode_response(ok + std::string(1044, '\0')).ok);    // 1104 > 1100 bytes
    std::string v1 = ok;
    v1[0] = 1;
    DecodeResult d = decode_response(v1);
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("version 1"), std::string::npos) << d.error;
    std::string request = ok;
    request[1] = 1;  // R bit clear
    d = decode_response(request);
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("R bit"), std::string::npos) << d.error;
    EXPECT_FALSE(decode_map_request(ok).ok);  // a response is no request
    EXPECT_FALSE(decode_map_request(std::string(24, '\2')).ok);
}

TEST(PcpMessage, ErrorResponsesMayStopAfterTheHeader) {
    Response e;
    e.opcode = opcode_map;
    e.result = static_cast<std::uint8_t>(ResultCode::unsupp_version);
    e.lifetime = 1800;
    std::string m = encode_response(e);
    ASSERT_EQ(m.size(), 24u);
    DecodeResult d = decode_response(m);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_FALSE(d.response.has_map);
    EXPECT_EQ(d.response.result, 1);
    // With the payload echoed, it is decoded.
    Response echoed = granted();
    echoed.result = static_cast<std::uint8_t>(ResultCode::no_resources);
    d = decode_response(encode_response(echoed));
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_TRUE(d.response.has_map);
    EXPECT_EQ(d.response.nonce, nonce());
}

TEST(PcpMessage, SkipsWholeOptionsAndRefusesBrokenOnes) {
    std::string m = encode_response(granted());
    // THIRD_PARTY-like option: code 1, length 16, then a 5-byte one padded to 8.
    std::string with = m + bytes({1, 0, 0, 16}) + std::string(16, '\x7f') + bytes({0x80, 0, 0, 5}) + std::string(8, 'x');
    DecodeResult d = decode_response(with);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.response.options, 2u);
    EXPECT_EQ(d.response.external_port, 7881);
    EXPECT_FALSE(decode_response(m + bytes({1, 0, 0, 20}) + std::string(16, 'x')).ok);  // runs past the end
    EXPECT_FALSE(decode_response(m + bytes({1, 0, 0, 0xff})).ok);
    // Many empty options are fine up to the bound the size allows.
    std::string many = m;
    while (many.size() + 4 <= max_message_size) many += bytes({2, 0, 0, 0});
    d = decode_response(many);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.response.options, max_options);
}

TEST(PcpMessage, ResultMessagesCoverEveryCode) {
    EXPECT_EQ(result_message(2), "the gateway refused (not authorized; port mapping may be switched off on it)");
    EXPECT_NE(result_message(12).find("another source address"), std::string::npos);
    EXPECT_EQ(result_message(99), "PCP result code 99 (unknown)");
    for (int c = 0; c <= 13; ++c) EXPECT_EQ(result_message(static_cast<std::uint8_t>(c)).find("unknown"), std::string::npos);
}

TEST(PcpMessage, V4MappedAddresses) {
    Address a = v4_mapped({10, 1, 2, 3});
    EXPECT_TRUE(is_v4_mapped(a));
    EXPECT_EQ(a[10], 0xff);
    EXPECT_EQ(a[15], 3);
    Address b = a;
    b[0] = 0x20;
    EXPECT_FALSE(is_v4_mapped(b));
    EXPECT_FALSE(is_v4_mapped(Address{}));
}
