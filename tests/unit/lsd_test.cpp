// Local Service Discovery (BEP 14): the BT-SEARCH codec with well-formed and hostile
// messages, the report limiter, LocalDiscovery's handling of received datagrams (fed
// directly, no sockets), and, in the LsdLive suite, two instances that find each other by
// real multicast. LsdLive runs only with PW_LSD_NETNS=1 inside a loopback-only network
// namespace (tests/interop/lsd_netns_test.sh sets one up); elsewhere it is skipped, because
// multicast must never leave a namespace the test created.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "lsd/discovery_set.hpp"
#include "lsd/local_discovery.hpp"
#include "lsd/parse/lsd_message.hpp"
#include "lsd/report_limiter.hpp"

using namespace pw;
using namespace pw::lsd;
using namespace std::chrono_literals;
using namespace std::string_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

namespace {

Sha1Digest hash_of(std::uint8_t fill) {
    Sha1Digest d;
    d.bytes.fill(fill);
    d.bytes[0] = 0xab;
    return d;
}

std::string message(std::string headers) {
    return "BT-SEARCH * HTTP/1.1\r\n" + headers + "\r\n";
}

std::string ih(std::uint8_t fill) {
    return "Infohash: " + hash_of(fill).hex() + "\r\n";
}

// ---- codec ----------------------------------------------------------------------------

TEST(LsdMessage, DecodesTheBep14Example) {
    std::string m =
        "BT-SEARCH * HTTP/1.1\r\n"
        "Host: 239.192.152.143:6771\r\n"
        "Port: 6881\r\n"
        "Infohash: 0123456789ABCDEF0123456789abcdef01234567\r\n"
        "cookie: 5f3a\r\n"
        "\r\n"
        "\r\n";
    DecodeResult r = decode_announce(m);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.host, "239.192.152.143:6771");
    EXPECT_EQ(r.announce.port, 6881);
    ASSERT_EQ(r.announce.info_hashes.size(), 1u);
    EXPECT_EQ(r.announce.info_hashes[0].hex(), "0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(r.announce.cookie, "5f3a");
    EXPECT_EQ(r.ignored_info_hashes, 0u);
}

TEST(LsdMessage, EncodeDecodeRoundTripWithSeveralHashes) {
    Announce a;
    a.host = "239.192.152.143:6771";
    a.port = 51413;
    a.info_hashes = {hash_of(1), hash_of(2), hash_of(3)};
    a.cookie = "c00k1e";
    std::string m = encode_announce(a);
    EXPECT_TRUE(
        m.starts_with("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 51413\r\n"));
    EXPECT_TRUE(m.ends_with("cookie: c00k1e\r\n\r\n\r\n"));
    DecodeResult r = decode_announce(m);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.host, a.host);
    EXPECT_EQ(r.announce.port, a.port);
    EXPECT_EQ(r.announce.info_hashes, a.info_hashes);
    EXPECT_EQ(r.announce.cookie, a.cookie);
}

TEST(LsdMessage, WithoutCookieOrHostTheHeadersAreLeftOut) {
    Announce a;
    a.port = 1;
    a.info_hashes = {hash_of(9)};
    std::string m = encode_announce(a);
    EXPECT_EQ(m.find("cookie"), std::string::npos);
    EXPECT_EQ(m.find("Host"), std::string::npos);
    DecodeResult r = decode_announce(m);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.announce.cookie.empty());
    EXPECT_TRUE(r.announce.host.empty());
}

TEST(LsdMessage, ToleratesCaseBareLineFeedsUnknownHeadersAndNoFinalBlankLine) {
    std::string m =
        "bt-search  *\thttp/1.0\n"
        "X-Whatever: ignored\n"
        "PORT:   7000  \n"
        "INFOHASH:" +
        hash_of(5).hex() + "\n" + "Cookie:\tabc\t\n" + "infohash : " + hash_of(6).hex();
    DecodeResult r = decode_announce(m);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.port, 7000);
    EXPECT_EQ(r.announce.cookie, "abc");
    EXPECT_EQ(r.announce.info_hashes, (std::vector<Sha1Digest>{hash_of(5), hash_of(6)}));
}

TEST(LsdMessage, IgnoresWhatFollowsTheHeaders) {
    DecodeResult r = decode_announce(message("Port: 1\r\n" + ih(1)) + "garbage without colon\r\n" +
                                     ih(2) + std::string(100, '\0'));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.info_hashes, std::vector<Sha1Digest>{hash_of(1)});
}

TEST(LsdMessage, SkipsBadInfohashesAndDuplicates) {
    std::string m = message(
        "Port: 6881\r\n"
        "Infohash: xyz\r\n"
        "Infohash: " +
        std::string(39, 'a') + "g\r\n" + "Infohash: " + std::string(64, 'a') + "\r\n" + ih(1) +
        ih(1) + ih(2));
    DecodeResult r = decode_announce(m);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.ignored_info_hashes, 3u);
    EXPECT_EQ(r.announce.info_hashes, (std::vector<Sha1Digest>{hash_of(1), hash_of(2)}));
}

TEST(LsdMessage, FirstHostAndCookieCount) {
    DecodeResult r = decode_announce(
        message("Host: a\r\nHost: b\r\ncookie: x\r\ncookie: y\r\nPort: 2\r\n" + ih(1)));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.host, "a");
    EXPECT_EQ(r.announce.cookie, "x");
}

void expect_refused(const std::string& m, const std::string& why_contains) {
    DecodeResult r = decode_announce(m);
    EXPECT_FALSE(r.ok) << m;
    EXPECT_NE(r.error.find(why_contains), std::string::npos) << "error was: " << r.error;
}

TEST(LsdMessage, RefusesBadRequestLines) {
    const std::string rest = "Port: 1\r\n" + ih(1) + "\r\n";
    expect_refused("", "BT-SEARCH");
    expect_refused("\r\n" + rest, "BT-SEARCH");
    expect_refused("M-SEARCH * HTTP/1.1\r\n" + rest, "BT-SEARCH");
    expect_refused("BT-SEARCH / HTTP/1.1\r\n" + rest, "BT-SEARCH");
    expect_refused("BT-SEARCH * HTTP/2.0\r\n" + rest, "BT-SEARCH");
    expect_refused("BT-SEARCH * HTTP/1.1 extra\r\n" + rest, "BT-SEARCH");
    expect_refused("BT-SEARCH *\r\n" + rest, "BT-SEARCH");
    expect_refused("BT-SEARCH * HTTP/1.1\rX\r\n" + rest, "CR");
}

TEST(LsdMessage, RefusesBadPorts) {
    expect_refused(message(ih(1)), "no Port");
    for (std::string p : {"0", "65536", "99999999", "12a", "-1", "+5", "", " ", "0x10", "1 2"})
        expect_refused(message("Port: " + p + "\r\n" + ih(1)), "Port");
    expect_refused(message("Port: 1\r\nPort: 1\r\n" + ih(1)), "more than one Port");
    EXPECT_TRUE(decode_announce(message("Port: 65535\r\n" + ih(1))).ok);
    EXPECT_EQ(decode_announce(message("Port: 00080\r\n" + ih(1))).announce.port, 80);
}

TEST(LsdMessage, RefusesMessagesWithoutAValidHash) {
    expect_refused(message("Port: 1\r\n"), "no valid Infohash");
    expect_refused(message("Port: 1\r\nInfohash: nothex\r\n"), "no valid Infohash");
}

TEST(LsdMessage, RefusesMalformedHeaderLines) {
    expect_refused(message("Port: 1\r\n" + ih(1) + "no colon here\r\n"), "without ':'");
    expect_refused(message("Port: 1\r\nHost: a\rb\r\n" + ih(1)), "CR inside a header");
}

TEST(LsdMessage, BoundsSizeLinesAndHashes) {
    std::string big =
        message("Port: 1\r\n" + ih(1) + "X: " + std::string(max_message_size, 'x') + "\r\n");
    expect_refused(big, "exceeds");

    std::string many_lines = "Port: 1\r\n" + ih(1);
    for (std::size_t i = 0; i < max_header_lines; ++i) many_lines += "a:\r\n";
    expect_refused(message(many_lines), "header lines");

    std::string hashes = "Port: 1\r\n";
    for (std::size_t i = 0; i <= max_info_hashes; ++i) hashes += ih(static_cast<std::uint8_t>(i));
    expect_refused(message(hashes), "Infohash headers");

    std::string bad_hashes = "Port: 1\r\n" + ih(1);
    for (std::size_t i = 0; i < max_info_hashes; ++i) bad_hashes += "Infohash: zz\r\n";
    expect_refused(message(bad_hashes), "Infohash headers");

    std::string exactly = "Port: 1\r\n";
    for (std::size_t i = 0; i < max_info_hashes; ++i) exactly += ih(static_cast<std::uint8_t>(i));
    DecodeResult r = decode_announce(message(exactly));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.info_hashes.size(), max_info_hashes);
}

TEST(LsdMessage, EncodeAnnouncesSplitsIntoPacketsOfAtMost1400Bytes) {
    Announce a;
    a.host = "239.192.152.143:6771";
    a.port = 6881;
    a.cookie = "0123456789abcdef";
    for (int i = 0; i < 70; ++i) a.info_hashes.push_back(hash_of(static_cast<std::uint8_t>(i)));
    std::vector<std::string> ms = encode_announces(a);
    ASSERT_GE(ms.size(), 3u);  // 70 lines of 52 bytes cannot fit in two 1400-byte packets
    std::vector<Sha1Digest> seen;
    for (const std::string& m : ms) {
        EXPECT_LE(m.size(), recommended_packet_size);
        DecodeResult r = decode_announce(m);
        ASSERT_TRUE(r.ok) << r.error;
        EXPECT_EQ(r.announce.cookie, a.cookie);
        EXPECT_EQ(r.announce.port, a.port);
        seen.insert(seen.end(), r.announce.info_hashes.begin(), r.announce.info_hashes.end());
    }
    EXPECT_EQ(seen, a.info_hashes);
    // All but the last are full: as few packets as possible.
    EXPECT_GT(ms[0].size() + 52, recommended_packet_size);

    EXPECT_EQ(encode_announces(a, 10).size(), a.info_hashes.size());  // at least one hash each
    EXPECT_EQ(encode_announces(a, 1 << 20).size(), 2u);               // at most 64 per message
    a.info_hashes.clear();
    EXPECT_TRUE(encode_announces(a).empty());
}

// ---- report limiter -------------------------------------------------------------------

TEST(LsdReportLimiter, OncePerIntervalPerSourceHashAndPort) {
    ReportLimiter lim(60s, 100, 2);
    auto t0 = ReportLimiter::Clock::now();
    const std::uint32_t ip = 0x0a000001, other_ip = 0x0a000002;
    EXPECT_TRUE(lim.allow(ip, 6881, hash_of(1), t0));
    EXPECT_FALSE(lim.allow(ip, 6881, hash_of(1), t0 + 59s));
    EXPECT_TRUE(lim.allow(ip, 6881, hash_of(2), t0));        // other hash
    EXPECT_TRUE(lim.allow(other_ip, 6881, hash_of(1), t0));  // other source
    EXPECT_TRUE(lim.allow(ip, 6882, hash_of(1), t0));        // second port of the pair
    EXPECT_FALSE(lim.allow(ip, 6883, hash_of(1), t0));       // beyond max_ports
    EXPECT_TRUE(lim.allow(ip, 6881, hash_of(1), t0 + 60s));  // interval passed
    EXPECT_TRUE(lim.allow(ip, 6883, hash_of(1), t0 + 60s));  // 6882 expired, room again
}

TEST(LsdReportLimiter, BoundedTableForgetsExpiredPairs) {
    ReportLimiter lim(10s, 3);
    auto t0 = ReportLimiter::Clock::now();
    for (std::uint32_t ip = 1; ip <= 3; ++ip) EXPECT_TRUE(lim.allow(ip, 1, hash_of(1), t0));
    EXPECT_FALSE(lim.allow(4, 1, hash_of(1), t0 + 5s));  // full, nothing expired
    EXPECT_EQ(lim.tracked(), 3u);
    EXPECT_TRUE(lim.allow(4, 1, hash_of(1), t0 + 10s));  // all expired and forgotten
    EXPECT_EQ(lim.tracked(), 1u);
}

TEST(LsdReportLimiter, Ipv6SourcesAndMappedIpv4) {
    ReportLimiter lim(60s, 100, 1);
    auto t0 = ReportLimiter::Clock::now();
    auto a = asio::ip::make_address("fd00::5"), b = asio::ip::make_address("fd00::6");
    EXPECT_TRUE(lim.allow(a, 6881, hash_of(1), t0));
    EXPECT_FALSE(lim.allow(a, 6881, hash_of(1), t0 + 1s));
    EXPECT_FALSE(lim.allow(a, 6882, hash_of(1), t0 + 1s));  // beyond max_ports
    EXPECT_TRUE(lim.allow(b, 6881, hash_of(1), t0));
    // An IPv4 address and its IPv4-mapped form are one source.
    EXPECT_TRUE(lim.allow(asio::ip::make_address("10.0.0.1"), 6881, hash_of(1), t0));
    EXPECT_FALSE(lim.allow(asio::ip::make_address("::ffff:10.0.0.1"), 6881, hash_of(1), t0));
    EXPECT_FALSE(lim.allow(std::uint32_t{0x0a000001}, 6881, hash_of(1), t0));
    EXPECT_EQ(lim.tracked(), 3u);
    EXPECT_TRUE(lim.allow(a, 6881, hash_of(1), t0 + 60s));
}

TEST(LsdReportLimiter, ZeroIntervalAlwaysAllows) {
    ReportLimiter lim(0s);
    auto t0 = ReportLimiter::Clock::now();
    EXPECT_TRUE(lim.allow(1, 1, hash_of(1), t0));
    EXPECT_TRUE(lim.allow(1, 1, hash_of(1), t0));
}

// ---- LocalDiscovery without sockets -----------------------------------------------------

struct Reported {
    Sha1Digest hash;
    tcp::endpoint peer;
};

struct Fixture {
    asio::io_context io;
    std::vector<Reported> reports;
    LocalDiscovery lsd;

    explicit Fixture(LsdSettings s = {}, const char* iface = "127.0.0.1")
        : lsd(io, asio::ip::make_address(iface), 6881, std::move(s),
              [this](const Sha1Digest& h, const tcp::endpoint& ep) {
                  reports.push_back({h, ep});
              }) {}

    void feed(const std::string& from_ip, const Announce& a) {
        lsd.handle_datagram(udp::endpoint(asio::ip::make_address(from_ip), 40000),
                            encode_announce(a));
    }
};

Announce from_peer(std::vector<Sha1Digest> hashes, std::uint16_t port = 7000,
                   std::string cookie = "theirs") {
    Announce a;
    a.host = "239.192.152.143:6771";
    a.port = port;
    a.info_hashes = std::move(hashes);
    a.cookie = std::move(cookie);
    return a;
}

TEST(LsdDiscovery, ReportsOnlyAnnouncedHashesWithSourceAddressAndAnnouncedPort) {
    Fixture f;
    f.lsd.announce(hash_of(1));
    f.lsd.announce(hash_of(3));
    f.feed("192.168.1.20", from_peer({hash_of(1), hash_of(2), hash_of(3)}, 51413));
    ASSERT_EQ(f.reports.size(), 2u);
    EXPECT_EQ(f.reports[0].hash, hash_of(1));
    EXPECT_EQ(f.reports[1].hash, hash_of(3));
    EXPECT_EQ(f.reports[0].peer, tcp::endpoint(asio::ip::make_address("192.168.1.20"), 51413));
    EXPECT_EQ(f.lsd.stats().peers_reported, 2u);
}

TEST(LsdDiscovery, IgnoresOwnCookieMalformedAndUnwanted) {
    Fixture f;
    f.lsd.announce(hash_of(1));
    EXPECT_EQ(f.lsd.cookie().size(), 16u);
    f.feed("10.0.0.5", from_peer({hash_of(1)}, 7000, f.lsd.cookie()));
    f.lsd.handle_datagram(udp::endpoint(asio::ip::make_address("10.0.0.5"), 1), "garbage");
    f.lsd.handle_datagram(udp::endpoint(asio::ip::make_address("10.0.0.5"), 1),
                          std::string(60000, 'B'));
    f.feed("10.0.0.5", from_peer({hash_of(2)}));
    f.feed("0.0.0.0", from_peer({hash_of(1)}));
    EXPECT_TRUE(f.reports.empty());
    LocalDiscovery::Stats s = f.lsd.stats();
    EXPECT_EQ(s.datagrams_received, 5u);
    EXPECT_EQ(s.own, 1u);
    EXPECT_EQ(s.malformed, 2u);
}

TEST(LsdDiscovery, RateLimitsRepeatsAndStopsAfterRemove) {
    Fixture f;
    f.lsd.announce(hash_of(1));
    for (int i = 0; i < 10; ++i) f.feed("10.0.0.5", from_peer({hash_of(1)}));
    EXPECT_EQ(f.reports.size(), 1u);
    EXPECT_EQ(f.lsd.stats().reports_limited, 9u);
    f.feed("10.0.0.6", from_peer({hash_of(1)}));  // another neighbour
    EXPECT_EQ(f.reports.size(), 2u);
    f.lsd.remove(hash_of(1));
    f.feed("10.0.0.7", from_peer({hash_of(1)}));
    EXPECT_EQ(f.reports.size(), 2u);
    f.lsd.announce(hash_of(1));
    f.feed("10.0.0.7", from_peer({hash_of(1)}));
    EXPECT_EQ(f.reports.size(), 3u);
}

TEST(LsdDiscovery, ZeroReportIntervalReportsEveryAnnounce) {
    LsdSettings s;
    s.report_interval = 0s;
    Fixture f(s);
    f.lsd.announce(hash_of(1));
    for (int i = 0; i < 3; ++i) f.feed("10.0.0.5", from_peer({hash_of(1)}));
    EXPECT_EQ(f.reports.size(), 3u);
}

TEST(LsdDiscovery, GivenCookieIsUsed) {
    LsdSettings s;
    s.cookie = "shared-by-session";
    Fixture f(s);
    EXPECT_EQ(f.lsd.cookie(), "shared-by-session");
    f.lsd.announce(hash_of(1));
    f.feed("10.0.0.5", from_peer({hash_of(1)}, 7000, "shared-by-session"));
    EXPECT_TRUE(f.reports.empty());
}

TEST(LsdDiscovery, HandlerMayRemoveAndStop) {
    asio::io_context io;
    int calls = 0;
    std::unique_ptr<LocalDiscovery> lsd;
    lsd = std::make_unique<LocalDiscovery>(io, asio::ip::make_address_v4("127.0.0.1"), 6881,
                                           LsdSettings{},
                                           [&](const Sha1Digest& h, const tcp::endpoint&) {
                                               ++calls;
                                               lsd->remove(h);
                                               lsd->remove(hash_of(2));
                                               lsd->stop();
                                           });
    lsd->announce(hash_of(1));
    lsd->announce(hash_of(2));
    lsd->handle_datagram(udp::endpoint(asio::ip::make_address("10.0.0.5"), 1),
                         encode_announce(from_peer({hash_of(1), hash_of(2)})));
    EXPECT_EQ(calls, 1);
}

TEST(LsdDiscovery, Ipv6InstanceReportsIpv6SourcesOnly) {
    Fixture f({}, "::1");
    EXPECT_TRUE(f.lsd.is_v6());
    f.lsd.announce(hash_of(1));
    Announce a = from_peer({hash_of(1)}, 51413);
    a.host = "[ff15::efc0:988f]:6771";
    f.feed("fd00::20", a);
    f.feed("10.0.0.5", a);             // other family
    f.feed("::ffff:10.0.0.5", a);      // IPv4-mapped
    f.feed("::", a);                   // unspecified
    f.feed("ff15::efc0:988f", a);      // multicast
    f.feed("fd00::20", a);             // repeat: rate limited
    ASSERT_EQ(f.reports.size(), 1u);
    EXPECT_EQ(f.reports[0].hash, hash_of(1));
    EXPECT_EQ(f.reports[0].peer, tcp::endpoint(asio::ip::make_address("fd00::20"), 51413));
    EXPECT_EQ(f.lsd.stats().reports_limited, 1u);
    EXPECT_EQ(f.lsd.stats().datagrams_received, 6u);
}

TEST(LsdDiscovery, Ipv6LinkLocalSourceKeepsItsScope) {
    Fixture f({}, "::1");
    f.lsd.announce(hash_of(1));
    auto ll = asio::ip::make_address_v6("fe80::1");
    ll.scope_id(7);
    f.lsd.handle_datagram(udp::endpoint(ll, 6771), encode_announce(from_peer({hash_of(1)}, 6881)));
    ASSERT_EQ(f.reports.size(), 1u);
    EXPECT_EQ(f.reports[0].peer.address().to_v6().scope_id(), 7u);
}

TEST(LsdDiscovery, Ipv4InstanceIgnoresIpv6Sources) {
    Fixture f;
    EXPECT_FALSE(f.lsd.is_v6());
    f.lsd.announce(hash_of(1));
    f.feed("fd00::20", from_peer({hash_of(1)}));
    EXPECT_TRUE(f.reports.empty());
}

TEST(LsdDiscovery, StartRefusesAGroupOfTheOtherFamily) {
    asio::io_context io;
    LsdSettings s;
    s.group_v6 = "239.192.152.143";
    LocalDiscovery lsd(io, asio::ip::make_address("::1"), 6881, s, nullptr);
    std::string error;
    EXPECT_FALSE(lsd.start(error));
    EXPECT_NE(error.find("not an IPv6 multicast address"), std::string::npos) << error;
    s.group_v6 = "fd00::1";
    LocalDiscovery lsd2(io, asio::ip::make_address("::1"), 6881, s, nullptr);
    EXPECT_FALSE(lsd2.start(error));
    s = {};
    s.group_v4 = "ff15::efc0:988f";
    LocalDiscovery lsd3(io, asio::ip::make_address("127.0.0.1"), 6881, s, nullptr);
    EXPECT_FALSE(lsd3.start(error));
    EXPECT_NE(error.find("not an IPv4 multicast address"), std::string::npos) << error;
}

TEST(LsdDiscovery, Ipv6StartRefusesAMissingInterfaceOrAnAddressNoInterfaceHas) {
    // Both fail before a socket is opened: nothing is sent.
    asio::io_context io;
    LsdSettings s;
    s.device = "pw-none0";
    LocalDiscovery lsd(io, asio::ip::make_address("::"), 6881, s, nullptr);
    std::string error;
    EXPECT_FALSE(lsd.start(error));
    EXPECT_NE(error.find("no network interface 'pw-none0'"), std::string::npos) << error;
    LocalDiscovery lsd2(io, asio::ip::make_address("2001:db8::7"), 6881, {}, nullptr);
    EXPECT_FALSE(lsd2.start(error));
    EXPECT_NE(error.find("no network interface has that address"), std::string::npos) << error;
}

TEST(LsdDiscoverySet, KeepsNothingWhenNoneStartsAndSaysWhyForEach) {
    asio::io_context io;
    LsdSettings bad4, bad6;
    bad4.group_v4 = "10.1.2.3";
    bad6.group_v6 = "fd00::1";
    DiscoverySet set;
    set.add(std::make_unique<LocalDiscovery>(io, asio::ip::make_address("127.0.0.1"), 6881, bad4, nullptr));
    set.add(std::make_unique<LocalDiscovery>(io, asio::ip::make_address("::1"), 6881, bad6, nullptr));
    set.add(nullptr);
    EXPECT_EQ(set.size(), 2u);
    std::vector<std::string> failures;
    EXPECT_FALSE(set.start(failures));
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_NE(failures[0].find("IPv4"), std::string::npos) << failures[0];
    EXPECT_NE(failures[1].find("IPv6"), std::string::npos) << failures[1];
    EXPECT_EQ(set.size(), 0u);
    set.announce(hash_of(1));  // nothing to act on, no crash
    set.remove(hash_of(1));
    set.stop();
}

TEST(LsdDiscovery, StartRefusesANonMulticastGroup) {
    // Fails before any socket is opened: nothing is sent.
    asio::io_context io;
    LsdSettings s;
    s.group_v4 = "10.1.2.3";
    LocalDiscovery lsd(io, asio::ip::make_address_v4("127.0.0.1"), 6881, s, nullptr);
    std::string error;
    EXPECT_FALSE(lsd.start(error));
    EXPECT_NE(error.find("not an IPv4 multicast address"), std::string::npos) << error;
    s.group_v4 = "not an address";
    LocalDiscovery lsd2(io, asio::ip::make_address_v4("127.0.0.1"), 6881, s, nullptr);
    EXPECT_FALSE(lsd2.start(error));
}

TEST(LsdDiscovery, StartRefusesAMissingInterface) {
    // The socket is opened but never bound or joined: nothing is sent.
    asio::io_context io;
    LsdSettings s;
    s.device = "pw-none0";
    LocalDiscovery lsd(io, asio::ip::make_address_v4("127.0.0.1"), 6881, s, nullptr);
    std::string error;
    EXPECT_FALSE(lsd.start(error));
    EXPECT_NE(error.find("bind to interface 'pw-none0'"), std::string::npos) << error;
}

// ---- live, inside a loopback-only network namespace --------------------------------------

bool run_until(asio::io_context& io, std::chrono::milliseconds limit,
               const std::function<bool()>& pred) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        if (io.stopped()) io.restart();
        io.run_for(20ms);
    }
    return pred();
}

void run_for(asio::io_context& io, std::chrono::milliseconds d) {
    run_until(io, d, [] { return false; });
}

class LsdLive : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* env = std::getenv("PW_LSD_NETNS");
        if (!env || std::string(env) != "1")
            GTEST_SKIP() << "needs PW_LSD_NETNS=1 in a loopback-only network namespace "
                            "(tests/interop/lsd_netns_test.sh)";
        // Refuse to send multicast where it could reach a real network: the namespace's
        // interfaces (/proc/self/net/dev lists those of this process's namespace).
        std::ifstream dev("/proc/self/net/dev");
        ASSERT_TRUE(dev) << "cannot read /proc/self/net/dev";
        std::string line;
        int row = 0;
        while (std::getline(dev, line)) {
            if (++row <= 2) continue;  // two header lines
            std::string name = line.substr(0, line.find(':'));
            name.erase(0, name.find_first_not_of(' '));
            ASSERT_EQ(name, "lo") << "PW_LSD_NETNS=1 but interface " << name << " exists";
        }
    }

    struct Peer {
        std::vector<Reported> reports;
        std::unique_ptr<LocalDiscovery> lsd;
        Peer(asio::io_context& io, const char* ip, std::uint16_t port, LsdSettings s = {}) {
            lsd = std::make_unique<LocalDiscovery>(
                io, asio::ip::make_address(ip), port, std::move(s),
                [this](const Sha1Digest& h, const tcp::endpoint& ep) {
                    reports.push_back({h, ep});
                });
            std::string error;
            EXPECT_TRUE(lsd->start(error)) << error;
        }
        std::size_t count(const Sha1Digest& h) const {
            std::size_t n = 0;
            for (const Reported& r : reports) n += r.hash == h;
            return n;
        }
    };

    asio::io_context io;
};

TEST_F(LsdLive, TwoInstancesDiscoverEachOthersSharedHash) {
    Peer a(io, "127.0.0.1", 6881), b(io, "127.0.0.2", 6882);
    const Sha1Digest shared = hash_of(1), only_a = hash_of(2), only_b = hash_of(3);
    a.lsd->announce(shared);
    a.lsd->announce(only_a);
    b.lsd->announce(only_b);
    b.lsd->announce(shared);
    ASSERT_TRUE(run_until(io, 10s, [&] {
        return !a.reports.empty() && !b.reports.empty() && a.lsd->stats().own > 0 &&
               b.lsd->stats().own > 0;
    }));
    run_for(io, 300ms);  // anything more would show up now
    ASSERT_EQ(a.reports.size(), 1u);
    EXPECT_EQ(a.reports[0].hash, shared);
    EXPECT_EQ(a.reports[0].peer, tcp::endpoint(asio::ip::make_address("127.0.0.2"), 6882));
    ASSERT_EQ(b.reports.size(), 1u);
    EXPECT_EQ(b.reports[0].hash, shared);
    EXPECT_EQ(b.reports[0].peer, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 6881));
    // Both hashes of each side went out in one datagram.
    EXPECT_EQ(a.lsd->stats().datagrams_sent, 1u);
    EXPECT_EQ(b.lsd->stats().datagrams_sent, 1u);
    EXPECT_EQ(a.lsd->stats().malformed, 0u);
}

TEST_F(LsdLive, RepeatedAnnounceWithinMinIntervalSendsOnce) {
    Peer a(io, "127.0.0.1", 6881);
    a.lsd->announce(hash_of(1));
    ASSERT_TRUE(run_until(io, 5s, [&] { return a.lsd->stats().own > 0; }));
    a.lsd->announce(hash_of(1));
    a.lsd->announce(hash_of(1));
    a.lsd->remove(hash_of(1));
    a.lsd->announce(hash_of(1));
    run_for(io, 500ms);
    EXPECT_EQ(a.lsd->stats().datagrams_sent, 1u);
    EXPECT_EQ(a.lsd->stats().own, 1u);
}

TEST_F(LsdLive, ReannouncesEveryIntervalUntilRemoved) {
    LsdSettings fast;
    fast.interval = 1s;
    fast.min_interval = 1s;
    fast.report_interval = 0s;
    Peer a(io, "127.0.0.1", 6881, fast), b(io, "127.0.0.2", 6882, fast);
    const Sha1Digest h = hash_of(7);
    b.lsd->announce(h);  // b takes part in h too, so it reports a
    a.lsd->announce(h);
    ASSERT_TRUE(run_until(io, 6s, [&] { return b.count(h) >= 3; }));
    a.lsd->remove(h);
    run_for(io, 200ms);  // a datagram already on its way
    std::size_t before = b.count(h);
    run_for(io, 2500ms);
    EXPECT_EQ(b.count(h), before);
    EXPECT_GE(a.lsd->stats().datagrams_sent, 3u);
}

TEST_F(LsdLive, StopLeavesTheGroup) {
    Peer a(io, "127.0.0.1", 6881), b(io, "127.0.0.2", 6882);
    b.lsd->stop();
    b.lsd->announce(hash_of(1));
    a.lsd->announce(hash_of(1));
    ASSERT_TRUE(run_until(io, 5s, [&] { return a.lsd->stats().own > 0; }));
    run_for(io, 300ms);
    EXPECT_TRUE(b.reports.empty());
    EXPECT_EQ(b.lsd->stats().datagrams_received, 0u);
    EXPECT_EQ(b.lsd->stats().datagrams_sent, 0u);
    std::string error;
    ASSERT_TRUE(b.lsd->start(error)) << error;  // restarts and sends what is wanted
    ASSERT_TRUE(run_until(io, 5s, [&] { return !a.reports.empty(); }));
    EXPECT_EQ(a.reports[0].peer, tcp::endpoint(asio::ip::make_address("127.0.0.2"), 6882));
}

// IPv6 (BEP 14's group ff15::efc0:988f): the namespace routes ff00::/8 to lo as "local"
// (lsd_netns_test.sh), so the group's datagrams loop back on lo and nowhere else.
TEST_F(LsdLive, Ipv6InstancesDiscoverEachOtherOnTheIpv6Group) {
    Peer a(io, "::1", 6881), b(io, "::1", 6882);
    const Sha1Digest shared = hash_of(1), only_a = hash_of(2);
    a.lsd->announce(shared);
    a.lsd->announce(only_a);
    b.lsd->announce(shared);
    ASSERT_TRUE(run_until(io, 10s, [&] {
        return !a.reports.empty() && !b.reports.empty() && a.lsd->stats().own > 0 &&
               b.lsd->stats().own > 0;
    }));
    run_for(io, 300ms);
    ASSERT_EQ(a.reports.size(), 1u);
    EXPECT_EQ(a.reports[0].hash, shared);
    EXPECT_EQ(a.reports[0].peer, tcp::endpoint(asio::ip::make_address("::1"), 6882));
    ASSERT_EQ(b.reports.size(), 1u);
    EXPECT_EQ(b.reports[0].peer, tcp::endpoint(asio::ip::make_address("::1"), 6881));
    EXPECT_EQ(a.lsd->stats().malformed, 0u);
}

TEST_F(LsdLive, Ipv6AnnounceGoesToTheGroupWithItsHostHeader) {
    // A plain socket joined to the group on lo sees what an instance on [::] sends.
    asio::ip::udp::socket listener(io);
    listener.open(udp::v6());
    listener.set_option(asio::socket_base::reuse_address(true));
    listener.set_option(asio::ip::v6_only(true));
    const auto group = asio::ip::make_address_v6("ff15::efc0:988f");
    listener.bind(udp::endpoint(group, 6771));
    listener.set_option(asio::ip::multicast::join_group(group, 1u));  // lo
    std::vector<char> buf(4096);
    udp::endpoint from;
    std::size_t got = 0;
    listener.async_receive_from(asio::buffer(buf), from,
                                [&](const boost::system::error_code& ec, std::size_t n) {
                                    if (!ec) got = n;
                                });
    Peer a(io, "::", 7001);
    a.lsd->announce(hash_of(5));
    ASSERT_TRUE(run_until(io, 5s, [&] { return got > 0; }));
    DecodeResult r = decode_announce(std::string_view(buf.data(), got));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.announce.host, "[ff15::efc0:988f]:6771");
    EXPECT_EQ(r.announce.port, 7001);
    ASSERT_EQ(r.announce.info_hashes.size(), 1u);
    EXPECT_EQ(r.announce.info_hashes[0], hash_of(5));
    EXPECT_TRUE(from.address().is_v6());
}

TEST_F(LsdLive, Ipv6OnTheBoundInterfaceAndBesideIpv4) {
    // A set of an IPv4 and an IPv6 instance (as a session listening on both families),
    // sharing one cookie, the IPv6 one held on lo by name: each family finds the other
    // side's instance of that family only.
    LsdSettings on_lo;
    on_lo.device = "lo";
    on_lo.cookie = "set-cookie";
    std::vector<Reported> set_reports;
    auto record = [&](const Sha1Digest& h, const tcp::endpoint& ep) { set_reports.push_back({h, ep}); };
    DiscoverySet set;
    set.add(std::make_unique<LocalDiscovery>(io, asio::ip::make_address("127.0.0.1"), 6881, on_lo, record));
    set.add(std::make_unique<LocalDiscovery>(io, asio::ip::make_address("::1"), 6881, on_lo, record));
    std::vector<std::string> failures;
    ASSERT_TRUE(set.start(failures));
    EXPECT_TRUE(failures.empty());
    EXPECT_EQ(set.size(), 2u);
    Peer v4(io, "127.0.0.2", 6882), v6(io, "::1", 6883);
    const Sha1Digest h = hash_of(9);
    set.announce(h);
    v4.lsd->announce(h);
    v6.lsd->announce(h);
    ASSERT_TRUE(run_until(io, 10s, [&] {
        return set_reports.size() >= 2 && !v4.reports.empty() && !v6.reports.empty();
    }));
    run_for(io, 300ms);
    // The set's own two instances ignore each other (one cookie).
    ASSERT_EQ(set_reports.size(), 2u);
    std::vector<tcp::endpoint> seen{set_reports[0].peer, set_reports[1].peer};
    std::sort(seen.begin(), seen.end());
    std::vector<tcp::endpoint> want{tcp::endpoint(asio::ip::make_address("127.0.0.2"), 6882),
                                    tcp::endpoint(asio::ip::make_address("::1"), 6883)};
    std::sort(want.begin(), want.end());
    EXPECT_EQ(seen, want);
    ASSERT_EQ(v4.reports.size(), 1u);
    EXPECT_EQ(v4.reports[0].peer, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 6881));
    ASSERT_EQ(v6.reports.size(), 1u);
    EXPECT_EQ(v6.reports[0].peer, tcp::endpoint(asio::ip::make_address("::1"), 6881));
    EXPECT_EQ(set.at(0).stats().own + set.at(1).stats().own, 2u);
}

}  // namespace
