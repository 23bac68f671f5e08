// HTTP tracker announce, pure half: URL building (BEP 3, BEP 23 compact=1) and reply
// parsing (BEP 3 dictionary peers, BEP 23 compact, BEP 7 peers6, BEP 24 external ip).
#include "tracker/parse/announce.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "bencode/bencode.hpp"

using namespace pw::tracker;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
}

std::string bstr(std::string_view s) {
    std::string out;
    pw::bencode::put_string(out, s);
    return out;
}

AnnounceRequest sample_request() {
    AnnounceRequest r;
    r.url = "http://tracker.example:6969/announce";
    for (int i = 0; i < 20; ++i) r.info_hash.bytes[i] = static_cast<std::uint8_t>(i * 13);
    std::string pid = "-PW0010-abcdefghij~.";
    for (int i = 0; i < 20; ++i) r.peer_id[i] = static_cast<std::uint8_t>(pid[i]);
    r.port = 6881;
    r.uploaded = 1;
    r.downloaded = 2;
    r.left = 3;
    r.numwant = 50;
    r.key = "k3y";
    return r;
}

}  // namespace

TEST(AnnounceUrl, UrlEncodeKeepsOnlyUnreserved) {
    EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
    EXPECT_EQ(url_encode(" /?&=%+"), "%20%2F%3F%26%3D%25%2B");
    EXPECT_EQ(url_encode(bytes({0, 0xff, 0x12})), "%00%FF%12");
    EXPECT_EQ(url_encode(""), "");
}

TEST(AnnounceUrl, ExactStringForKnownRequest) {
    AnnounceRequest r = sample_request();
    r.event = Event::started;
    EXPECT_EQ(build_announce_url(r),
              "http://tracker.example:6969/announce"
              "?info_hash=%00%0D%1A%274AN%5Bhu%82%8F%9C%A9%B6%C3%D0%DD%EA%F7"
              "&peer_id=-PW0010-abcdefghij~."
              "&port=6881&uploaded=1&downloaded=2&left=3&compact=1&numwant=50&key=k3y"
              "&event=started");
}

TEST(AnnounceUrl, EventNoneIsOmittedAndTrackerIdEchoed) {
    AnnounceRequest r = sample_request();
    r.tracker_id = "id 1";
    std::string url = build_announce_url(r);
    EXPECT_EQ(url.find("event="), std::string::npos);
    EXPECT_NE(url.find("&trackerid=id%201"), std::string::npos);
    EXPECT_TRUE(url.ends_with("&trackerid=id%201"));

    r.event = Event::completed;
    EXPECT_NE(build_announce_url(r).find("&event=completed"), std::string::npos);
    r.event = Event::stopped;
    EXPECT_NE(build_announce_url(r).find("&event=stopped"), std::string::npos);
}

TEST(AnnounceUrl, ExistingQueryGetsAmpersand) {
    AnnounceRequest r = sample_request();
    r.url = "http://t.example/announce.php?passkey=abc";
    EXPECT_TRUE(
        build_announce_url(r).starts_with("http://t.example/announce.php?passkey=abc&info_hash="));
    r.url = "http://t.example/announce?";
    EXPECT_TRUE(build_announce_url(r).starts_with("http://t.example/announce?info_hash="));
    r.url = "http://t.example/a?x=1&";
    EXPECT_TRUE(build_announce_url(r).starts_with("http://t.example/a?x=1&info_hash="));
    r.url = "http://t.example/a#frag";
    EXPECT_TRUE(build_announce_url(r).starts_with("http://t.example/a?info_hash="));
    EXPECT_EQ(build_announce_url(r).find('#'), std::string::npos);
}

TEST(AnnounceUrl, NegativeCountersAndEmptyKey) {
    AnnounceRequest r = sample_request();
    r.uploaded = -5;
    r.left = -1;
    r.key.clear();
    std::string url = build_announce_url(r);
    EXPECT_NE(url.find("&uploaded=0&"), std::string::npos);
    EXPECT_NE(url.find("&left=0&"), std::string::npos);
    EXPECT_EQ(url.find("key="), std::string::npos);
}

TEST(AnnounceReply, CompactPeers) {
    std::string peers = bytes({127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 1, 2, 0, 80});
    std::string body = "d8:completei5e10:incompletei7e8:intervali1800e12:min intervali60e5:peers" +
                       bstr(peers) + "e";
    AnnounceResponse r = parse_announce_response(body);
    EXPECT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.interval, 1800);
    EXPECT_EQ(r.min_interval, 60);
    EXPECT_EQ(r.complete, 5);
    EXPECT_EQ(r.incomplete, 7);
    ASSERT_EQ(r.peers.size(), 2u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"127.0.0.1", 6881}));
    EXPECT_EQ(r.peers[1], (PeerAddress{"127.0.1.2", 80}));
}

TEST(AnnounceReply, InvalidCompactLengthKeepsWholeEntriesAndWarns) {
    std::string peers = bytes({127, 0, 0, 1, 0x1a, 0xe1, 9});
    AnnounceResponse r =
        parse_announce_response("d8:intervali900e5:peers" + bstr(peers) + "15:warning message4:slowe");
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    ASSERT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"127.0.0.1", 6881}));
    EXPECT_EQ(r.warning_message, "slow; compact peers of 7 bytes, not a multiple of 6: the last 1 ignored");
    r = parse_announce_response("d8:intervali900e5:peers5:abcdee");
    EXPECT_TRUE(r.failure_reason.empty());
    EXPECT_TRUE(r.peers.empty());
    EXPECT_FALSE(r.warning_message.empty());
}

TEST(AnnounceReply, DictionaryPeers) {
    std::string body =
        "d8:intervali900e5:peersl"
        "d2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
        "d2:ip3:::14:porti51413ee"
        "d2:ip11:example.org4:porti1ee"          // host names are not accepted
        "d2:ip8:10.0.0.14:porti0ee"              // port 0
        "d2:ip8:10.0.0.24:porti70000ee"          // port out of range
        "d2:ip8:10.0.0.34:port2:80e"             // port not an integer
        "d4:porti5ee"                            // no ip
        "i42e"                                   // not a dictionary
        "d2:ip15:0:0:0:0:0:0:0:14:porti51413ee"  // the same as ::1 above
        "ee";
    AnnounceResponse r = parse_announce_response(body);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.interval, 900);
    ASSERT_EQ(r.peers.size(), 2u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"127.0.0.1", 6881}));
    EXPECT_EQ(r.peers[1], (PeerAddress{"::1", 51413}));
}

TEST(AnnounceReply, Peers6AndExternalIp) {
    std::string v6 =
        bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1a, 0xe1});
    std::string partial = bytes({1, 2, 3});  // trailing partial entry is ignored
    std::string body = "d11:external ip" + bstr(bytes({203, 0, 113, 9})) +
                       "8:intervali1800e5:peers0:6:peers6" + bstr(v6 + partial) + "e";
    AnnounceResponse r = parse_announce_response(body);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    ASSERT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"2001:db8::1", 6881}));
    EXPECT_EQ(r.external_ip, "203.0.113.9");
    EXPECT_EQ(r.warning_message, "compact peers of 21 bytes, not a multiple of 18: the last 3 ignored");

    std::string ext6 = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    r = parse_announce_response("d11:external ip" + bstr(ext6) + "e");
    EXPECT_EQ(r.external_ip, "2001:db8::2");
    r = parse_announce_response("d11:external ip3:abce");
    EXPECT_TRUE(r.external_ip.empty());
}

TEST(AnnounceReply, FailureReasonWinsAndIsSanitised) {
    AnnounceResponse r = parse_announce_response("d14:failure reason17:torrent not founde");
    EXPECT_EQ(r.failure_reason, "torrent not found");
    EXPECT_TRUE(r.peers.empty());

    r = parse_announce_response("d14:failure reason5:a\x1b[2Je");
    EXPECT_EQ(r.failure_reason, "a?[2J");
    r = parse_announce_response("d14:failure reason0:e");
    EXPECT_EQ(r.failure_reason, "tracker reported a failure");
    r = parse_announce_response("d14:failure reason" + bstr(std::string(5000, 'x')) + "e");
    EXPECT_EQ(r.failure_reason.size(), 1024u);
}

TEST(AnnounceReply, WarningAndTrackerId) {
    AnnounceResponse r = parse_announce_response(
        "d8:intervali1800e5:peers0:10:tracker id3:t-115:warning message4:slowe");
    EXPECT_TRUE(r.failure_reason.empty());
    EXPECT_EQ(r.warning_message, "slow");
    EXPECT_EQ(r.tracker_id, "t-1");
    r = parse_announce_response("d10:tracker id" + bstr(std::string(300, 'i')) + "e");
    EXPECT_TRUE(r.tracker_id.empty());
}

TEST(AnnounceReply, GarbageGivesTrackerReplyFailure) {
    for (std::string_view body :
         {std::string_view(""), std::string_view("<html>502 Bad Gateway</html>"),
          std::string_view("d8:intervali1800e"), std::string_view("i5e"), std::string_view("le"),
          std::string_view("d8:intervali1800eetrailing"),
          std::string_view("d5:peers999999:abce")}) {
        AnnounceResponse r = parse_announce_response(body);
        EXPECT_TRUE(r.failure_reason.starts_with("tracker reply: "))
            << body << " -> " << r.failure_reason;
        EXPECT_TRUE(r.peers.empty());
    }
    EXPECT_EQ(parse_announce_response("i5e").failure_reason, "tracker reply: not a dictionary");
    EXPECT_EQ(parse_announce_response("").failure_reason, "tracker reply: empty body");
}

TEST(AnnounceReply, IntervalsAreClamped) {
    auto interval = [](std::string_view v) {
        return parse_announce_response("d8:interval" + std::string(v) + "5:peers0:e").interval;
    };
    EXPECT_EQ(interval("i1800e"), 1800);
    EXPECT_EQ(interval("i0e"), 1800);
    EXPECT_EQ(interval("i-5e"), 1800);
    EXPECT_EQ(interval("i1e"), 30);
    EXPECT_EQ(interval("i99999999999e"), 7200);
    EXPECT_EQ(interval("3:abc"), 1800);

    AnnounceResponse r = parse_announce_response("d8:intervali600e12:min intervali9000ee");
    EXPECT_EQ(r.min_interval, 600);
    r = parse_announce_response("d8:intervali600e12:min intervali-1ee");
    EXPECT_EQ(r.min_interval, 0);
    r = parse_announce_response("d8:completei-3e10:incomplete1:xe");
    EXPECT_EQ(r.complete, -1);
    EXPECT_EQ(r.incomplete, -1);
}

TEST(AnnounceReply, PortZeroUnspecifiedAndDuplicatesDropped) {
    std::string peers = bytes({1, 2, 3, 4, 0,    0,     // port 0
                               0, 0, 0, 0, 0x1a, 0xe1,  // 0.0.0.0
                               1, 2, 3, 4, 0,    1,     // kept
                               1, 2, 3, 4, 0,    1,     // duplicate
                               1, 2, 3, 4, 0,    2});   // same address, other port: kept
    AnnounceResponse r = parse_announce_response("d5:peers" + bstr(peers) + "e");
    ASSERT_EQ(r.peers.size(), 2u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"1.2.3.4", 1}));
    EXPECT_EQ(r.peers[1], (PeerAddress{"1.2.3.4", 2}));
}

TEST(AnnounceReply, PeerCountIsCapped) {
    std::string peers;
    for (int i = 0; i < 5000; ++i) peers += bytes({10, (i >> 8) & 0xff, i & 0xff, 1, 0x1a, 0xe1});
    std::string v6;
    for (int i = 0; i < 10; ++i) v6 += std::string(15, '\x01') + bytes({i + 1, 0x1a, 0xe1});
    std::string body = "d5:peers" + bstr(peers) + "6:peers6" + bstr(v6) + "e";
    EXPECT_EQ(parse_announce_response(body).peers.size(), 2000u);
    EXPECT_EQ(parse_announce_response(body, 10).peers.size(), 10u);
    EXPECT_EQ(parse_announce_response(body, 0).peers.size(), 0u);
    // The cap spans peers and peers6 together.
    std::string few = "d5:peers" + bstr(peers.substr(0, 6 * 3)) + "6:peers6" + bstr(v6) + "e";
    AnnounceResponse r = parse_announce_response(few, 5);
    ASSERT_EQ(r.peers.size(), 5u);
    EXPECT_EQ(r.peers[3], (PeerAddress{"101:101:101:101:101:101:101:101", 6881}));
    EXPECT_EQ(r.peers[4], (PeerAddress{"101:101:101:101:101:101:101:102", 6881}));
}

TEST(AnnounceReply, EmptyDictionaryIsAValidEmptyReply) {
    AnnounceResponse r = parse_announce_response("de");
    EXPECT_TRUE(r.failure_reason.empty());
    EXPECT_TRUE(r.peers.empty());
    EXPECT_EQ(r.interval, 1800);
    EXPECT_EQ(r.complete, -1);
}

TEST(AnnounceReply, TwoThousandDictionaryPeersFit) {
    std::string body = "d8:intervali1800e5:peersl";
    for (int i = 0; i < 2000; ++i) {
        std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
        body += "d2:ip" + bstr(ip) + "7:peer id" + bstr(std::string(20, 'p')) + "4:porti" +
                std::to_string(1000 + i) + "ee";
    }
    body += "ee";
    AnnounceResponse r = parse_announce_response(body);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 2000u);
}

TEST(AnnounceReply, HugeUnsortedDictionaryIsRefusedQuickly) {
    // Keys in descending order make the decoder's duplicate check scan every earlier key;
    // the value limit keeps that bounded.
    std::string body = "d";
    for (int i = 999999; body.size() < (2u << 20); --i) body += bstr(std::to_string(i)) + "i0e";
    body += "e";
    auto t0 = std::chrono::steady_clock::now();
    AnnounceResponse r = parse_announce_response(body);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_TRUE(r.failure_reason.starts_with("tracker reply: too many values")) << r.failure_reason;
}
