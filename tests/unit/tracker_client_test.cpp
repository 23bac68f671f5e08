// Tracker clients end to end on loopback, all in one io_context: the UDP client (BEP 15)
// against an in-process fake UDP tracker (lossy, lying, erroring, silent, on IPv6), the
// HTTP scrape (BEP 48) against a tiny HTTP server, and the scheme dispatcher. Every run
// of the io_context is bounded by run_for; retransmission starts at 100 ms here.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracker/client.hpp"
#include "tracker/parse/udp_tracker.hpp"
#include "tracker/udp_announce.hpp"

using namespace pw;
using namespace pw::tracker;
namespace asio = boost::asio;
using udp_ep = asio::ip::udp::endpoint;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

Sha1Digest digest(std::uint8_t fill) {
    Sha1Digest d;
    d.bytes.fill(fill);
    return d;
}

// A UDP tracker in the test's io_context: answers connect, announce and scrape per
// BEP 15, with knobs for misbehaviour. Requests with an unknown connection id are
// dropped silently, as opentracker does.
struct FakeUdpTracker {
    FakeUdpTracker(asio::io_context& ioc, const char* addr)
        : socket(ioc, udp_ep(asio::ip::make_address(addr), 0)),
          liar(ioc, socket.local_endpoint().protocol()) {}

    asio::ip::udp::socket socket;
    asio::ip::udp::socket liar;  // sends forged replies from another port
    std::uint64_t connection_id = 0x1122334455667788ull;
    int drop_first = 0;                  // ignore this many datagrams
    bool silent = false;                 // never answer
    bool wrong_txid_first = false;       // precede each announce reply with one for txid + 1
    bool only_wrong_txid = false;        // answer announces for txid + 1 only
    bool forge_from_other_port = false;  // precede each announce reply with one from `liar`
    std::string error_message;           // answer announce/scrape with action 3
    udp::AnnounceReply reply;
    std::vector<udp::ScrapeEntry> scrape_entries;

    int received = 0, connects = 0, announces = 0, scrapes = 0;
    std::vector<udp_ep> senders;
    std::optional<udp::AnnouncePacket> last_announce;
    std::vector<Sha1Digest> last_scrape;

    std::string url(const std::string& path = "/announce") const {
        auto ep = socket.local_endpoint();
        std::string host =
            ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
        return "udp://" + host + ":" + std::to_string(ep.port()) + path;
    }

    void send(const std::string& pkt, const udp_ep& to) {
        boost::system::error_code ec;
        socket.send_to(asio::buffer(pkt), to, 0, ec);
    }

    void handle(std::string_view pkt, const udp_ep& from) {
        ++received;
        senders.push_back(from);
        if (received <= drop_first || silent) return;
        auto h = udp::decode_request_header(pkt);
        if (!h) return;
        if (h->action == udp::Action::connect) {
            if (!udp::decode_connect_request(pkt)) return;
            ++connects;
            send(udp::encode_connect_reply(h->transaction_id, connection_id), from);
            return;
        }
        if (h->connection_id != connection_id) return;
        if (h->action == udp::Action::announce) {
            last_announce = udp::decode_announce_request(pkt);
            if (!last_announce) return;
            ++announces;
            if (!error_message.empty()) {
                send(udp::encode_error_reply(h->transaction_id, error_message), from);
                return;
            }
            const bool v6 = from.address().is_v6();
            if (wrong_txid_first || only_wrong_txid) {
                udp::AnnounceReply bogus = reply;
                bogus.peers = {{v6 ? "::9" : "9.9.9.9", 9}};
                send(udp::encode_announce_reply(h->transaction_id + 1, bogus, v6), from);
                if (only_wrong_txid) return;
            }
            if (forge_from_other_port) {
                udp::AnnounceReply bogus = reply;
                bogus.peers = {{v6 ? "::8" : "8.8.8.8", 8}};
                boost::system::error_code ec;
                liar.send_to(asio::buffer(udp::encode_announce_reply(h->transaction_id, bogus, v6)),
                             from, 0, ec);
            }
            send(udp::encode_announce_reply(h->transaction_id, reply, v6), from);
        } else if (h->action == udp::Action::scrape) {
            auto hashes = udp::decode_scrape_request(pkt);
            if (!hashes) return;
            ++scrapes;
            last_scrape = *hashes;
            if (!error_message.empty()) {
                send(udp::encode_error_reply(h->transaction_id, error_message), from);
                return;
            }
            std::vector<udp::ScrapeEntry> entries(hashes->size());
            for (std::size_t i = 0; i < entries.size() && i < scrape_entries.size(); ++i)
                entries[i] = scrape_entries[i];
            send(udp::encode_scrape_reply(h->transaction_id, entries), from);
        }
    }
};

asio::awaitable<void> serve_udp(std::shared_ptr<FakeUdpTracker> t) {
    std::string buf(65536, '\0');
    for (;;) {
        udp_ep from;
        auto [ec, n] = co_await t->socket.async_receive_from(asio::buffer(buf), from, use_tuple);
        if (ec) co_return;
        t->handle(std::string_view(buf.data(), n), from);
    }
}

// A one-shot-per-connection HTTP server: answers each request with respond(head).
struct FakeHttp {
    explicit FakeHttp(asio::io_context& ioc)
        : acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {}
    asio::ip::tcp::acceptor acceptor;
    std::function<std::string(const std::string&)> respond;
    std::vector<std::string> heads;
    std::string base() const {
        return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    }
};

std::string http_reply(std::string_view status, std::string_view body) {
    return "HTTP/1.1 " + std::string(status) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           std::string(body);
}

asio::awaitable<void> serve_http(std::shared_ptr<FakeHttp> s) {
    for (;;) {
        auto [ec, sock] = co_await s->acceptor.async_accept(use_tuple);
        if (ec) co_return;
        std::string head;
        auto [rec, n] = co_await asio::async_read_until(sock, asio::dynamic_buffer(head, 64 * 1024),
                                                        "\r\n\r\n", use_tuple);
        if (rec) continue;
        head.resize(n);
        s->heads.push_back(head);
        co_await asio::async_write(sock, asio::buffer(s->respond(head)), use_tuple);
        boost::system::error_code ignored;
        sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    }
}

class TrackerClient : public ::testing::Test {
  protected:
    void SetUp() override {
        clear_udp_connection_cache();
        saved_base = udp_retransmit_base();
        set_udp_retransmit_base(100ms);
    }
    void TearDown() override {
        set_udp_retransmit_base(saved_base);
        clear_udp_connection_cache();
    }

    std::shared_ptr<FakeUdpTracker> start_udp(const char* addr = "127.0.0.1") {
        auto t = std::make_shared<FakeUdpTracker>(ioc, addr);
        t->reply.interval = 900;
        t->reply.seeders = 4;
        t->reply.leechers = 6;
        asio::co_spawn(ioc, serve_udp(t), asio::detached);
        return t;
    }

    std::shared_ptr<FakeHttp> start_http(std::function<std::string(const std::string&)> f) {
        auto s = std::make_shared<FakeHttp>(ioc);
        s->respond = std::move(f);
        asio::co_spawn(ioc, serve_http(s), asio::detached);
        return s;
    }

    AnnounceRequest request(std::string url) const {
        AnnounceRequest r;
        r.url = std::move(url);
        r.info_hash = digest(0xaa);
        r.peer_id.fill('p');
        r.port = 6881;
        r.left = 100;
        r.uploaded = 7;
        r.downloaded = 3;
        r.event = Event::started;
        r.numwant = 30;
        r.key = "0badcafe";
        return r;
    }

    // Runs `op` to completion, bounded well above `timeout`; records the elapsed time.
    template <class T>
    T run(asio::awaitable<T> op, std::chrono::milliseconds timeout) {
        std::optional<T> out;
        bool threw = false;
        const auto start = std::chrono::steady_clock::now();
        asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T r) {
            if (e)
                threw = true;
            else
                out = std::move(r);
            ioc.stop();
        });
        ioc.restart();
        ioc.run_for(timeout + 5s);
        elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_FALSE(threw) << "the client threw";
        EXPECT_TRUE(out) << "the client did not finish";
        if (out) return std::move(*out);
        T none{};
        none.failure_reason = "no result";
        return none;
    }

    AnnounceResponse do_announce(AnnounceRequest req, std::chrono::milliseconds timeout = 3s) {
        return run(announce(std::move(req), timeout), timeout);
    }
    ScrapeResult do_scrape(std::string url, std::string bind = "",
                           std::chrono::milliseconds timeout = 3s) {
        return run(scrape(std::move(url), digest(0xaa), std::move(bind), timeout), timeout);
    }

    asio::io_context ioc;
    std::chrono::milliseconds saved_base{};
    std::chrono::steady_clock::duration elapsed{};
};

}  // namespace

TEST_F(TrackerClient, UdpAnnounce) {
    auto t = start_udp();
    t->reply.peers = {{"127.0.0.2", 6881}, {"127.0.0.3", 51413}};
    AnnounceResponse r = do_announce(request(t->url("/announce?pk=1")));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.interval, 900);
    EXPECT_EQ(r.complete, 4);
    EXPECT_EQ(r.incomplete, 6);
    std::vector<PeerAddress> want{{"127.0.0.2", 6881}, {"127.0.0.3", 51413}};
    EXPECT_EQ(r.peers, want);
    EXPECT_EQ(t->connects, 1);
    ASSERT_TRUE(t->last_announce);
    const udp::AnnouncePacket& p = *t->last_announce;
    EXPECT_EQ(p.info_hash, digest(0xaa));
    EXPECT_EQ(p.peer_id[0], 'p');
    EXPECT_EQ(p.port, 6881);
    EXPECT_EQ(p.left, 100);
    EXPECT_EQ(p.uploaded, 7);
    EXPECT_EQ(p.downloaded, 3);
    EXPECT_EQ(p.event, Event::started);
    EXPECT_EQ(p.num_want, 30);
    EXPECT_EQ(p.key, 0x0badcafeu);
    EXPECT_EQ(p.ip, 0u);
    EXPECT_EQ(p.url_data, "/announce?pk=1");  // BEP 41
}

TEST_F(TrackerClient, UdpConnectionIdIsCachedAndRenewedWhenIgnored) {
    auto t = start_udp();
    ASSERT_TRUE(do_announce(request(t->url())).failure_reason.empty());
    ASSERT_TRUE(do_announce(request(t->url())).failure_reason.empty());
    EXPECT_EQ(t->connects, 1);
    EXPECT_EQ(t->announces, 2);
    // The tracker forgets the id (restart): the cached one is ignored, a new one is fetched.
    t->connection_id = 42;
    AnnounceResponse r = do_announce(request(t->url()));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(t->connects, 2);
    EXPECT_EQ(t->announces, 3);
}

TEST_F(TrackerClient, UdpRetransmitsWithinTimeout) {
    auto t = start_udp();
    t->drop_first = 3;  // connect, and its first two retransmissions
    t->reply.peers = {{"127.0.0.2", 1}};
    AnnounceResponse r = do_announce(request(t->url()), 3s);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(t->received, 5);  // 4 connects, 1 announce
    // Sent at 0, 100, 300 and 700 ms.
    EXPECT_GE(elapsed, 650ms);
    EXPECT_LT(elapsed, 2500ms);
}

TEST_F(TrackerClient, UdpSilentTrackerTimesOutOnTime) {
    auto t = start_udp();
    t->silent = true;
    AnnounceResponse r = do_announce(request(t->url()), 500ms);
    EXPECT_EQ(r.failure_reason, "connect: timed out");
    EXPECT_GE(elapsed, 480ms);
    EXPECT_LT(elapsed, 1500ms);
    EXPECT_EQ(t->received, 3);  // at 0, 100 and 300 ms; the next would be at 700 ms
}

TEST_F(TrackerClient, UdpWrongTransactionIdIsIgnored) {
    auto t = start_udp();
    t->wrong_txid_first = true;
    t->reply.peers = {{"127.0.0.2", 6881}};
    AnnounceResponse r = do_announce(request(t->url()));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    std::vector<PeerAddress> want{{"127.0.0.2", 6881}};
    EXPECT_EQ(r.peers, want);
}

TEST_F(TrackerClient, UdpOnlyWrongTransactionIdsTimeOut) {
    auto t = start_udp();
    t->only_wrong_txid = true;
    AnnounceResponse r = do_announce(request(t->url()), 400ms);
    EXPECT_EQ(r.failure_reason, "announce: timed out");
    EXPECT_TRUE(r.peers.empty());
    EXPECT_GE(t->announces, 2);  // retransmitted, each answered with the wrong id
}

TEST_F(TrackerClient, UdpRepliesFromOtherAddressesAreIgnored) {
    auto t = start_udp();
    t->forge_from_other_port = true;
    t->reply.peers = {{"127.0.0.2", 6881}};
    AnnounceResponse r = do_announce(request(t->url()));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    std::vector<PeerAddress> want{{"127.0.0.2", 6881}};
    EXPECT_EQ(r.peers, want);
}

TEST_F(TrackerClient, UdpErrorAction) {
    auto t = start_udp();
    t->error_message = "torrent not registered";
    AnnounceResponse r = do_announce(request(t->url()));
    EXPECT_EQ(r.failure_reason, "torrent not registered");
    ScrapeResult s = do_scrape(t->url());
    EXPECT_EQ(s.failure_reason, "torrent not registered");
    EXPECT_EQ(s.complete, -1);
}

TEST_F(TrackerClient, UdpBindsToTheRequestedAddress) {
    auto t = start_udp();
    AnnounceRequest req = request(t->url());
    req.bind_ip = "127.0.0.5";
    AnnounceResponse r = do_announce(req);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    ASSERT_FALSE(t->senders.empty());
    for (const auto& s : t->senders) EXPECT_EQ(s.address().to_string(), "127.0.0.5");
    req.bind_ip = "not-an-ip";
    EXPECT_EQ(do_announce(req).failure_reason, "invalid bind address 'not-an-ip'");
    req.bind_ip = "::1";  // the tracker is IPv4 only
    EXPECT_NE(do_announce(req).failure_reason.find("family"), std::string::npos);
}

// BEP 7: one announce from each source; a source of a family the tracker lacks fails
// quietly beside one that worked, and the reply is the working one's. An unspecified
// source keeps the announce to its family.
TEST_F(TrackerClient, AnnounceFromEachSource) {
    auto t = start_udp();
    t->reply.peers = {{"127.0.0.2", 6881}};
    AnnounceRequest req = request(t->url());
    auto run_from = [&](std::vector<std::string> sources) {
        return run(announce_from(req, std::move(sources), 3s), 3s);
    };
    AnnounceResponse r = run_from({"127.0.0.5", "::"});
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    std::vector<PeerAddress> want{{"127.0.0.2", 6881}};
    EXPECT_EQ(r.peers, want);
    EXPECT_EQ(t->announces, 1);
    ASSERT_FALSE(t->senders.empty());
    EXPECT_EQ(t->senders.back().address().to_string(), "127.0.0.5");

    r = run_from({"0.0.0.0", "127.0.0.6"});  // both reach it; the peers once
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers, want);
    EXPECT_EQ(t->announces, 3);
    EXPECT_EQ(t->senders.back().address().to_string(), "127.0.0.6");

    r = run_from({"::", "::1"});  // the tracker has no IPv6 address: both fail
    EXPECT_NE(r.failure_reason.find("from ::: "), std::string::npos) << r.failure_reason;
    EXPECT_NE(r.failure_reason.find("; from ::1: "), std::string::npos) << r.failure_reason;
    EXPECT_TRUE(r.peers.empty());
    EXPECT_EQ(t->announces, 3);
}

TEST_F(TrackerClient, UdpIpv6TrackerGivesIpv6Peers) {
    std::shared_ptr<FakeUdpTracker> t;
    try {
        t = start_udp("::1");
    } catch (const boost::system::system_error&) {
        GTEST_SKIP() << "no IPv6 loopback";
    }
    t->reply.peers = {{"::1", 6881}, {"2001:db8::5", 7000}};
    AnnounceResponse r = do_announce(request(t->url()));
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    std::vector<PeerAddress> want{{"::1", 6881}, {"2001:db8::5", 7000}};
    EXPECT_EQ(r.peers, want);
}

TEST_F(TrackerClient, UdpScrape) {
    auto t = start_udp();
    t->scrape_entries = {{12, 340, 5}};
    ScrapeResult s = do_scrape(t->url());
    ASSERT_TRUE(s.failure_reason.empty()) << s.failure_reason;
    EXPECT_EQ(s.complete, 12);
    EXPECT_EQ(s.downloaded, 340);
    EXPECT_EQ(s.incomplete, 5);
    ASSERT_EQ(t->last_scrape.size(), 1u);
    EXPECT_EQ(t->last_scrape[0], digest(0xaa));
}

TEST_F(TrackerClient, UdpScrapeOfManyHashesIsSplit) {
    auto t = start_udp();
    std::vector<Sha1Digest> hashes;
    for (int i = 0; i < 100; ++i) hashes.push_back(digest(static_cast<std::uint8_t>(i)));
    ScrapeReply r = run(scrape_udp(t->url(), hashes, "", 3s), 3s);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.files.size(), 100u);
    EXPECT_EQ(t->scrapes, 2);
    EXPECT_EQ(t->last_scrape.size(), 26u);
}

TEST_F(TrackerClient, UdpBadUrls) {
    EXPECT_EQ(do_announce(request("udp://127.0.0.1/announce")).failure_reason,
              "udp tracker URL has no port");
    EXPECT_EQ(do_announce(request("udp://127.0.0.1:70000/announce")).failure_reason,
              "tracker URL has an invalid port");
    EXPECT_EQ(do_announce(request("udp://:80/announce")).failure_reason, "tracker URL has no host");
}

TEST_F(TrackerClient, HttpScrape) {
    auto s = start_http([](const std::string&) {
        std::string body = "d5:filesd20:" + std::string(20, '\xaa') +
                           "d8:completei3e10:downloadedi50e10:incompletei2eeee";
        return http_reply("200 OK", body);
    });
    ScrapeResult r = do_scrape(s->base() + "/x/announce?pk=7", "127.0.0.6");
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.complete, 3);
    EXPECT_EQ(r.incomplete, 2);
    EXPECT_EQ(r.downloaded, 50);
    ASSERT_EQ(s->heads.size(), 1u);
    std::string encoded;
    for (int i = 0; i < 20; ++i) encoded += "%AA";
    EXPECT_EQ(s->heads[0].rfind("GET /x/scrape?pk=7&info_hash=" + encoded + " HTTP/1.1", 0), 0u)
        << s->heads[0];
}

TEST_F(TrackerClient, HttpScrapeFailures) {
    std::string body;
    auto s = start_http([&](const std::string&) { return http_reply("200 OK", body); });
    body = "d14:failure reason9:forbiddene";
    EXPECT_EQ(do_scrape(s->base() + "/announce").failure_reason, "forbidden");
    body = "d5:filesdee";
    EXPECT_EQ(do_scrape(s->base() + "/announce").failure_reason,
              "scrape reply does not list this torrent");
    body = "garbage";
    EXPECT_NE(do_scrape(s->base() + "/announce").failure_reason.find("scrape reply:"),
              std::string::npos);
    EXPECT_NE(do_scrape(s->base() + "/tracker").failure_reason.find("does not support scrape"),
              std::string::npos);
    auto e = start_http([](const std::string&) { return http_reply("404 Not Found", "nope"); });
    EXPECT_EQ(do_scrape(e->base() + "/announce").failure_reason, "HTTP 404 Not Found");
}

TEST_F(TrackerClient, DispatchesByScheme) {
    auto t = start_udp();
    auto h = start_http([](const std::string&) {
        return http_reply("200 OK", std::string("d8:intervali1200e5:peers6:\x7f\x00\x00\x02\x1a\xe1"
                                                "e",
                                                33));
    });
    AnnounceResponse hr = do_announce(request(h->base() + "/announce"));
    ASSERT_TRUE(hr.failure_reason.empty()) << hr.failure_reason;
    EXPECT_EQ(hr.interval, 1200);
    EXPECT_EQ(h->heads.size(), 1u);
    EXPECT_EQ(t->announces, 0);

    std::string upper = t->url();
    upper.replace(0, 3, "UDP");
    AnnounceResponse ur = do_announce(request(upper));
    ASSERT_TRUE(ur.failure_reason.empty()) << ur.failure_reason;
    EXPECT_EQ(t->announces, 1);
    EXPECT_EQ(h->heads.size(), 1u);
}

TEST_F(TrackerClient, RejectsUnknownSchemes) {
    EXPECT_EQ(do_announce(request("ftp://t.example/announce")).failure_reason,
              "unsupported tracker URL scheme 'ftp'");
    EXPECT_EQ(do_announce(request("wss://t.example/announce")).failure_reason,
              "unsupported tracker URL scheme 'wss'");
    EXPECT_EQ(do_announce(request("t.example/announce")).failure_reason,
              "invalid tracker URL: no scheme");
    EXPECT_EQ(do_announce(request("")).failure_reason, "invalid tracker URL: no scheme");
    EXPECT_EQ(do_scrape("magnet:?xt=urn:btih:aa").failure_reason,
              "unsupported tracker URL scheme 'magnet'");
    EXPECT_EQ(url_scheme("HtTp://x"), "http");
    EXPECT_EQ(url_scheme("udp://x"), "udp");
    EXPECT_EQ(url_scheme("1http://x"), "");
    EXPECT_EQ(url_scheme("://x"), "");
}
