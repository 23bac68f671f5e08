#include "meta/magnet.hpp"

#include <gtest/gtest.h>

#include "meta/metainfo.hpp"
#include "wire/ext_messages.hpp"

using namespace pw;

TEST(Magnet, HexAndBase32AgreeAndFieldsAreDecoded) {
    auto a = meta::parse_magnet(
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Some+File%20Name"
        "&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=udp://127.0.0.1:6969&x.pe=127.0.0.2:7000");
    EXPECT_EQ(a.info_hash.hex(), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    EXPECT_EQ(a.name, "Some File Name");
    ASSERT_EQ(a.trackers.size(), 2u);
    EXPECT_EQ(a.trackers[0], "http://127.0.0.1:6969/announce");
    ASSERT_EQ(a.peers.size(), 1u);
    EXPECT_EQ(a.peers[0], "127.0.0.2:7000");
    auto b = meta::parse_magnet("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK");
    EXPECT_EQ(a.info_hash, b.info_hash);
    auto c = meta::parse_magnet(meta::make_magnet(a));
    EXPECT_EQ(c.info_hash, a.info_hash);
    EXPECT_EQ(c.name, a.name);
    EXPECT_EQ(c.trackers, a.trackers);
    EXPECT_EQ(c.peers, a.peers);
}

TEST(Magnet, RejectsBadLinks) {
    for (const char* bad : {"http://x", "magnet:?dn=x", "magnet:?xt=urn:btih:1234",
                            "magnet:?xt=urn:btih:zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
                            "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%zz",
                            "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=%4"}) {
        EXPECT_THROW(meta::parse_magnet(bad), meta::MetainfoError) << bad;
    }
    // Unknown schemes in tr are ignored rather than used.
    auto m = meta::parse_magnet("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&tr=file:///etc/passwd");
    EXPECT_TRUE(m.trackers.empty());
}

TEST(UtMetadata, RoundTrip) {
    auto req = wire::decode_metadata_msg(wire::encode_metadata_request(3));
    ASSERT_TRUE(req);
    EXPECT_EQ(req->type, wire::MetadataMsg::request);
    EXPECT_EQ(req->piece, 3);
    std::string encoded = wire::encode_metadata_data(1, 20000, "abcdef");  // data views into it
    auto data = wire::decode_metadata_msg(encoded);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->type, wire::MetadataMsg::piece_data);
    EXPECT_EQ(data->total_size, 20000);
    EXPECT_EQ(data->data, "abcdef");
    EXPECT_FALSE(wire::decode_metadata_msg("garbage"));
    EXPECT_FALSE(wire::decode_metadata_msg("d8:msg_typei0ee"));  // no piece
    EXPECT_FALSE(wire::decode_metadata_msg("d8:msg_typei0e5:piecei-1ee"));
}

TEST(UtPex, RoundTripAndLimits) {
    wire::PexMsg m;
    wire::PexPeer a;
    a.addr = {127, 0, 0, 2};
    a.port = 6881;
    a.flags = 0x10;
    wire::PexPeer b;
    b.v6 = true;
    b.addr[15] = 1;
    b.port = 7000;
    m.added = {a, b};
    m.dropped = {a};
    auto d = wire::decode_pex(wire::encode_pex(m));
    ASSERT_TRUE(d);
    ASSERT_EQ(d->added.size(), 2u);
    EXPECT_EQ(d->added[0].port, 6881);
    EXPECT_EQ(d->added[0].flags, 0x10);
    EXPECT_TRUE(d->added[1].v6);
    EXPECT_EQ(d->dropped.size(), 1u);
    std::string many;
    for (int i = 0; i < 1000; ++i) many += std::string("\x7f\x00\x00\x01", 4) + char(i >> 8) + char((i & 0xff) | 1);
    std::string payload = "d5:added" + std::to_string(many.size()) + ":" + many + "e";
    auto capped = wire::decode_pex(payload, 50);
    ASSERT_TRUE(capped);
    EXPECT_LE(capped->added.size(), 50u);
    EXPECT_FALSE(wire::decode_pex("not bencode"));
}
