// Peer wire codec (BEP 3, BEP 5 port, BEP 6 fast extension, BEP 10 extended) and the BEP 10
// extension handshake.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "bencode/bencode.hpp"
#include "wire/fast.hpp"
#include "wire/messages.hpp"

using namespace pw::wire;

namespace {

constexpr std::uint32_t kMax = 1 << 20;

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
}

Message parse_ok(std::string_view buf, std::size_t expect_consumed) {
    Message m;
    ParseResult r = parse_message(buf, kMax, m);
    EXPECT_EQ(r.status, ParseStatus::ok) << (r.error ? r.error : "");
    EXPECT_EQ(r.consumed, expect_consumed);
    return m;
}

ParseResult parse(std::string_view buf, std::uint32_t max = kMax) {
    Message m;
    return parse_message(buf, max, m);
}

// Every strict prefix of a whole message must ask for more bytes.
void expect_need_more_at_every_split(const std::string& whole) {
    for (std::size_t n = 0; n < whole.size(); ++n) {
        Message m;
        ParseResult r = parse_message(std::string_view(whole).substr(0, n), kMax, m);
        EXPECT_EQ(r.status, ParseStatus::need_more) << "split at " << n << " of " << whole.size();
    }
}

}  // namespace

TEST(WireHandshake, EncodeLayout) {
    Handshake h;
    h.set_extensions();
    for (int i = 0; i < 20; ++i) {
        h.info_hash.bytes[i] = static_cast<std::uint8_t>(i);
        h.peer_id[i] = static_cast<std::uint8_t>(100 + i);
    }
    std::string s = encode_handshake(h);
    ASSERT_EQ(s.size(), handshake_size);
    EXPECT_EQ(s.substr(0, 20), std::string("\x13"
                                           "BitTorrent protocol"));
    EXPECT_EQ(s.substr(20, 8), bytes({0, 0, 0, 0, 0, 0x10, 0, 0}));
    EXPECT_EQ(static_cast<unsigned char>(s[28]), 0);
    EXPECT_EQ(static_cast<unsigned char>(s[47]), 19);
    EXPECT_EQ(static_cast<unsigned char>(s[48]), 100);
    EXPECT_EQ(static_cast<unsigned char>(s[67]), 119);
}

TEST(WireHandshake, RoundTripAndFlags) {
    Handshake h;
    h.reserved[7] = 0x05;  // DHT + fast
    h.set_extensions();
    h.info_hash.bytes.fill(0xab);
    h.peer_id.fill('x');
    auto d = decode_handshake(encode_handshake(h));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reserved, h.reserved);
    EXPECT_EQ(d->info_hash, h.info_hash);
    EXPECT_EQ(d->peer_id, h.peer_id);
    EXPECT_TRUE(d->supports_extensions());
    EXPECT_TRUE(d->supports_dht());
    EXPECT_TRUE(d->supports_fast());
    d->set_extensions(false);
    EXPECT_FALSE(d->supports_extensions());
}

TEST(WireHandshake, RejectsWrongProtocolAndSize) {
    std::string s = encode_handshake(Handshake{});
    std::string bad = s;
    bad[1] = 'b';
    EXPECT_FALSE(decode_handshake(bad));
    bad = s;
    bad[0] = 18;
    EXPECT_FALSE(decode_handshake(bad));
    EXPECT_FALSE(decode_handshake(s.substr(0, 67)));
    EXPECT_FALSE(decode_handshake(s + "x"));
    EXPECT_FALSE(decode_handshake(""));
    EXPECT_TRUE(decode_handshake(s));
}

TEST(WireMessages, KeepaliveAndSimple) {
    std::string out;
    put_keepalive(out);
    EXPECT_EQ(out, bytes({0, 0, 0, 0}));
    EXPECT_TRUE(parse_ok(out, 4).keepalive);
    expect_need_more_at_every_split(out);

    for (MsgId id : {MsgId::choke, MsgId::unchoke, MsgId::interested, MsgId::not_interested}) {
        out.clear();
        put_simple(out, id);
        EXPECT_EQ(out, bytes({0, 0, 0, 1, static_cast<int>(id)}));
        Message m = parse_ok(out, 5);
        EXPECT_FALSE(m.keepalive);
        EXPECT_TRUE(m.known);
        EXPECT_EQ(m.id, id);
        expect_need_more_at_every_split(out);
    }
}

TEST(WireMessages, Have) {
    std::string out;
    put_have(out, 0x01020304);
    EXPECT_EQ(out, bytes({0, 0, 0, 5, 4, 1, 2, 3, 4}));
    Message m = parse_ok(out, 9);
    EXPECT_EQ(m.id, MsgId::have);
    EXPECT_EQ(m.index, 0x01020304u);
    expect_need_more_at_every_split(out);
}

TEST(WireMessages, Bitfield) {
    std::string out;
    put_bitfield(out, bytes({0xff, 0x80}));
    EXPECT_EQ(out, bytes({0, 0, 0, 3, 5, 0xff, 0x80}));
    Message m = parse_ok(out, 7);
    EXPECT_EQ(m.id, MsgId::bitfield);
    EXPECT_EQ(m.payload, bytes({0xff, 0x80}));
    expect_need_more_at_every_split(out);

    out.clear();
    put_bitfield(out, "");
    EXPECT_TRUE(parse_ok(out, 5).payload.empty());
}

TEST(WireMessages, RequestAndCancel) {
    std::string out;
    put_request(out, 7, 16384, 16384);
    EXPECT_EQ(out, bytes({0, 0, 0, 13, 6, 0, 0, 0, 7, 0, 0, 0x40, 0, 0, 0, 0x40, 0}));
    Message m = parse_ok(out, 17);
    EXPECT_EQ(m.id, MsgId::request);
    EXPECT_EQ(m.index, 7u);
    EXPECT_EQ(m.begin, 16384u);
    EXPECT_EQ(m.length, 16384u);
    expect_need_more_at_every_split(out);

    out.clear();
    put_cancel(out, 0xffffffff, 1, 2);
    m = parse_ok(out, 17);
    EXPECT_EQ(m.id, MsgId::cancel);
    EXPECT_EQ(m.index, 0xffffffffu);
    EXPECT_EQ(m.begin, 1u);
    EXPECT_EQ(m.length, 2u);
    expect_need_more_at_every_split(out);
}

TEST(WireMessages, Piece) {
    std::string out;
    put_piece_header(out, 3, 32768, 5);
    EXPECT_EQ(out.size(), 13u);
    out += "hello";
    EXPECT_EQ(out.substr(0, 13), bytes({0, 0, 0, 14, 7, 0, 0, 0, 3, 0, 0, 0x80, 0}));
    Message m = parse_ok(out, 18);
    EXPECT_EQ(m.id, MsgId::piece);
    EXPECT_EQ(m.index, 3u);
    EXPECT_EQ(m.begin, 32768u);
    EXPECT_EQ(m.payload, "hello");
    expect_need_more_at_every_split(out);

    out.clear();
    put_piece_header(out, 1, 2, 0);
    EXPECT_TRUE(parse_ok(out, 13).payload.empty());
}

TEST(WireMessages, Port) {
    std::string out;
    put_port(out, 6881);
    EXPECT_EQ(out, bytes({0, 0, 0, 3, 9, 0x1a, 0xe1}));
    Message m = parse_ok(out, 7);
    EXPECT_EQ(m.id, MsgId::port);
    EXPECT_EQ(m.port, 6881);
    expect_need_more_at_every_split(out);
}

TEST(WireMessages, Extended) {
    std::string out;
    put_extended(out, 3, "d1:ai1ee");
    EXPECT_EQ(out.substr(0, 6), bytes({0, 0, 0, 10, 20, 3}));
    Message m = parse_ok(out, 14);
    EXPECT_EQ(m.id, MsgId::extended);
    EXPECT_EQ(m.ext_id, 3);
    EXPECT_EQ(m.payload, "d1:ai1ee");
    expect_need_more_at_every_split(out);

    out.clear();
    put_extended(out, 0, "");
    m = parse_ok(out, 6);
    EXPECT_EQ(m.ext_id, 0);
    EXPECT_TRUE(m.payload.empty());
}

TEST(WireMessages, StreamOfMessagesParsesInOrder) {
    std::string out;
    put_simple(out, MsgId::unchoke);
    put_keepalive(out);
    put_have(out, 9);
    put_piece_header(out, 9, 0, 3);
    out += "abc";
    put_port(out, 1);
    std::vector<MsgId> ids;
    std::string_view rest = out;
    int keepalives = 0;
    while (!rest.empty()) {
        Message m;
        ParseResult r = parse_message(rest, kMax, m);
        ASSERT_EQ(r.status, ParseStatus::ok);
        if (m.keepalive)
            ++keepalives;
        else
            ids.push_back(m.id);
        rest.remove_prefix(r.consumed);
    }
    EXPECT_EQ(keepalives, 1);
    EXPECT_EQ(ids, (std::vector<MsgId>{MsgId::unchoke, MsgId::have, MsgId::piece, MsgId::port}));
}

TEST(WireMessages, OversizedPrefixIsErrorWithoutWaiting) {
    std::string buf = bytes({0x7f, 0xff, 0xff, 0xff});
    ParseResult r = parse(buf);
    EXPECT_EQ(r.status, ParseStatus::error);
    ASSERT_NE(r.error, nullptr);
    EXPECT_STREQ(r.error, "message too long");

    // Exactly at the limit is allowed; one past it is not.
    std::string piece;
    put_piece_header(piece, 0, 0, 91);
    piece.append(91, 'x');
    EXPECT_EQ(parse(piece, 100).status, ParseStatus::ok);
    EXPECT_EQ(parse(piece, 99).status, ParseStatus::error);
}

TEST(WireMessages, WrongLengthForEachFixedSizeIdIsError) {
    struct Case {
        int id;
        std::uint32_t good;
    };
    for (Case c :
         {Case{0, 1}, Case{1, 1}, Case{2, 1}, Case{3, 1}, Case{4, 5}, Case{6, 13}, Case{8, 13},
          Case{9, 3}, Case{0x0d, 5}, Case{0x0e, 1}, Case{0x0f, 1}, Case{0x10, 13}, Case{0x11, 5}}) {
        for (std::uint32_t len : {c.good - 1, c.good + 1, c.good + 100}) {
            if (len == 0) continue;  // a zero prefix is a keepalive
            std::string buf =
                bytes({0, 0, static_cast<int>(len >> 8), static_cast<int>(len & 0xff), c.id});
            buf.append(len - 1, '\0');
            ParseResult r = parse(buf);
            EXPECT_EQ(r.status, ParseStatus::error) << "id " << c.id << " len " << len;
            EXPECT_NE(r.error, nullptr);
            // The id byte alone is enough to tell.
            EXPECT_EQ(parse(buf.substr(0, 5)).status, ParseStatus::error);
        }
    }
}

TEST(WireMessages, TooShortVariableSizeIdsAreErrors) {
    // piece needs index + begin (9 bytes), extended needs its ext id (2 bytes).
    for (std::uint32_t len = 1; len < 9; ++len) {
        std::string buf = bytes({0, 0, 0, static_cast<int>(len), 7});
        buf.append(len - 1, '\0');
        EXPECT_EQ(parse(buf).status, ParseStatus::error) << len;
    }
    EXPECT_EQ(parse(bytes({0, 0, 0, 1, 20})).status, ParseStatus::error);
    EXPECT_EQ(parse(bytes({0, 0, 0, 2, 20, 0})).status, ParseStatus::ok);
    EXPECT_EQ(parse(bytes({0, 0, 0, 1, 5})).status, ParseStatus::ok);
}

TEST(WireMessages, UnknownIdIsReturnedForTheCallerToIgnore) {
    std::string buf = bytes({0, 0, 0, 4, 0x42, 'a', 'b', 'c'});
    Message m = parse_ok(buf, 8);
    EXPECT_FALSE(m.known);
    EXPECT_EQ(m.raw_id, 0x42);
    EXPECT_EQ(m.payload, "abc");
    expect_need_more_at_every_split(buf);

    Message e = parse_ok(bytes({0, 0, 0, 1, 0xff}), 5);
    EXPECT_FALSE(e.known);
    EXPECT_EQ(e.raw_id, 0xff);
    EXPECT_TRUE(e.payload.empty());

    // An unknown id over the limit is still too long.
    EXPECT_EQ(parse(bytes({0, 0, 1, 0, 0x42}), 255).status, ParseStatus::error);
}

TEST(WireMessages, OutputIsResetBetweenParses) {
    std::string buf;
    put_piece_header(buf, 5, 6, 1);
    buf += 'z';
    Message m;
    ASSERT_EQ(parse_message(buf, kMax, m).status, ParseStatus::ok);
    std::string choke;
    put_simple(choke, MsgId::choke);
    ASSERT_EQ(parse_message(choke, kMax, m).status, ParseStatus::ok);
    EXPECT_EQ(m.id, MsgId::choke);
    EXPECT_EQ(m.index, 0u);
    EXPECT_TRUE(m.payload.empty());
    EXPECT_TRUE(m.known);
}

TEST(WireMessages, MaxLengthPrefixDoesNotOverflow) {
    // 0xffffffff with a limit of 0xffffffff: waits for bytes, never reads past the buffer.
    std::string buf = bytes({0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0});
    EXPECT_EQ(parse(buf, 0xffffffffu).status, ParseStatus::need_more);
    EXPECT_EQ(parse(buf, 0xfffffffeu).status, ParseStatus::error);
}

// ---- BEP 10 extension handshake ----

TEST(WireExtHandshake, RoundTrip) {
    ExtHandshake h;
    h.m = {{"ut_metadata", 2}, {"ut_pex", 1}};
    h.v = "Piecewise 0.1.0";
    h.p = 6881;
    h.reqq = 500;
    h.metadata_size = 31235;
    h.yourip = bytes({127, 0, 0, 1});
    std::string enc = encode_ext_handshake(h);
    EXPECT_EQ(enc, std::string("d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e"
                               "4:reqqi500e1:v15:Piecewise 0.1.06:yourip4:") +
                       bytes({127, 0, 0, 1}) + "e");
    auto d = decode_ext_handshake(enc);
    ASSERT_TRUE(d);
    // `m` comes back in key order.
    EXPECT_EQ(d->m, (std::vector<std::pair<std::string, int>>{{"ut_metadata", 2}, {"ut_pex", 1}}));
    EXPECT_EQ(d->v, h.v);
    EXPECT_EQ(d->p, 6881);
    EXPECT_EQ(d->reqq, 500);
    EXPECT_EQ(d->metadata_size, 31235);
    EXPECT_EQ(d->yourip, h.yourip);
}

TEST(WireExtHandshake, OwnAddressesRoundTripAndWrongLengthsAreDropped) {
    ExtHandshake h;
    h.ipv4 = bytes({10, 0, 0, 7});
    h.ipv6 = bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    std::string enc = encode_ext_handshake(h);
    EXPECT_EQ(enc, "d4:ipv44:" + h.ipv4 + "4:ipv616:" + h.ipv6 + "1:mdee");
    auto d = decode_ext_handshake(enc);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ipv4, h.ipv4);
    EXPECT_EQ(d->ipv6, h.ipv6);
    // BEP 10: 4 and 16 bytes; anything else (or another type) is ignored.
    d = decode_ext_handshake("d4:ipv45:abcde4:ipv64:abcd1:mdee");
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->ipv4.empty());
    EXPECT_TRUE(d->ipv6.empty());
    d = decode_ext_handshake("d4:ipv4i1e4:ipv6le1:mdee");
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->ipv4.empty());
    EXPECT_TRUE(d->ipv6.empty());
}

TEST(WireExtHandshake, MinimalEncodingHasOnlyM) {
    EXPECT_EQ(encode_ext_handshake(ExtHandshake{}), "d1:mdee");
    auto d = decode_ext_handshake("d1:mdee");
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->m.empty());
    EXPECT_EQ(d->p, 0);
    EXPECT_EQ(d->reqq, 0);
    EXPECT_TRUE(d->v.empty());
}

TEST(WireExtHandshake, BepExampleDecodes) {
    // BEP 10's example with the length of "\xc2\xb5T_PEX" corrected (7 bytes, not 6).
    auto d = decode_ext_handshake(
        "d1:md11:LT_metadatai1e7:\xc2\xb5T_PEXi2ee1:pi6881e1:v13:\xc2\xb5Torrent 1.2e");
    ASSERT_TRUE(d);
    ASSERT_EQ(d->m.size(), 2u);
    EXPECT_EQ(d->m[0], (std::pair<std::string, int>{"LT_metadata", 1}));
    EXPECT_EQ(d->p, 6881);
    EXPECT_EQ(d->v, "\xc2\xb5Torrent 1.2");
}

TEST(WireExtHandshake, NotADictionaryIsNullopt) {
    EXPECT_FALSE(decode_ext_handshake(""));
    EXPECT_FALSE(decode_ext_handshake("i1e"));
    EXPECT_FALSE(decode_ext_handshake("l1:me"));
    EXPECT_FALSE(decode_ext_handshake("d1:m"));
    EXPECT_FALSE(decode_ext_handshake("\xff\xfe"));
}

TEST(WireExtHandshake, WrongTypesAreIgnored) {
    auto d = decode_ext_handshake("d1:mi5e1:pli1ee4:reqq3:abc1:vi7e6:yourip3:abce");
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->m.empty());
    EXPECT_EQ(d->p, 0);
    EXPECT_EQ(d->reqq, 0);
    EXPECT_TRUE(d->v.empty());
    EXPECT_TRUE(d->yourip.empty());  // neither 4 nor 16 bytes
}

TEST(WireExtHandshake, HostileValuesAreBounded) {
    // Ids outside 0..255 and non-integer ids are dropped; 0 (disabled) is kept.
    auto d = decode_ext_handshake("d1:md1:ai-1e1:bi256e1:ci0e1:di255e1:e1:xe1:pi70000e4:reqqi-5ee");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->m, (std::vector<std::pair<std::string, int>>{{"c", 0}, {"d", 255}}));
    EXPECT_EQ(d->p, 0);
    EXPECT_EQ(d->reqq, 0);

    EXPECT_EQ(decode_ext_handshake("d1:pi0ee")->p, 0);
    EXPECT_EQ(decode_ext_handshake("d1:pi-1ee")->p, 0);
    EXPECT_EQ(decode_ext_handshake("d1:pi65535ee")->p, 65535);
    EXPECT_EQ(decode_ext_handshake("d1:pi1ee")->p, 1);
    EXPECT_EQ(decode_ext_handshake("d4:reqqi99999999999ee")->reqq, 1 << 20);
    EXPECT_EQ(decode_ext_handshake("d13:metadata_sizei-1ee")->metadata_size, 0);
    EXPECT_EQ(decode_ext_handshake("d13:metadata_sizei99999999999ee")->metadata_size, 0);
}

TEST(WireExtHandshake, ManyEntriesAndLongStringsAreCapped) {
    pw::bencode::Dict m;
    for (int i = 0; i < 200; ++i) m.emplace("ext_" + std::to_string(1000 + i), i % 256);
    pw::bencode::Dict d;
    d.emplace("m", std::move(m));
    d.emplace("v", std::string(5000, 'v'));
    auto h = decode_ext_handshake(pw::bencode::encode(pw::bencode::Value(std::move(d))));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->m.size(), 64u);
    EXPECT_EQ(h->v.size(), 100u);

    // A name longer than 64 bytes is dropped, the rest of `m` is kept.
    std::string long_name = "d1:md1000:" + std::string(1000, 'n') + "i1e2:oki2eee";
    auto h2 = decode_ext_handshake(long_name);
    ASSERT_TRUE(h2);
    EXPECT_EQ(h2->m, (std::vector<std::pair<std::string, int>>{{"ok", 2}}));
}

TEST(WireExtHandshake, Ipv6YourIp) {
    std::string ip(16, '\x01');
    auto d = decode_ext_handshake("d6:yourip16:" + ip + "e");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->yourip, ip);
}

TEST(WireExtHandshake, DeepNestingIsRejectedNotCrashed) {
    std::string deep = "d1:x" + std::string(10000, 'l') + std::string(10000, 'e') + "e";
    EXPECT_FALSE(decode_ext_handshake(deep));
}

// BEP 6 messages: layout, parse, and a torn stream.
TEST(WireFast, HaveAllAndHaveNone) {
    std::string all, none;
    put_simple(all, MsgId::have_all);
    put_simple(none, MsgId::have_none);
    EXPECT_EQ(all, bytes({0, 0, 0, 1, 0x0e}));
    EXPECT_EQ(none, bytes({0, 0, 0, 1, 0x0f}));
    Message m = parse_ok(all, 5);
    EXPECT_TRUE(m.known);
    EXPECT_EQ(m.id, MsgId::have_all);
    EXPECT_EQ(parse_ok(none, 5).id, MsgId::have_none);
}

TEST(WireFast, SuggestAndAllowedFast) {
    std::string s, a;
    put_suggest(s, 0x01020304);
    put_allowed_fast(a, 7);
    EXPECT_EQ(s, bytes({0, 0, 0, 5, 0x0d, 1, 2, 3, 4}));
    EXPECT_EQ(a, bytes({0, 0, 0, 5, 0x11, 0, 0, 0, 7}));
    Message m = parse_ok(s, 9);
    EXPECT_EQ(m.id, MsgId::suggest);
    EXPECT_EQ(m.index, 0x01020304u);
    m = parse_ok(a, 9);
    EXPECT_EQ(m.id, MsgId::allowed_fast);
    EXPECT_EQ(m.index, 7u);
    expect_need_more_at_every_split(s);
}

TEST(WireFast, Reject) {
    std::string r;
    put_reject(r, 3, 16384, 16384);
    EXPECT_EQ(r, bytes({0, 0, 0, 13, 0x10, 0, 0, 0, 3, 0, 0, 0x40, 0, 0, 0, 0x40, 0}));
    Message m = parse_ok(r, 17);
    EXPECT_EQ(m.id, MsgId::reject);
    EXPECT_EQ(m.index, 3u);
    EXPECT_EQ(m.begin, 16384u);
    EXPECT_EQ(m.length, 16384u);
    expect_need_more_at_every_split(r);
}

TEST(WireFast, HandshakeBit) {
    Handshake h;
    EXPECT_FALSE(h.supports_fast());
    h.set_fast();
    EXPECT_EQ(h.reserved[7], 0x04);
    auto d = decode_handshake(encode_handshake(h));
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->supports_fast());
    h.set_fast(false);
    EXPECT_FALSE(h.supports_fast());
}

// The BEP's own example results (k = 7 and 9 of 1313 pieces, info-hash 0xaa * 20,
// peer 80.4.4.200).
TEST(WireFast, AllowedFastSetMatchesTheBepVectors) {
    pw::Sha1Digest ih;
    ih.bytes.fill(0xaa);
    const std::uint32_t ip = (80u << 24) | (4u << 16) | (4u << 8) | 200u;
    EXPECT_EQ(allowed_fast_set(ip, ih, 1313, 7),
              (std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188}));
    EXPECT_EQ(allowed_fast_set(ip, ih, 1313, 9),
              (std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}));
    // Only the /24 counts.
    EXPECT_EQ(allowed_fast_set(ip ^ 0x7f, ih, 1313, 9), allowed_fast_set(ip, ih, 1313, 9));
    EXPECT_NE(allowed_fast_set(ip ^ 0x100, ih, 1313, 9), allowed_fast_set(ip, ih, 1313, 9));
}

TEST(WireFast, AllowedFastSetOfSmallTorrentsIsBounded) {
    pw::Sha1Digest ih;
    ih.bytes.fill(0x11);
    EXPECT_TRUE(allowed_fast_set(0x7f000001, ih, 0, 10).empty());
    auto few = allowed_fast_set(0x7f000001, ih, 3, 10);  // k > pieces: every piece, once
    std::sort(few.begin(), few.end());
    EXPECT_EQ(few, (std::vector<std::uint32_t>{0, 1, 2}));
    auto ten = allowed_fast_set(0x7f000001, ih, 1000, 10);
    EXPECT_EQ(ten.size(), 10u);
    for (auto i : ten) EXPECT_LT(i, 1000u);
}
