// Hostile trackers against a whole Session: a tracker that answers with an endless body,
// deeply nested bencode, a 10 MiB peer string, a redirect loop, a 1 byte/s drip, a compact
// peer list of the wrong length, or (UDP) replies with wrong transaction ids or sizes.
// Each is bounded (size, depth, time), shows as the tracker's error in TorrentStatus, and
// the download goes on through the other source (a --peer seeder). Everything runs on
// 127.0.0.x; the fake tracker runs on its own thread and every loop in it has a deadline.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <thread>

#include "swarm_util.hpp"

using namespace swarm_test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

enum class Mode {
    endless_chunked,     // 200 OK, chunked, chunks until the client gives up
    endless_unframed,    // 200 OK, no length, body until the client gives up
    deep_nesting,        // 400 KB of nested lists
    huge_peer_string,    // "peers" of 10 MiB, announced by Content-Length
    redirect_loop,       // 302 to itself, forever
    drip,                // a valid reply, one byte per second
    bad_compact_length,  // the seeder's compact address plus one stray byte (no --peer)
    udp_wrong_txid,      // connect replies for another transaction
    udp_short_connect,   // connect replies of 12 bytes
    udp_bad_announce,    // announce replies of 27 bytes (20 + 7)
};

std::string be32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::uint32_t get32(const char* p) {
    auto u = [&](int i) { return std::uint32_t(static_cast<unsigned char>(p[i])); };
    return u(0) << 24 | u(1) << 16 | u(2) << 8 | u(3);
}

class HostileTracker {
  public:
    HostileTracker(Mode mode, std::string seeder_compact)
        : mode_(mode),
          compact_(std::move(seeder_compact)),
          acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
          udp_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io_, accept_loop(), asio::detached);
        asio::co_spawn(io_, udp_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run_for(90s); });
    }
    ~HostileTracker() {
        io_.stop();
        thread_.join();
    }

    std::string url() const {
        bool is_udp = mode_ == Mode::udp_wrong_txid || mode_ == Mode::udp_short_connect ||
                      mode_ == Mode::udp_bad_announce;
        return is_udp ? "udp://127.0.0.1:" + std::to_string(udp_.local_endpoint().port())
                      : "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
                            "/announce";
    }

  private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(io_, serve(std::move(sock)), asio::detached);
        }
    }

    // Writes `piece` again and again (at most `limit` bytes and 30 s) until the client closes.
    static asio::awaitable<void> pour(tcp::socket& sock, const std::string& piece,
                                      std::size_t limit) {
        const auto end = std::chrono::steady_clock::now() + 30s;
        for (std::size_t sent = 0; sent < limit && std::chrono::steady_clock::now() < end;
             sent += piece.size()) {
            auto [ec, n] = co_await asio::async_write(sock, asio::buffer(piece), use_tuple);
            if (ec) co_return;
        }
    }

    asio::awaitable<void> serve(tcp::socket sock) {
        std::string head;
        auto [ec, n] = co_await asio::async_read_until(sock, asio::dynamic_buffer(head, 64 * 1024),
                                                       "\r\n\r\n", use_tuple);
        if (ec) co_return;
        const std::string ok = "HTTP/1.1 200 OK\r\n";
        std::string reply;
        switch (mode_) {
            case Mode::endless_chunked: {
                co_await asio::async_write(
                    sock, asio::buffer(ok + "Transfer-Encoding: chunked\r\n\r\n"), use_tuple);
                co_await pour(sock, "10000\r\n" + std::string(0x10000, 'x') + "\r\n", 64u << 20);
                co_return;
            }
            case Mode::endless_unframed: {
                co_await asio::async_write(
                    sock, asio::buffer(ok + "Connection: close\r\n\r\nd5:peers"), use_tuple);
                co_await pour(sock, std::string(0x10000, '9'), 64u << 20);
                co_return;
            }
            case Mode::deep_nesting: {
                std::string body = std::string(200'000, 'l') + std::string(200'000, 'e');
                reply = ok + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
                break;
            }
            case Mode::huge_peer_string: {
                const std::size_t len = 10u << 20;
                std::string prefix = "d8:intervali900e5:peers" + std::to_string(len) + ":";
                co_await asio::async_write(
                    sock,
                    asio::buffer(ok + "Content-Length: " + std::to_string(prefix.size() + len + 1) +
                                 "\r\n\r\n" + prefix),
                    use_tuple);
                co_await pour(sock, std::string(0x10000, '\x7f'), len);
                co_return;
            }
            case Mode::redirect_loop:
                reply =
                    "HTTP/1.1 302 Found\r\nLocation: /announce?again=1\r\nContent-Length: "
                    "0\r\n\r\n";
                break;
            case Mode::drip: {
                std::string body = "d8:intervali900e5:peers0:e";
                std::string all =
                    ok + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
                for (char c : all) {
                    auto [wec, wn] =
                        co_await asio::async_write(sock, asio::buffer(&c, 1), use_tuple);
                    if (wec) co_return;
                    asio::steady_timer t(io_, 1s);
                    co_await t.async_wait(use_tuple);
                }
                co_return;
            }
            case Mode::bad_compact_length: {
                std::string peers = compact_ + "\x01";
                std::string body =
                    "d8:intervali900e5:peers" + std::to_string(peers.size()) + ":" + peers + "e";
                reply = ok + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
                break;
            }
            default:
                co_return;
        }
        co_await asio::async_write(sock, asio::buffer(reply), use_tuple);
        // Held open until the client closes (keep-alive is the client's call).
        char sink[512];
        co_await sock.async_read_some(asio::buffer(sink), use_tuple);
    }

    asio::awaitable<void> udp_loop() {
        char buf[2048];
        for (;;) {
            udp::endpoint from;
            auto [ec, n] = co_await udp_.async_receive_from(asio::buffer(buf), from, use_tuple);
            if (ec) co_return;
            if (n < 16) continue;
            const std::uint32_t action = get32(buf + 8), txid = get32(buf + 12);
            std::string reply;
            if (action == 0) {  // connect
                if (mode_ == Mode::udp_wrong_txid)
                    reply = be32(0) + be32(txid + 1) + "CONNID!!";
                else if (mode_ == Mode::udp_short_connect)
                    reply = be32(0) + be32(txid) + "CONN";
                else
                    reply = be32(0) + be32(txid) + "CONNID!!";
            } else if (action == 1) {  // announce
                reply = be32(1) + be32(txid) + be32(900) + be32(0) + be32(1) + compact_ + "\x01";
            } else {
                continue;
            }
            co_await udp_.async_send_to(asio::buffer(reply), from, use_tuple);
        }
    }

    Mode mode_;
    std::string compact_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    udp::socket udp_;
    std::thread thread_;
};

struct Case {
    Mode mode;
    const char* name;
    const char* error;  // a part of the tracker error the user sees
};

class HostileTrackerSwarm : public ::testing::TestWithParam<Case> {};

TEST_P(HostileTrackerSwarm, IsBoundedReportedAndTheDownloadGoesOn) {
    const Case c = GetParam();
    auto dir = temp_dir(std::string("hostile-tracker-") + c.name);
    std::string data = random_bytes(1 << 20, 77);
    write_file(dir / "seed" / "payload.bin", data);

    piecewise::Session seed(loopback("127.0.0.2", dir / "seed-resume"));
    const std::uint16_t seed_port = seed.listen_port();
    const std::string compact =
        std::string{127, 0, 0, 2} + char(seed_port >> 8) + char(seed_port & 0xff);
    HostileTracker tracker(c.mode, compact);

    auto torrent =
        make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10, {tracker.url()});
    piecewise::AddTorrentParams sp;
    sp.torrent_file = torrent.string();
    sp.save_path = (dir / "seed").string();
    sp.upload_only = true;
    seed.add_torrent(sp);

    auto ls = loopback("127.0.0.3", dir / "leech-resume");
    ls.tracker_timeout = 2s;
    piecewise::Session leech(ls);
    piecewise::AddTorrentParams lp;
    lp.torrent_file = torrent.string();
    lp.save_path = (dir / "leech").string();
    if (c.mode != Mode::bad_compact_length) lp.peers = {endpoint("127.0.0.2", seed)};
    const auto t0 = std::chrono::steady_clock::now();
    auto id = leech.add_torrent(lp);

    std::string seen;
    auto reported = [&] {
        auto st = leech.status(id);
        if (!st || st->trackers.empty()) return false;
        const auto& t = st->trackers[0];
        seen = c.mode == Mode::bad_compact_length ? t.warning : t.last_error;
        return !seen.empty();
    };
    // The tracker timeout (2 s) bounds every mode; the check interval and the first
    // announce after the check add a little.
    ASSERT_TRUE(wait_for(reported, 10s)) << "no tracker error reported";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
    EXPECT_NE(seen.find(c.error), std::string::npos) << "tracker error: " << seen;
    std::printf("%s: %s\n", c.name, seen.c_str());

    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, 30s)) << "the download did not go on";
    EXPECT_EQ(read_file(dir / "leech" / "payload.bin"), data);
    leech.stop(0ms);
    seed.stop(0ms);
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, HostileTrackerSwarm,
    ::testing::Values(Case{Mode::endless_chunked, "endless_chunked", "body limit"},
                      Case{Mode::endless_unframed, "endless_unframed", "body limit"},
                      Case{Mode::deep_nesting, "deep_nesting", "tracker reply: "},
                      Case{Mode::huge_peer_string, "huge_peer_string", "body limit"},
                      Case{Mode::redirect_loop, "redirect_loop", "too many redirects"},
                      Case{Mode::drip, "drip", "timed out"},
                      Case{Mode::bad_compact_length, "bad_compact_length", "not a multiple of 6"},
                      Case{Mode::udp_wrong_txid, "udp_wrong_txid", "connect: timed out"},
                      Case{Mode::udp_short_connect, "udp_short_connect", "connect"},
                      Case{Mode::udp_bad_announce, "udp_bad_announce",
                           "announce reply of 27 bytes"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
