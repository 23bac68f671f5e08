// `piecewise tracker`: request parsers, the swarm store, connection ids (pure), then the
// server in-process on 127.0.0.1 / [::1] port 0, driven by real HTTP and UDP clients.
// The server's io_context runs on its own thread; every client wait is bounded.
#include "tracker/server/tracker_server.hpp"
#include "text/percent.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "bencode/bencode.hpp"
#include "tracker/parse/server_request.hpp"
#include "tracker/server/connection_id.hpp"

using namespace pw;
using namespace pw::tracker;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

namespace {

Sha1Digest hash_of(char c) {
    Sha1Digest h;
    h.bytes.fill(static_cast<std::uint8_t>(c));
    return h;
}
wire::PeerId id_of(char c) {
    wire::PeerId p;
    p.fill(static_cast<std::uint8_t>(c));
    return p;
}
PeerEndpoint v4(std::uint8_t last, std::uint16_t port) {
    return PeerEndpoint::v4_of({127, 0, 0, last}, port);
}

// ---- Parsers ----

TEST(ServerRequest, PercentDecode) {
    using pw::text::percent_decode;
    EXPECT_EQ(percent_decode("a%20b+c%7e", true), std::optional<std::string>("a b c~"));
    EXPECT_EQ(percent_decode("a%20b+c%7e", false), std::optional<std::string>("a b+c~"));
    EXPECT_EQ(percent_decode("%00%FF", true), std::optional<std::string>(std::string("\0\xff", 2)));
    EXPECT_FALSE(percent_decode("%", true));
    EXPECT_FALSE(percent_decode("ab%2", true));
    EXPECT_FALSE(percent_decode("%zz", false));
}

TEST(ServerRequest, HttpAnnounce) {
    std::string q = "info_hash=" + url_encode(hash_of('\x01').view()) +
                    "&peer_id=-PW0001-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3"
                    "&event=completed&numwant=5&compact=0&no_peer_id=1&ip=1.2.3.4&key=x";
    AnnounceParse p = parse_http_announce(q);
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.announce.info_hash, hash_of('\x01'));
    EXPECT_EQ(p.announce.peer_id[0], '-');
    EXPECT_EQ(p.announce.port, 6881);
    EXPECT_EQ(p.announce.uploaded, 1);
    EXPECT_EQ(p.announce.downloaded, 2);
    EXPECT_EQ(p.announce.left, 3);
    EXPECT_EQ(p.announce.event, Event::completed);
    EXPECT_EQ(p.announce.numwant, 5);
    EXPECT_FALSE(p.announce.compact);
    EXPECT_TRUE(p.announce.no_peer_id);
}

TEST(ServerRequest, HttpAnnounceErrors) {
    const std::string h = "info_hash=" + url_encode(hash_of('a').view());
    const std::string id = "&peer_id=" + std::string(20, 'p');
    EXPECT_EQ(parse_http_announce(id + "&port=1").error, "missing info_hash");
    EXPECT_EQ(parse_http_announce(h + "&port=1").error, "missing peer_id");
    EXPECT_EQ(parse_http_announce(h + id).error, "missing port");
    EXPECT_EQ(parse_http_announce(h + id + "&port=0").error, "port must be 1..65535");
    EXPECT_EQ(parse_http_announce(h + id + "&port=70000").error, "port must be 1..65535");
    EXPECT_EQ(parse_http_announce("info_hash=abc" + id + "&port=1").error,
              "info_hash must be 20 bytes");
    EXPECT_EQ(parse_http_announce(h + id + "&port=1&left=-5").error,
              "left must be a non-negative integer");
    EXPECT_EQ(parse_http_announce(h + id + "&port=1&event=bogus").error, "unknown event");
    EXPECT_EQ(parse_http_announce(h + id + "&port=1&numwant=-1").announce.numwant, -1);
    EXPECT_EQ(parse_http_announce(h + "&" + h + id + "&port=1").error,
              "duplicate parameter info_hash");
    std::string many;
    for (int i = 0; i < 100; ++i) many += "x=1&";
    EXPECT_EQ(parse_http_announce(many).error, "too many query parameters");
}

TEST(ServerRequest, HttpScrape) {
    auto a = url_encode(hash_of('a').view()), b = url_encode(hash_of('b').view());
    ScrapeParse p = parse_http_scrape("info_hash=" + a + "&info_hash=" + b + "&info_hash=" + a);
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.info_hashes, (std::vector<Sha1Digest>{hash_of('a'), hash_of('b')}));
    EXPECT_TRUE(parse_http_scrape("").info_hashes.empty());
    EXPECT_EQ(parse_http_scrape("info_hash=%41").error, "info_hash must be 20 bytes");
}

std::string be(std::uint64_t v, int bytes) {
    std::string s;
    for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return s;
}

std::string udp_connect(std::uint32_t tid) {
    return be(udp_protocol_id, 8) + be(0, 4) + be(tid, 4);
}

std::string udp_announce(std::uint64_t cid, std::uint32_t tid, char hash, char id,
                         std::uint16_t port, std::uint64_t left = 100, std::uint32_t event = 2,
                         std::int32_t numwant = -1) {
    return be(cid, 8) + be(1, 4) + be(tid, 4) + std::string(hash_of(hash).view()) +
           std::string(20, id) + be(0, 8) + be(left, 8) + be(0, 8) + be(event, 4) + be(0, 4) +
           be(7, 4) + be(static_cast<std::uint32_t>(numwant), 4) + be(port, 2);
}

std::string udp_scrape(std::uint64_t cid, std::uint32_t tid, std::string hashes) {
    return be(cid, 8) + be(2, 4) + be(tid, 4) + hashes;
}

TEST(ServerRequest, UdpPackets) {
    UdpParse c = parse_udp_request(udp_connect(42));
    ASSERT_EQ(c.error, "");
    EXPECT_EQ(c.request.action, UdpAction::connect);
    EXPECT_EQ(c.request.transaction_id, 42u);
    EXPECT_NE(parse_udp_request(be(1, 8) + be(0, 4) + be(1, 4)).error, "");  // no protocol id

    UdpParse a = parse_udp_request(udp_announce(9, 5, 'h', 'i', 6881, 0, 1, 30) + "extension");
    ASSERT_EQ(a.error, "");
    EXPECT_EQ(a.request.action, UdpAction::announce);
    EXPECT_EQ(a.request.connection_id, 9u);
    EXPECT_EQ(a.request.info_hash, hash_of('h'));
    EXPECT_EQ(a.request.event, Event::completed);
    EXPECT_EQ(a.request.numwant, 30);
    EXPECT_EQ(a.request.port, 6881);
    EXPECT_EQ(a.request.key, 7u);
    EXPECT_NE(parse_udp_request(udp_announce(9, 5, 'h', 'i', 6881).substr(0, 97)).error, "");
    EXPECT_NE(parse_udp_request(udp_announce(9, 5, 'h', 'i', 6881, 0, 9)).error, "");
    EXPECT_NE(parse_udp_request(udp_announce(9, 5, 'h', 'i', 0)).error, "");

    UdpParse s = parse_udp_request(udp_scrape(9, 5, std::string(200 * 20, 'x')));
    ASSERT_EQ(s.error, "");
    EXPECT_EQ(s.request.info_hashes.size(), max_udp_scrape_hashes);
    EXPECT_NE(parse_udp_request(udp_scrape(9, 5, std::string(19, 'x'))).error, "");
    EXPECT_NE(parse_udp_request("short").error, "");
    EXPECT_NE(parse_udp_request(be(9, 8) + be(77, 4) + be(1, 4)).error, "");
}

// ---- Store ----

StoreAnnounce ann(char hash, PeerEndpoint ep, std::int64_t left, Event ev = Event::none,
                  int numwant = -1) {
    StoreAnnounce a;
    a.info_hash = hash_of(hash);
    a.peer_id = id_of(static_cast<char>('A' + ep.port % 26));
    a.endpoint = ep;
    a.left = left;
    a.event = ev;
    a.numwant = numwant;
    return a;
}

TEST(SwarmStore, CountsPeersAndExcludesRequester) {
    SwarmStore s({}, 60s, 1);
    const auto t = Clock::now();
    EXPECT_TRUE(s.announce(ann('x', v4(1, 1000), 0, Event::started), t).peers.empty());
    StoreReply r = s.announce(ann('x', v4(1, 1001), 50), t);  // same address, other port
    EXPECT_EQ(r.counts.complete, 1u);
    EXPECT_EQ(r.counts.incomplete, 1u);
    ASSERT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(r.peers[0].endpoint, v4(1, 1000));
    // The leecher finishes: a completed event counts once and makes it a seeder.
    r = s.announce(ann('x', v4(1, 1001), 0, Event::completed), t);
    EXPECT_EQ(r.counts.complete, 2u);
    EXPECT_EQ(r.counts.incomplete, 0u);
    EXPECT_EQ(s.scrape(hash_of('x')).downloaded, 1u);
    // Stopped removes it.
    r = s.announce(ann('x', v4(1, 1001), 0, Event::stopped), t);
    EXPECT_EQ(r.counts.complete, 1u);
    EXPECT_TRUE(r.peers.empty());
    EXPECT_EQ(s.totals().seeders, 1u);
    EXPECT_EQ(s.scrape(hash_of('q')).complete, 0u);
}

TEST(SwarmStore, SweepExpiresPeersAndTorrents) {
    SwarmStore s({}, 10s, 1);
    const auto t = Clock::now();
    s.announce(ann('x', v4(1, 1), 5), t);
    s.announce(ann('x', v4(1, 2), 5), t + 8s);
    s.announce(ann('y', v4(1, 3), 5), t);
    EXPECT_EQ(s.sweep(t + 9s), 0u);
    EXPECT_EQ(s.sweep(t + 11s), 2u);
    EXPECT_EQ(s.totals().torrents, 1u);
    EXPECT_EQ(s.totals().leechers, 1u);
    EXPECT_EQ(s.sweep(t + 19s), 1u);
    EXPECT_EQ(s.totals().torrents, 0u);
}

TEST(SwarmStore, NumwantCappedRandomDistinct) {
    SwarmStore s({}, 60s, 7);
    const auto t = Clock::now();
    for (std::uint16_t p = 1; p <= 300; ++p) s.announce(ann('x', v4(1, p), 1), t);
    StoreReply r = s.announce(ann('x', v4(1, 5), 1, Event::none, 100000), t);
    ASSERT_EQ(r.peers.size(), 200u);
    std::set<std::uint16_t> ports;
    for (const auto& p : r.peers) ports.insert(p.endpoint.port);
    EXPECT_EQ(ports.size(), 200u);
    EXPECT_EQ(ports.count(5), 0u);
    EXPECT_EQ(s.announce(ann('x', v4(1, 5), 1, Event::none, 0), t).peers.size(), 0u);
    EXPECT_EQ(s.announce(ann('x', v4(1, 5), 1), t).peers.size(), 50u);  // the default
    // Two picks differ (random order).
    StoreReply r2 = s.announce(ann('x', v4(1, 5), 1, Event::none, 10), t);
    StoreReply r3 = s.announce(ann('x', v4(1, 5), 1, Event::none, 10), t);
    bool differ = false;
    for (std::size_t i = 0; i < 10; ++i) differ |= !(r2.peers[i].endpoint == r3.peers[i].endpoint);
    EXPECT_TRUE(differ);
}

// A swarm growing past the size below which the requester is found by a scan (64) and
// shrinking back under it: every peer stays one entry, found again on each re-announce,
// with the right counts, whichever way it is looked up; peer ids come back only when asked.
TEST(SwarmStore, LookupAcrossTheScanSize) {
    SwarmStore s({}, 60s, 3);
    const auto t = Clock::now();
    constexpr std::uint16_t n = 150;
    for (int round = 0; round < 2; ++round)  // the second round re-announces: no new peers
        for (std::uint16_t p = 1; p <= n; ++p)
            EXPECT_EQ(s.announce(ann('x', v4(1, p), p % 3 == 0 ? 0 : 5), t).counts.complete +
                          s.scrape(hash_of('x')).incomplete,
                      static_cast<std::uint32_t>(round == 0 ? p : n));
    EXPECT_EQ(s.scrape(hash_of('x')).complete, n / 3u);
    // Stop all but 40 (swap-removes reorder the list), then re-announce the rest as seeds.
    for (std::uint16_t p = 41; p <= n; ++p) s.announce(ann('x', v4(1, p), 0, Event::stopped), t);
    EXPECT_EQ(s.totals().seeders + s.totals().leechers, 40u);
    for (std::uint16_t p = 1; p <= 40; ++p) s.announce(ann('x', v4(1, p), 0), t);
    SwarmCounts c = s.scrape(hash_of('x'));
    EXPECT_EQ(c.complete, 40u);
    EXPECT_EQ(c.incomplete, 0u);
    StoreAnnounce a = ann('x', v4(1, 7), 0, Event::none, 100);
    StoreReply r = s.announce(a, t);
    ASSERT_EQ(r.peers.size(), 39u);
    std::set<std::uint16_t> ports;
    for (const auto& p : r.peers) {
        ports.insert(p.endpoint.port);
        EXPECT_EQ(p.peer_id, id_of(static_cast<char>('A' + p.endpoint.port % 26)));
    }
    EXPECT_EQ(ports.size(), 39u);
    EXPECT_EQ(*ports.rbegin(), 40u);
    a.peer_ids = false;
    for (const auto& p : s.announce(a, t).peers) EXPECT_EQ(p.peer_id, wire::PeerId{});
}

TEST(SwarmStore, FamiliesAndCaps) {
    StoreLimits lim;
    lim.max_torrents = 2;
    lim.max_peers_per_torrent = 3;
    SwarmStore s(lim, 60s, 1);
    const auto t = Clock::now();
    std::array<std::uint8_t, 16> six{};
    six[15] = 1;
    s.announce(ann('x', PeerEndpoint::v6_of(six, 9), 1), t);
    StoreAnnounce a = ann('x', v4(1, 1), 1);
    a.both_families = false;
    EXPECT_TRUE(s.announce(a, t).peers.empty());
    a.both_families = true;
    ASSERT_EQ(s.announce(a, t).peers.size(), 1u);
    s.announce(ann('x', v4(1, 2), 1), t);
    s.announce(ann('x', v4(1, 3), 1), t);  // fourth peer: answered, not stored
    EXPECT_EQ(s.scrape(hash_of('x')).incomplete, 3u);
    EXPECT_EQ(s.announce(ann('y', v4(1, 1), 1), t).failure, "");
    EXPECT_EQ(s.announce(ann('z', v4(1, 1), 1), t).failure, "tracker is full: too many torrents");
    EXPECT_EQ(s.totals().torrents, 2u);
}

TEST(ConnectionIds, WindowsAddressesKeys) {
    ConnectionIds ids;
    const Clock::time_point t0{std::chrono::minutes(1000)};
    const std::uint64_t id = ids.issue(v4(1, 1000), t0 + 5s);
    EXPECT_TRUE(ids.valid(v4(1, 1000), id, t0 + 5s));
    EXPECT_TRUE(ids.valid(v4(1, 1000), id, t0 + 119s));   // next window: still good
    EXPECT_FALSE(ids.valid(v4(1, 1000), id, t0 + 120s));  // two windows later: expired
    EXPECT_FALSE(ids.valid(v4(1, 1001), id, t0 + 5s));    // other port
    EXPECT_FALSE(ids.valid(v4(2, 1000), id, t0 + 5s));    // other address
    EXPECT_FALSE(ids.valid(v4(1, 1000), id ^ 1, t0 + 5s));
    ConnectionIds other;
    EXPECT_FALSE(other.valid(v4(1, 1000), id, t0 + 5s));  // keys differ per process
    // IPv6 clients: the family and all 16 bytes are covered.
    PeerEndpoint six = v4(1, 1000);
    six.v6 = true;
    EXPECT_FALSE(ids.valid(six, id, t0 + 5s));
    const std::uint64_t id6 = ids.issue(six, t0 + 5s);
    EXPECT_TRUE(ids.valid(six, id6, t0 + 61s));
    six.addr[15] = 1;
    EXPECT_FALSE(ids.valid(six, id6, t0 + 5s));
    // A fixed key gives fixed ids (same key, same window, same client).
    std::array<std::uint8_t, 16> key{};
    key[0] = 7;
    EXPECT_EQ(ConnectionIds(key).issue(v4(1, 1000), t0), ConnectionIds(key).issue(v4(1, 1000), t0 + 59s));
    EXPECT_NE(ConnectionIds(key).issue(v4(1, 1000), t0), ConnectionIds(key).issue(v4(1, 1000), t0 + 60s));
}

// ---- Server, in process ----

struct HttpResult {
    int status = 0;
    std::string body;
    std::string error;
};

HttpResult http_get(const std::string& host, std::uint16_t port, const std::string& target) {
    asio::io_context io;
    HttpResult out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tcp::socket s(io);
            co_await s.async_connect({asio::ip::make_address(host), port}, asio::use_awaitable);
            http::request<http::empty_body> req{http::verb::get, target, 11};
            req.set(http::field::host, host);
            co_await http::async_write(s, req, asio::use_awaitable);
            boost::beast::flat_buffer b;
            http::response<http::string_body> res;
            co_await http::async_read(s, b, res, asio::use_awaitable);
            out.status = res.result_int();
            out.body = res.body();
        },
        [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                out.error = x.what();
            }
        });
    io.run_for(5s);
    if (out.status == 0 && out.error.empty()) out.error = "timeout";
    return out;
}

// Sends raw bytes, returns everything read until the server closes (bounded by 5 s).
std::string raw_exchange(std::uint16_t port, const std::string& request) {
    asio::io_context io;
    std::string got;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
            char buf[4096];
            for (;;) {
                std::size_t n = co_await s.async_read_some(asio::buffer(buf), asio::use_awaitable);
                got.append(buf, n);
            }
        },
        [](std::exception_ptr) {});
    io.run_for(5s);
    return got;
}

std::string announce_target(char hash, char id, std::uint16_t port, const std::string& extra = "") {
    return "/announce?info_hash=" + url_encode(hash_of(hash).view()) +
           "&peer_id=" + std::string(20, id) + "&port=" + std::to_string(port) + extra;
}

class UdpClient {
  public:
    explicit UdpClient(const std::string& host = "127.0.0.1")
        : sock_(io_, udp::endpoint(asio::ip::make_address(host), 0)) {}
    std::optional<std::string> exchange(std::uint16_t port, const std::string& pkt,
                                        std::chrono::milliseconds wait = 2000ms) {
        const auto to = udp::endpoint(sock_.local_endpoint().address(), port);
        sock_.send_to(asio::buffer(pkt), to);
        std::optional<std::string> out;
        char buf[8192];
        sock_.async_receive(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
            if (!ec) out = std::string(buf, n);
        });
        io_.restart();
        io_.run_for(wait);
        if (!out) {
            sock_.cancel();
            io_.restart();
            io_.run_for(1s);
        }
        return out;
    }
    std::uint64_t connect(std::uint16_t port) {
        auto r = exchange(port, udp_connect(1));
        if (!r || r->size() < 16) return 0;
        std::uint64_t id = 0;
        for (int i = 8; i < 16; ++i) id = id << 8 | static_cast<unsigned char>((*r)[i]);
        return id;
    }

  private:
    asio::io_context io_;
    udp::socket sock_;
};

std::uint32_t get32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = at; i < at + 4; ++i) v = v << 8 | static_cast<unsigned char>(s[i]);
    return v;
}

class TrackerServerTest : public ::testing::Test {
  protected:
    // `second`: another address served on the same ports (the other family).
    void start(const std::string& host = "127.0.0.1", std::chrono::seconds interval = 1800s,
               std::string allow = "", const std::string& second = "") {
        host_ = host;
        TrackerOptions o;
        o.http = {tcp::endpoint(asio::ip::make_address(host), 0)};
        o.udp = {udp::endpoint(asio::ip::make_address(host), 0)};
        if (!second.empty()) {
            o.http.emplace_back(asio::ip::make_address(second), 0);
            o.udp.emplace_back(asio::ip::make_address(second), 0);
        }
        o.interval = interval;
        o.allow_list_path = std::move(allow);
        server_ = std::make_unique<TrackerServer>(io_, o);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        if (server_) asio::post(io_, [this] { server_->stop(); });
        io_.stop();
        if (thread_.joinable()) thread_.join();
    }
    HttpResult get(const std::string& target) {
        return http_get(host_, server_->http_port(), target);
    }
    bencode::Document decode(const HttpResult& r) {
        EXPECT_EQ(r.status, 200) << r.error << r.body;
        body_ = r.body;
        return bencode::decode(body_);
    }
    template <class F>
    auto on_server(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io_, std::move(task));
        EXPECT_EQ(fut.wait_for(5s), std::future_status::ready);
        return fut.get();
    }

    asio::io_context io_;
    std::unique_ptr<TrackerServer> server_;
    std::thread thread_;
    std::string host_;
    std::string body_;
};

TEST_F(TrackerServerTest, HttpAnnounceCompactAndDictionary) {
    start();
    auto first = decode(get(announce_target('t', 'a', 7001, "&left=0&event=started")));
    EXPECT_EQ(first.root().find_int("interval"), 1800);
    EXPECT_EQ(first.root().find_int("min interval"), 900);
    EXPECT_EQ(first.root().find_int("complete"), 1);
    EXPECT_EQ(first.root().find_string("peers"), "");
    EXPECT_EQ(first.root().find_string("external ip"), std::string("\x7f\0\0\x01", 4));
    auto second = decode(get(announce_target('t', 'b', 7002, "&left=10")));
    EXPECT_EQ(second.root().find_int("incomplete"), 1);
    EXPECT_EQ(second.root().find_string("peers"), std::string("\x7f\0\0\x01\x1b\x59", 6));
    auto dict = decode(get(announce_target('t', 'b', 7002, "&left=10&compact=0")));
    auto peers = dict.root().find("peers");
    ASSERT_TRUE(peers.is_list());
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers.at(0).find_string("ip"), "127.0.0.1");
    EXPECT_EQ(peers.at(0).find_int("port"), 7001);
    EXPECT_EQ(peers.at(0).find_string("peer id"), std::string(20, 'a'));
    auto noid = decode(get(announce_target('t', 'b', 7002, "&compact=0&no_peer_id=1")));
    EXPECT_FALSE(noid.root().find("peers").at(0).find("peer id"));
    // The client side of this project reads the reply the same way.
    AnnounceResponse parsed = parse_announce_response(get(announce_target('t', 'c', 7003)).body);
    EXPECT_EQ(parsed.failure_reason, "");
    EXPECT_EQ(parsed.peers.size(), 2u);
}

TEST_F(TrackerServerTest, HttpStoppedCompletedScrapeStats) {
    start();
    decode(get(announce_target('s', 'a', 7001, "&left=5&event=started")));
    decode(get(announce_target('s', 'b', 7002, "&left=5")));
    decode(get(announce_target('s', 'a', 7001, "&left=0&event=completed")));
    decode(get(announce_target('s', 'b', 7002, "&left=5&event=stopped")));
    auto r = decode(get(announce_target('s', 'c', 7003, "&left=5")));
    EXPECT_EQ(r.root().find_string("peers"), std::string("\x7f\0\0\x01\x1b\x59", 6));
    auto sc = decode(get("/scrape?info_hash=" + url_encode(hash_of('s').view()) +
                         "&info_hash=" + url_encode(hash_of('u').view())));
    auto files = sc.root().find("files");
    auto s = files.find(hash_of('s').view());
    EXPECT_EQ(s.find_int("complete"), 1);
    EXPECT_EQ(s.find_int("incomplete"), 1);
    EXPECT_EQ(s.find_int("downloaded"), 1);
    EXPECT_EQ(files.find(hash_of('u').view()).find_int("complete"), 0);
    auto all = decode(get("/scrape"));
    EXPECT_EQ(all.root().find("files").size(), 1u);
    HttpResult st = get("/stats");
    EXPECT_EQ(st.status, 200);
    EXPECT_NE(st.body.find("torrents: 1\n"), std::string::npos) << st.body;
    EXPECT_NE(st.body.find("peers: 2 (seeders 1, leechers 1)"), std::string::npos) << st.body;
    EXPECT_NE(st.body.find("announces/s"), std::string::npos);
    EXPECT_NE(st.body.find("uptime: "), std::string::npos);
}

TEST_F(TrackerServerTest, HttpMalformedRequests) {
    start();
    auto missing = decode(get("/announce?peer_id=" + std::string(20, 'x') + "&port=1"));
    EXPECT_EQ(missing.root().find_string("failure reason"), "missing info_hash");
    auto badport = decode(get(announce_target('m', 'a', 1) + "0000000"));
    EXPECT_EQ(badport.root().find_string("failure reason"), "port must be 1..65535");
    EXPECT_EQ(get("/nothing").status, 404);
    std::string post =
        raw_exchange(server_->http_port(),
                     "POST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(post.rfind("HTTP/1.1 400", 0), 0u) << post;
    std::string huge = raw_exchange(
        server_->http_port(), "GET /stats HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(huge.rfind("HTTP/1.1 400", 0), 0u) << huge.substr(0, 100);
    std::string junk = raw_exchange(server_->http_port(), "\x01\x02 garbage\r\n\r\n");
    EXPECT_EQ(junk.rfind("HTTP/1.1 400", 0), 0u);
    // Keep-alive: two requests on one connection, both answered.
    std::string two = raw_exchange(server_->http_port(),
                                   "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"
                                   "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(two.find("HTTP/1.1 200", 10), std::string::npos);
    EXPECT_EQ(get("/stats").status, 200);  // still serving
}

// The one-request connection (answered from the first read, then closed), a request cut
// in two writes (the first read holds half of it), HTTP/1.0, and a keep-alive request
// whose connection stays open for the next one.
TEST_F(TrackerServerTest, HttpFirstReadAndSplitRequests) {
    start();
    const std::uint16_t port = server_->http_port();
    std::string closing =
        raw_exchange(port, "GET " + announce_target('f', 'a', 7001, "&left=3") +
                               " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(closing.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << closing;
    EXPECT_NE(closing.find("\r\nConnection: close\r\n"), std::string::npos) << closing;
    const auto head_end = closing.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const auto cl = closing.find("Content-Length: ");
    ASSERT_NE(cl, std::string::npos);
    EXPECT_EQ(closing.size() - head_end - 4, std::stoul(closing.substr(cl + 16)));
    EXPECT_EQ(bencode::decode(closing.substr(head_end + 4)).root().find_int("incomplete"), 1);

    std::string old = raw_exchange(port, "GET /stats HTTP/1.0\r\n\r\n");
    EXPECT_EQ(old.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << old;
    EXPECT_NE(old.find("torrents: 1\n"), std::string::npos);

    // Split: the server must wait for the rest rather than answer or drop the half.
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string req = "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(req.substr(0, 12)));
    std::this_thread::sleep_for(200ms);
    asio::write(s, asio::buffer(req.substr(12)));
    std::string got;
    char buf[4096];
    boost::system::error_code ec;
    while (!ec && got.size() < 100'000) got.append(buf, s.read_some(asio::buffer(buf), ec));
    EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
    EXPECT_NE(got.find("torrents: 1\n"), std::string::npos) << got;

    // Keep-alive: the answered connection stays usable.
    tcp::socket k(io);
    k.connect({asio::ip::make_address("127.0.0.1"), port});
    for (int i = 0; i < 2; ++i) {
        asio::write(k, asio::buffer(std::string("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")));
        std::string reply;
        while (reply.find("uptime: ") == std::string::npos || reply.back() != '\n') {
            const std::size_t n = k.read_some(asio::buffer(buf), ec);
            ASSERT_FALSE(ec) << "request " << i << ": " << ec.message();
            reply.append(buf, n);
        }
        EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
        EXPECT_EQ(reply.find("Connection: close"), std::string::npos) << reply;
    }
}

TEST_F(TrackerServerTest, HttpNumwantCap) {
    start();
    for (std::uint16_t p = 1; p <= 210; ++p)
        ASSERT_EQ(get(announce_target('n', 'a', p)).status, 200);
    auto r = decode(get(announce_target('n', 'z', 9999, "&numwant=1000")));
    EXPECT_EQ(r.root().find_string("peers")->size(), 200u * 6);
    auto few = decode(get(announce_target('n', 'z', 9999, "&numwant=3")));
    EXPECT_EQ(few.root().find_string("peers")->size(), 3u * 6);
}

TEST_F(TrackerServerTest, HttpExpiryWithTinyInterval) {
    start("127.0.0.1", 1s);
    decode(get(announce_target('e', 'a', 7001, "&left=5")));
    const auto t0 = std::chrono::steady_clock::now();
    const std::string target = "/scrape?info_hash=" + url_encode(hash_of('e').view());
    EXPECT_EQ(
        decode(get(target)).root().find("files").find(hash_of('e').view()).find_int("incomplete"),
        1);
    bool gone = false;
    while (!gone && std::chrono::steady_clock::now() - t0 < 6s) {
        std::this_thread::sleep_for(200ms);
        gone = decode(get(target))
                   .root()
                   .find("files")
                   .find(hash_of('e').view())
                   .find_int("incomplete") == 0;
    }
    EXPECT_TRUE(gone);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900ms);  // not before 2 intervals
}

TEST_F(TrackerServerTest, Ipv6PeersSix) {
    start("::1");
    decode(get(announce_target('6', 'a', 7001)));
    auto r = decode(get(announce_target('6', 'b', 7002)));
    std::string six(16, '\0');
    six[15] = 1;
    EXPECT_EQ(r.root().find_string("peers"), "");
    EXPECT_EQ(r.root().find_string("peers6"), six + "\x1b\x59");
    EXPECT_EQ(r.root().find_string("external ip"), six);
    auto d = decode(get(announce_target('6', 'b', 7002, "&compact=0")));
    EXPECT_EQ(d.root().find("peers").at(0).find_string("ip"), "::1");
    // UDP over IPv6: 18-byte entries.
    UdpClient c("::1");
    const std::uint64_t cid = c.connect(server_->udp_port());
    auto reply = c.exchange(server_->udp_port(), udp_announce(cid, 9, '6', 'c', 7003));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->size(), 20u + 2 * 18);
}

// An IPv4 and an IPv6 address per protocol, on one port each, over one swarm store: a
// peer that announced over IPv4 is given to one announcing over IPv6 and back.
TEST_F(TrackerServerTest, BothFamiliesShareOneStoreAndPort) {
    start("127.0.0.1", 1800s, "", "::1");
    decode(get(announce_target('d', 'a', 7001)));
    auto r = decode(http_get("::1", server_->http_port(), announce_target('d', 'b', 7002)));
    EXPECT_EQ(r.root().find_string("peers"), std::string("\x7f\0\0\x01\x1b\x59", 6));
    std::string six(16, '\0');
    six[15] = 1;
    auto back = decode(get(announce_target('d', 'a', 7001)));
    EXPECT_EQ(back.root().find_string("peers6"), six + "\x1b\x5a");
    EXPECT_EQ(back.root().find_int("complete"), 2);  // no "left": counted as seeders
    // UDP on ::1 at the same port; a BEP 15 reply carries the requester's family only.
    UdpClient c("::1");
    const std::uint64_t cid = c.connect(server_->udp_port());
    auto reply = c.exchange(server_->udp_port(), udp_announce(cid, 9, 'd', 'c', 7003));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->size(), 20u + 18);
}

TEST_F(TrackerServerTest, AllowListAndReload) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("pw-allow-" + std::to_string(::getpid()) + ".txt");
    std::ofstream(path) << "# allowed\n" << hash_of('a').hex() << "  # the first\n\n";
    start("127.0.0.1", 1800s, path.string());
    EXPECT_EQ(decode(get(announce_target('a', 'p', 1))).root().find_string("failure reason"),
              std::nullopt);
    EXPECT_EQ(decode(get(announce_target('b', 'p', 1))).root().find_string("failure reason"),
              "torrent not allowed");
    UdpClient c;
    const std::uint64_t cid = c.connect(server_->udp_port());
    auto err = c.exchange(server_->udp_port(), udp_announce(cid, 77, 'b', 'p', 1));
    ASSERT_TRUE(err);
    EXPECT_EQ(get32(*err, 0), 3u);
    EXPECT_EQ(get32(*err, 4), 77u);
    EXPECT_EQ(err->substr(8), "torrent not allowed");

    std::ofstream(path) << hash_of('a').hex() << "\n" << hash_of('b').hex() << "\n";
    EXPECT_EQ(on_server([&] { return server_->reload_allow_list(); }), "");
    EXPECT_EQ(decode(get(announce_target('b', 'p', 1))).root().find_string("failure reason"),
              std::nullopt);
    std::ofstream(path) << "not a hash\n";
    EXPECT_NE(on_server([&] { return server_->reload_allow_list(); }).find(":1:"),
              std::string::npos);
    EXPECT_EQ(decode(get(announce_target('b', 'p', 1))).root().find_string("failure reason"),
              std::nullopt);  // the old list stays
    std::filesystem::remove(path);
}

TEST_F(TrackerServerTest, UdpConnectAnnounceScrape) {
    start();
    const std::uint16_t port = server_->udp_port();
    UdpClient a, b;
    auto conn = a.exchange(port, udp_connect(0xdeadbeef));
    ASSERT_TRUE(conn);
    ASSERT_EQ(conn->size(), 16u);
    EXPECT_EQ(get32(*conn, 0), 0u);
    EXPECT_EQ(get32(*conn, 4), 0xdeadbeefu);
    const std::uint64_t ida = a.connect(port), idb = b.connect(port);
    auto ra = a.exchange(port, udp_announce(ida, 11, 'u', 'a', 7001, 0));
    ASSERT_TRUE(ra);
    EXPECT_EQ(get32(*ra, 0), 1u);
    EXPECT_EQ(get32(*ra, 4), 11u);
    EXPECT_EQ(get32(*ra, 8), 1800u);
    EXPECT_EQ(ra->size(), 20u);
    auto rb = b.exchange(port, udp_announce(idb, 12, 'u', 'b', 7002, 10));
    ASSERT_TRUE(rb);
    EXPECT_EQ(get32(*rb, 4), 12u);
    EXPECT_EQ(get32(*rb, 12), 1u);  // leechers
    EXPECT_EQ(get32(*rb, 16), 1u);  // seeders
    EXPECT_EQ(rb->substr(20), std::string("\x7f\0\0\x01\x1b\x59", 6));
    auto sc = a.exchange(
        port,
        udp_scrape(ida, 13, std::string(hash_of('u').view()) + std::string(hash_of('v').view())));
    ASSERT_TRUE(sc);
    ASSERT_EQ(sc->size(), 8u + 24);
    EXPECT_EQ(get32(*sc, 0), 2u);
    EXPECT_EQ(get32(*sc, 4), 13u);
    EXPECT_EQ(get32(*sc, 8), 1u);   // seeders
    EXPECT_EQ(get32(*sc, 12), 0u);  // completed
    EXPECT_EQ(get32(*sc, 16), 1u);  // leechers
    EXPECT_EQ(get32(*sc, 20), 0u);
    // HTTP sees the peers UDP stored.
    EXPECT_EQ(decode(get(announce_target('u', 'c', 7003))).root().find_string("peers")->size(),
              12u);
}

// More datagrams at once than one receive batch holds: every one is answered.
TEST_F(TrackerServerTest, UdpBurstsBeyondOneBatch) {
    start();
    const std::uint16_t port = server_->udp_port();
    asio::io_context io;
    udp::socket sock(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    sock.set_option(asio::socket_base::receive_buffer_size(1 << 20));
    const udp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
    constexpr std::uint32_t burst = 3 * UdpServer::batch + 5;
    for (std::uint32_t t = 1; t <= burst; ++t) sock.send_to(asio::buffer(udp_connect(t)), to);
    std::set<std::uint32_t> answered;
    char buf[256];
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (answered.size() < burst && std::chrono::steady_clock::now() < deadline) {
        boost::system::error_code ec;
        sock.non_blocking(true);
        const std::size_t n = sock.receive(asio::buffer(buf), 0, ec);
        if (ec == asio::error::would_block) {
            std::this_thread::sleep_for(5ms);
            continue;
        }
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_EQ(n, 16u);
        answered.insert(get32(std::string(buf, n), 4));
    }
    EXPECT_EQ(answered.size(), burst);
    EXPECT_EQ(*answered.begin(), 1u);
    EXPECT_EQ(*answered.rbegin(), burst);
}

TEST_F(TrackerServerTest, UdpForgedIdsAndGarbageDropped) {
    start();
    const std::uint16_t port = server_->udp_port();
    UdpClient a, b;
    const std::uint64_t ida = a.connect(port);
    EXPECT_FALSE(a.exchange(port, udp_announce(ida ^ 0x100, 1, 'g', 'a', 1), 300ms));
    EXPECT_FALSE(b.exchange(port, udp_announce(ida, 1, 'g', 'b', 1), 300ms));  // a's id
    EXPECT_FALSE(a.exchange(port, udp_scrape(12345, 1, std::string(20, 'g')), 300ms));
    EXPECT_FALSE(a.exchange(port, "garbage", 300ms));
    EXPECT_FALSE(a.exchange(port, std::string(16, '\0'), 300ms));  // connect without magic
    EXPECT_FALSE(a.exchange(port, udp_announce(ida, 1, 'g', 'a', 1).substr(0, 60), 300ms));
    EXPECT_TRUE(a.exchange(port, udp_announce(ida, 1, 'g', 'a', 1)));
    HttpResult st = get("/stats");
    EXPECT_NE(st.body.find("udp dropped: 6"), std::string::npos) << st.body;
}

TEST(UdpServerHandle, ExpiredConnectionIdsDropped) {
    asio::io_context io;
    auto state = std::make_shared<TrackerState>(1800s, StoreLimits{}, Clock::now());
    auto server = std::make_shared<UdpServer>(
        io, state, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const PeerEndpoint src = v4(1, 5555);
    const Clock::time_point t0{std::chrono::minutes(5000)};
    std::string c = server->handle(udp_connect(3), src, t0);
    ASSERT_EQ(c.size(), 16u);
    std::uint64_t id = 0;
    for (int i = 8; i < 16; ++i) id = id << 8 | static_cast<unsigned char>(c[i]);
    EXPECT_FALSE(server->handle(udp_announce(id, 4, 'x', 'y', 1), src, t0 + 60s).empty());
    EXPECT_TRUE(server->handle(udp_announce(id, 4, 'x', 'y', 1), src, t0 + 121s).empty());
    EXPECT_TRUE(server->handle(udp_announce(id, 4, 'x', 'y', 1), v4(1, 5556), t0).empty());
}

}  // namespace
