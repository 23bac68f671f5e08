// NAT-PMP message codec (RFC 6886) and the /proc/net/route default-gateway parser.
#include <gtest/gtest.h>

#include <string>

#include "nat/parse/default_route.hpp"
#include "nat/parse/natpmp_message.hpp"

using namespace pw::nat;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int v : b) s.push_back(static_cast<char>(v));
    return s;
}

}  // namespace

TEST(NatPmpMessage, EncodesRequests) {
    EXPECT_EQ(encode_external_address_request(), bytes({0, 0}));
    EXPECT_EQ(encode_map_request(MapProtocol::tcp, 6881, 6882, 7200),
              bytes({0, 2, 0, 0, 0x1a, 0xe1, 0x1a, 0xe2, 0, 0, 0x1c, 0x20}));
    EXPECT_EQ(encode_map_request(MapProtocol::udp, 6881, 0, 0),
              bytes({0, 1, 0, 0, 0x1a, 0xe1, 0, 0, 0, 0, 0, 0}));
}

TEST(NatPmpMessage, DecodesExternalAddressResponse) {
    auto r = decode_response(bytes({0, 128, 0, 0, 0, 0, 1, 2, 203, 0, 113, 7}));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.kind, Response::Kind::external_address);
    EXPECT_EQ(r.response.result, 0);
    EXPECT_EQ(r.response.epoch, 258u);
    EXPECT_EQ(r.response.external_address, (std::array<std::uint8_t, 4>{203, 0, 113, 7}));
}

TEST(NatPmpMessage, DecodesMapResponses) {
    auto r = decode_response(bytes({0, 130, 0, 0, 0, 1, 0, 0, 0x1a, 0xe1, 0x1a, 0xe3, 0, 0, 0x0e, 0x10}));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.response.kind, Response::Kind::map_tcp);
    EXPECT_EQ(r.response.epoch, 65536u);
    EXPECT_EQ(r.response.internal_port, 6881);
    EXPECT_EQ(r.response.external_port, 6883);
    EXPECT_EQ(r.response.lifetime, 3600u);
    auto u = decode_response(bytes({0, 129, 0, 0, 0, 0, 0, 9, 0x1a, 0xe1, 0x1a, 0xe1, 0, 0, 0, 60}));
    ASSERT_TRUE(u.ok) << u.error;
    EXPECT_EQ(u.response.kind, Response::Kind::map_udp);
}

TEST(NatPmpMessage, ErrorResponsesNeedOnlyTheHeader) {
    // Unsupported version: the 8-byte header alone.
    auto v = decode_response(bytes({0, 128, 0, 1, 0, 0, 0, 5}));
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_EQ(v.response.result, 1);
    EXPECT_EQ(v.response.epoch, 5u);
    // Refused mapping, full length: the fields are undefined and left zero.
    auto m = decode_response(bytes({0, 130, 0, 2, 0, 0, 0, 5, 0x1a, 0xe1, 0x1a, 0xe1, 0, 0, 0, 60}));
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.response.result, 2);
    EXPECT_EQ(m.response.internal_port, 0);
    EXPECT_EQ(m.response.lifetime, 0u);
    EXPECT_NE(result_message(2).find("refused"), std::string::npos);
    EXPECT_NE(result_message(3).find("network failure"), std::string::npos);
    EXPECT_NE(result_message(4).find("out of resources"), std::string::npos);
    EXPECT_EQ(result_message(42), "result code 42 (unknown)");
}

TEST(NatPmpMessage, RefusesMalformedResponses) {
    EXPECT_FALSE(decode_response("").ok);
    EXPECT_FALSE(decode_response(bytes({0, 128, 0, 0, 0, 0, 0})).ok);  // short header
    // Successful responses must be exactly their length.
    EXPECT_FALSE(decode_response(bytes({0, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3})).ok);
    EXPECT_FALSE(decode_response(bytes({0, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5})).ok);
    EXPECT_FALSE(decode_response(bytes({0, 130, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0})).ok);
    auto r = decode_response(bytes({0, 129, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0}));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("expected 16"), std::string::npos) << r.error;
    // Not a response, not version 0 (a PCP server's version 2), unknown response opcode.
    EXPECT_FALSE(decode_response(bytes({0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1})).ok);
    EXPECT_FALSE(decode_response(bytes({2, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})).ok);
    EXPECT_FALSE(decode_response(bytes({0, 131, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})).ok);
    EXPECT_FALSE(decode_response(std::string(max_datagram_size + 1, '\0')).ok);
}

TEST(NatPmpMessage, ResponsesRoundTrip) {
    Response m;
    m.kind = Response::Kind::map_udp;
    m.epoch = 77;
    m.internal_port = 5000;
    m.external_port = 6000;
    m.lifetime = 7200;
    auto r = decode_response(encode_response(m));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.response.external_port, 6000);
    EXPECT_EQ(r.response.lifetime, 7200u);
    Response e;
    e.kind = Response::Kind::external_address;
    e.result = 3;
    EXPECT_EQ(encode_response(e, true).size(), 8u);
    EXPECT_EQ(encode_response(e).size(), 12u);
}

namespace {
const char* route_header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
}

TEST(DefaultRoute, FindsTheDefaultGateway) {
    std::string text = std::string(route_header) +
                       "eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                       "eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
    auto r = parse_default_route(text, std::endian::little);
    ASSERT_TRUE(r.found) << r.error;
    EXPECT_EQ(r.gateway, (std::array<std::uint8_t, 4>{192, 168, 0, 1}));
    EXPECT_EQ(r.iface, "eth0");
    EXPECT_EQ(r.metric, 100u);
    auto big = parse_default_route(text, std::endian::big);
    ASSERT_TRUE(big.found);
    EXPECT_EQ(big.gateway, (std::array<std::uint8_t, 4>{1, 0, 168, 192}));
}

TEST(DefaultRoute, LowestMetricWinsAndRoutesWithoutGatewayFlagDoNot) {
    std::string text = std::string(route_header) +
                       "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                       "tun0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"      // no gateway
                       "down0\t00000000\t0202A8C0\t0002\t0\t0\t1\t00000000\t0\t0\t0\n"     // not up
                       "eth0\t00000000\t010010AC\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                       "eth1\t00000000\t020010AC\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";  // tie: first
    auto r = parse_default_route(text, std::endian::little);
    ASSERT_TRUE(r.found);
    EXPECT_EQ(r.iface, "eth0");
    EXPECT_EQ(r.gateway, (std::array<std::uint8_t, 4>{172, 16, 0, 1}));
}

TEST(DefaultRoute, NoDefaultRouteAndMalformedText) {
    // A namespace with loopback only: the header and nothing else.
    auto none = parse_default_route(route_header);
    EXPECT_FALSE(none.found);
    EXPECT_TRUE(none.error.empty());
    auto skipped = parse_default_route(std::string(route_header) +
                                       "eth0\t0000000G\t0100A8C0\t0003\t0\t0\t100\t00000000\n"
                                       "eth0\t00000000\n"
                                       "eth0\t00000000\t0100A8C0\t0003\t0\t0\t99999999999\t00000000\n");
    EXPECT_FALSE(skipped.found);
    EXPECT_EQ(skipped.skipped_lines, 3u);
    EXPECT_FALSE(parse_default_route("").error.empty());
    EXPECT_FALSE(parse_default_route("Iface\tDestination\tFlags\n").error.empty());
    std::string many = route_header;
    for (std::size_t i = 0; i <= max_route_lines; ++i) many += "x\n";
    EXPECT_FALSE(parse_default_route(many).error.empty());
}
