// BEP 15 packet codec (and BEP 41 URLData): byte layouts, round trips, and every
// malformed variant the decoders must refuse or ignore.
#include "tracker/parse/udp_tracker.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

using namespace pw;
using namespace pw::tracker;
using namespace pw::tracker::udp;

namespace {

std::string be32(std::uint32_t v) {
    std::string s;
    for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

Sha1Digest digest(std::uint8_t fill) {
    Sha1Digest d;
    d.bytes.fill(fill);
    return d;
}

AnnouncePacket sample_announce() {
    AnnouncePacket p;
    p.connection_id = 0x0102030405060708ull;
    p.transaction_id = 0xdeadbeef;
    p.info_hash = digest(0xaa);
    p.peer_id.fill('p');
    p.downloaded = 1000;
    p.left = 5'000'000'000ll;
    p.uploaded = 77;
    p.event = Event::started;
    p.key = 0x11223344;
    p.num_want = 50;
    p.port = 6881;
    return p;
}

}  // namespace

TEST(UdpTrackerCodec, ConnectRequestLayout) {
    std::string pkt = encode_connect_request(0x01020304);
    ASSERT_EQ(pkt.size(), 16u);
    EXPECT_EQ(pkt.substr(0, 8), std::string("\x00\x00\x04\x17\x27\x10\x19\x80", 8));
    EXPECT_EQ(pkt.substr(8, 4), be32(0));
    EXPECT_EQ(pkt.substr(12, 4), be32(0x01020304));
    EXPECT_EQ(decode_connect_request(pkt), 0x01020304u);
}

TEST(UdpTrackerCodec, ConnectRequestRejects) {
    std::string pkt = encode_connect_request(7);
    EXPECT_FALSE(decode_connect_request(pkt.substr(0, 15)));
    std::string bad_magic = pkt;
    bad_magic[0] = 1;
    EXPECT_FALSE(decode_connect_request(bad_magic));
    std::string bad_action = pkt;
    bad_action[11] = 1;
    EXPECT_FALSE(decode_connect_request(bad_action));
    EXPECT_TRUE(decode_connect_request(pkt + "extra"));  // longer packets are allowed
}

TEST(UdpTrackerCodec, ConnectReply) {
    std::string pkt = encode_connect_reply(99, 0xabcdef0123456789ull);
    ASSERT_EQ(pkt.size(), 16u);
    auto d = decode_connect_reply(pkt, 99);
    ASSERT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.value, 0xabcdef0123456789ull);

    EXPECT_EQ(decode_connect_reply(pkt, 98).outcome, Outcome::foreign);
    EXPECT_EQ(decode_connect_reply(pkt.substr(0, 7), 99).outcome, Outcome::foreign);
    auto short_reply = decode_connect_reply(pkt.substr(0, 15), 99);
    EXPECT_EQ(short_reply.outcome, Outcome::malformed);
    EXPECT_NE(short_reply.error.find("15 bytes"), std::string::npos) << short_reply.error;
    std::string wrong_action = pkt;
    wrong_action[3] = 1;
    auto w = decode_connect_reply(wrong_action, 99);
    EXPECT_EQ(w.outcome, Outcome::malformed);
    EXPECT_NE(w.error.find("unexpected action 1"), std::string::npos) << w.error;
}

TEST(UdpTrackerCodec, AnnounceRequestLayoutAndRoundTrip) {
    AnnouncePacket p = sample_announce();
    std::string pkt = encode_announce_request(p);
    ASSERT_EQ(pkt.size(), 98u);
    EXPECT_EQ(pkt.substr(8, 4), be32(1));
    EXPECT_EQ(pkt.substr(12, 4), be32(0xdeadbeef));
    EXPECT_EQ(pkt.substr(16, 20), std::string(20, '\xaa'));
    EXPECT_EQ(pkt.substr(36, 20), std::string(20, 'p'));
    EXPECT_EQ(pkt.substr(64, 8), std::string("\x00\x00\x00\x01\x2a\x05\xf2\x00", 8));
    EXPECT_EQ(pkt.substr(80, 4), be32(2));  // started
    EXPECT_EQ(pkt.substr(84, 4), be32(0));
    EXPECT_EQ(pkt.substr(88, 4), be32(0x11223344));
    EXPECT_EQ(pkt.substr(92, 4), be32(50));
    EXPECT_EQ(pkt.substr(96, 2), std::string("\x1a\xe1", 2));
    auto back = decode_announce_request(pkt);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, p);
}

TEST(UdpTrackerCodec, AnnounceEventsNumWantAndNegativeCounters) {
    for (Event e : {Event::none, Event::completed, Event::started, Event::stopped}) {
        AnnouncePacket p = sample_announce();
        p.event = e;
        p.num_want = -1;
        auto back = decode_announce_request(encode_announce_request(p));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->event, e);
        EXPECT_EQ(back->num_want, -1);
    }
    EXPECT_EQ(event_code(Event::none), 0u);
    EXPECT_EQ(event_code(Event::completed), 1u);
    EXPECT_EQ(event_code(Event::started), 2u);
    EXPECT_EQ(event_code(Event::stopped), 3u);
    AnnouncePacket p = sample_announce();
    p.uploaded = -5;
    auto back = decode_announce_request(encode_announce_request(p));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->uploaded, 0);
}

TEST(UdpTrackerCodec, AnnounceRequestRejects) {
    std::string pkt = encode_announce_request(sample_announce());
    EXPECT_FALSE(decode_announce_request(pkt.substr(0, 97)));
    std::string bad_action = pkt;
    bad_action[11] = 2;
    EXPECT_FALSE(decode_announce_request(bad_action));
    std::string bad_event = pkt;
    bad_event[83] = 4;
    EXPECT_FALSE(decode_announce_request(bad_event));
}

TEST(UdpTrackerCodec, Bep41UrlData) {
    AnnouncePacket p = sample_announce();
    p.url_data = "/dir?a=b&c=d";
    std::string pkt = encode_announce_request(p);
    ASSERT_EQ(pkt.size(), 98u + 2 + 12);
    EXPECT_EQ(pkt.substr(98), std::string("\x02\x0c/dir?a=b&c=d", 14));
    auto back = decode_announce_request(pkt);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->url_data, "/dir?a=b&c=d");

    // Longer than 255 bytes: chunked, concatenated on decode.
    p.url_data = "/" + std::string(600, 'x');
    pkt = encode_announce_request(p);
    EXPECT_EQ(pkt.size(), 98u + 3 * 2 + 601);
    EXPECT_EQ(static_cast<unsigned char>(pkt[99]), 255);
    back = decode_announce_request(pkt);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->url_data, p.url_data);
}

TEST(UdpTrackerCodec, Bep41OptionParsing) {
    std::string base = encode_announce_request(sample_announce());
    // NOPs, an unknown option with data, URLData twice, EndOfOptions, then junk.
    std::string opts = std::string("\x01\x01\x09\x02zz\x02\x02/a\x02\x02?b\x00\x02\x05", 17);
    auto back = decode_announce_request(base + opts);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->url_data, "/a?b");
    // A URLData option running past the end is dropped.
    back = decode_announce_request(base + std::string("\x02\x02/a\x02\x09/b", 8));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->url_data, "/a");
    // A lone option type without its length byte.
    back = decode_announce_request(base + std::string("\x02", 1));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->url_data, "");
    // Empty URLData (BEP 41: "supported, no path").
    back = decode_announce_request(base + std::string("\x02\x00", 2));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->url_data, "");
}

TEST(UdpTrackerCodec, AnnounceReplyIpv4) {
    AnnounceReply r;
    r.interval = 1800;
    r.leechers = 3;
    r.seeders = 9;
    r.peers = {{"127.0.0.2", 6881}, {"10.1.2.3", 51413}, {"::1", 5}};  // v6 skipped
    std::string pkt = encode_announce_reply(42, r, false);
    ASSERT_EQ(pkt.size(), 20u + 12);
    auto d = decode_announce_reply(pkt, 42, false);
    ASSERT_EQ(d.outcome, Outcome::ok) << d.error;
    EXPECT_EQ(d.value.interval, 1800);
    EXPECT_EQ(d.value.leechers, 3);
    EXPECT_EQ(d.value.seeders, 9);
    std::vector<PeerAddress> want{{"127.0.0.2", 6881}, {"10.1.2.3", 51413}};
    EXPECT_EQ(d.value.peers, want);
}

TEST(UdpTrackerCodec, AnnounceReplyIpv6) {
    AnnounceReply r;
    r.interval = 60;
    r.peers = {{"::1", 6881}, {"2001:db8::7", 80}, {"127.0.0.1", 9}};  // v4 skipped
    std::string pkt = encode_announce_reply(5, r, true);
    ASSERT_EQ(pkt.size(), 20u + 36);
    auto d = decode_announce_reply(pkt, 5, true);
    ASSERT_EQ(d.outcome, Outcome::ok) << d.error;
    std::vector<PeerAddress> want{{"::1", 6881}, {"2001:db8::7", 80}};
    EXPECT_EQ(d.value.peers, want);
    // A trailing partial entry makes the reply malformed.
    r.peers = {{"::1", 6881}};
    pkt = encode_announce_reply(5, r, true);
    EXPECT_EQ(decode_announce_reply(pkt + "xx", 5, true).outcome, Outcome::malformed);
    EXPECT_EQ(decode_announce_reply(pkt, 5, true).outcome, Outcome::ok);
}

TEST(UdpTrackerCodec, AnnounceReplyFiltersPeers) {
    std::string pkt = be32(1) + be32(8) + be32(100) + be32(1) + be32(2);
    auto peer = [](std::string ip4, int port) {
        return ip4 + static_cast<char>(port >> 8) + static_cast<char>(port & 0xff);
    };
    pkt += peer(std::string("\x7f\x00\x00\x02", 4), 6881);
    pkt += peer(std::string("\x7f\x00\x00\x02", 4), 6881);  // duplicate
    pkt += peer(std::string("\x7f\x00\x00\x03", 4), 0);     // port 0
    pkt += peer(std::string("\x00\x00\x00\x00", 4), 80);    // unspecified
    pkt += peer(std::string("\x7f\x00\x00\x04", 4), 1);
    pkt += peer(std::string("\x7f\x00\x00\x05", 4), 2);
    auto d = decode_announce_reply(pkt, 8, false, 2);
    ASSERT_EQ(d.outcome, Outcome::ok);
    std::vector<PeerAddress> want{{"127.0.0.2", 6881}, {"127.0.0.4", 1}};
    EXPECT_EQ(d.value.peers, want);
}

TEST(UdpTrackerCodec, AnnounceReplyMalformed) {
    std::string head = be32(1) + be32(8) + be32(100) + be32(1) + be32(2);
    EXPECT_EQ(decode_announce_reply(head, 8, false).outcome, Outcome::ok);  // no peers
    EXPECT_EQ(decode_announce_reply(head.substr(0, 19), 8, false).outcome, Outcome::malformed);
    EXPECT_EQ(decode_announce_reply(head + "12345", 8, false).outcome, Outcome::malformed);
    EXPECT_EQ(decode_announce_reply(head + "123456", 8, true).outcome, Outcome::malformed);
    EXPECT_EQ(decode_announce_reply(head, 9, false).outcome, Outcome::foreign);
    std::string scrape_action = be32(2) + head.substr(4);
    EXPECT_EQ(decode_announce_reply(scrape_action, 8, false).outcome, Outcome::malformed);
}

TEST(UdpTrackerCodec, ScrapeRequestRoundTrip) {
    std::vector<Sha1Digest> hashes{digest(1), digest(2), digest(3)};
    std::string pkt = encode_scrape_request(0x55, 0x66, hashes);
    ASSERT_EQ(pkt.size(), 16u + 60);
    auto h = decode_request_header(pkt);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->connection_id, 0x55u);
    EXPECT_EQ(h->action, Action::scrape);
    EXPECT_EQ(h->transaction_id, 0x66u);
    auto back = decode_scrape_request(pkt);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, hashes);

    std::vector<Sha1Digest> many(max_scrape_hashes, digest(9));
    EXPECT_EQ(encode_scrape_request(1, 2, many).size(), 16u + 20 * 74);
    many.push_back(digest(9));
    EXPECT_THROW(encode_scrape_request(1, 2, many), std::invalid_argument);
    EXPECT_THROW(encode_scrape_request(1, 2, {}), std::invalid_argument);
}

TEST(UdpTrackerCodec, ScrapeRequestRejects) {
    std::vector<Sha1Digest> hashes{digest(1)};
    std::string pkt = encode_scrape_request(1, 2, hashes);
    EXPECT_FALSE(decode_scrape_request(pkt.substr(0, 16)));  // no hash
    EXPECT_FALSE(decode_scrape_request(pkt.substr(0, 35)));  // partial hash
    EXPECT_FALSE(decode_scrape_request(pkt.substr(0, 15)));  // short header
    std::string big = pkt.substr(0, 16) + std::string(20 * 75, 'h');
    EXPECT_FALSE(decode_scrape_request(big));  // over 74
    std::string bad_action = pkt;
    bad_action[11] = 1;
    EXPECT_FALSE(decode_scrape_request(bad_action));
}

TEST(UdpTrackerCodec, ScrapeReply) {
    std::vector<ScrapeEntry> entries{{5, 100, 2}, {0, 0, 0}};
    std::string pkt = encode_scrape_reply(3, entries);
    ASSERT_EQ(pkt.size(), 8u + 24);
    auto d = decode_scrape_reply(pkt, 3, 2);
    ASSERT_EQ(d.outcome, Outcome::ok) << d.error;
    EXPECT_EQ(d.value, entries);
    EXPECT_EQ(decode_scrape_reply(pkt + "more", 3, 2).outcome, Outcome::ok);
    EXPECT_EQ(decode_scrape_reply(pkt.substr(0, 31), 3, 2).outcome, Outcome::malformed);
    EXPECT_EQ(decode_scrape_reply(pkt, 3, 3).outcome, Outcome::malformed);
    EXPECT_EQ(decode_scrape_reply(pkt, 3, 75).outcome, Outcome::malformed);
    EXPECT_EQ(decode_scrape_reply(pkt, 4, 2).outcome, Outcome::foreign);
    std::string wrong = be32(1) + pkt.substr(4);
    EXPECT_EQ(decode_scrape_reply(wrong, 3, 2).outcome, Outcome::malformed);
}

TEST(UdpTrackerCodec, ErrorReply) {
    std::string pkt = encode_error_reply(77, "unregistered torrent");
    auto d = decode_announce_reply(pkt, 77, false);
    EXPECT_EQ(d.outcome, Outcome::tracker_error);
    EXPECT_EQ(d.error, "unregistered torrent");
    EXPECT_EQ(decode_connect_reply(pkt, 77).outcome, Outcome::tracker_error);
    EXPECT_EQ(decode_scrape_reply(pkt, 77, 1).outcome, Outcome::tracker_error);
    EXPECT_EQ(decode_scrape_reply(pkt, 78, 1).outcome, Outcome::foreign);
    // Control bytes are neutralised, length is bounded, an empty message gets a text.
    auto ctl = decode_connect_reply(encode_error_reply(1, std::string("a\x1b[2Jb\n", 7)), 1);
    EXPECT_EQ(ctl.error, "a?[2Jb?");
    auto big = decode_connect_reply(encode_error_reply(1, std::string(5000, 'm')), 1);
    EXPECT_EQ(big.error.size(), 1024u);
    auto empty = decode_connect_reply(encode_error_reply(1, ""), 1);
    EXPECT_EQ(empty.outcome, Outcome::tracker_error);
    EXPECT_FALSE(empty.error.empty());
}

TEST(UdpTrackerCodec, ShortDatagramsAreForeign) {
    for (std::size_t n = 0; n < 8; ++n) {
        std::string pkt(n, '\0');
        EXPECT_EQ(decode_connect_reply(pkt, 0).outcome, Outcome::foreign);
        EXPECT_EQ(decode_announce_reply(pkt, 0, false).outcome, Outcome::foreign);
        EXPECT_EQ(decode_scrape_reply(pkt, 0, 1).outcome, Outcome::foreign);
        EXPECT_FALSE(decode_request_header(pkt));
    }
}

TEST(UdpTrackerCodec, KeyTo32Bits) {
    EXPECT_EQ(key_to_u32("1a2b3c4d"), 0x1a2b3c4du);
    EXPECT_EQ(key_to_u32("DEADBEEF"), 0xdeadbeefu);
    EXPECT_EQ(key_to_u32(""), 2166136261u);  // FNV-1a offset basis
    EXPECT_EQ(key_to_u32("a"), 0xe40c292cu);
    EXPECT_NE(key_to_u32("session-key"), key_to_u32("session-kez"));
    EXPECT_EQ(key_to_u32("session-key"), key_to_u32("session-key"));
}
