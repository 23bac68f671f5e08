// Web seeds (BEP 19) in whole downloads: from a web seed alone (single- and multi-file,
// byte-identical), a corrupt web seed beside an honest peer (the download finishes, the
// web seed is banned; in a piece both sent to, its bad block is found by smart-ban for v1
// and by BEP 52 leaf hashes for a hybrid), and a busy web seed (503 with Retry-After is
// waited out). The HTTP server runs in-process on 127.0.0.1 (http_file_server.hpp).
#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <mutex>

#include "http_file_server.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct WebSeed : ::testing::Test {
    fs::path dir;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override { fs::remove_all(dir); }

    fs::path torrent(const fs::path& content, std::vector<std::string> web_seeds,
                     std::int64_t piece = 32 << 10, pw::meta::Format format = pw::meta::Format::v1) {
        pw::meta::CreateOptions o;
        o.piece_size = piece;
        o.format = format;
        o.creation_date = 0;
        o.web_seeds = std::move(web_seeds);
        write_file(dir / "t.torrent", pw::meta::create_torrent(content, o));
        return dir / "t.torrent";
    }
    AddTorrentParams params(const fs::path& t, const fs::path& save,
                            std::vector<std::string> peers = {}, bool upload_only = false) {
        AddTorrentParams p;
        p.torrent_file = t.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }
};

std::vector<piecewise::Event> drain(Session& s, std::vector<piecewise::Event>& log) {
    for (auto& e : s.pop_events()) log.push_back(e);
    return log;
}

bool has_event(const std::vector<piecewise::Event>& log, piecewise::EventType t,
               const std::string& text) {
    for (auto& e : log)
        if (e.type == t && e.message.find(text) != std::string::npos) return true;
    return false;
}

std::string dump(const std::vector<piecewise::Event>& log) {
    std::string out;
    for (auto& e : log) out += std::to_string(static_cast<int>(e.type)) + " " + e.message + "\n";
    return out;
}

}  // namespace

TEST_F(WebSeed, SingleFileFromWebSeedAlone) {
    std::string data = random_bytes((3 << 20) + 12345, 11);
    write_file(dir / "www" / "payload.bin", data);
    HttpFileServer server(dir / "www");
    auto t = torrent(dir / "www" / "payload.bin", {server.url("/payload.bin")});
    Session s(loopback("127.0.0.2", dir / "r"));
    auto id = s.add_torrent(params(t, dir / "dl"));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, limit)) << dump(drain(s, log));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    // Runs of pieces per request, not a request per piece (BEP 19's advice to servers).
    EXPECT_LT(server.requests(), 40);
}

TEST_F(WebSeed, MultiFileFromWebSeedAlone) {
    // Uneven sizes, a file smaller than a piece, an empty file, names to percent-encode.
    std::vector<std::pair<std::string, std::string>> files = {
        {"set/a b.bin", random_bytes(100000, 1)},
        {"set/sub/c#d.bin", random_bytes(5000, 2)},
        {"set/empty", ""},
        {"set/z.bin", random_bytes(300001, 3)}};
    for (auto& [p, d] : files) write_file(dir / "www" / "pub" / p, d);
    HttpFileServer server(dir / "www");
    auto t = torrent(dir / "www" / "pub" / "set", {server.url("/pub/")}, 16 << 10);
    Session s(loopback("127.0.0.2", dir / "r"));
    auto id = s.add_torrent(params(t, dir / "dl"));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, limit)) << dump(drain(s, log));
    for (auto& [p, d] : files) EXPECT_EQ(read_file(dir / "dl" / p), d) << p;
}

TEST_F(WebSeed, CorruptWebSeedAndHonestPeerFinishes) {
    std::string data = random_bytes(2 << 20, 21);
    write_file(dir / "seed" / "payload.bin", data);
    // The mirror serves the right sizes and ranges with one byte of each reply flipped.
    HttpFileServer server(dir / "seed", [&](auto& s, const HttpFileServer::Request& req) {
        std::string range(req[boost::beast::http::field::range]);
        auto dash = range.find('-');
        auto first = std::stoll(range.substr(6, dash - 6));
        auto last = std::stoll(range.substr(dash + 1));
        std::string body = data.substr(static_cast<std::size_t>(first),
                                       static_cast<std::size_t>(last - first + 1));
        body[body.size() / 2] ^= 0x55;
        return HttpFileServer::reply(s, "206 Partial Content",
                                     "Content-Range: bytes " + std::to_string(first) + "-" +
                                         std::to_string(last) + "/" + std::to_string(data.size()) +
                                         "\r\n",
                                     body, req.keep_alive());
    });
    auto t = torrent(dir / "seed" / "payload.bin", {server.url("/payload.bin")});
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    // A slow honest peer: the web seed's bad blocks arrive first and are used, rather
    // than lost to the peer's endgame duplicates of the blocks the web seed holds.
    auto seeding = params(t, dir / "seed", {}, true);
    seeding.upload_limit = 256 << 10;
    seed.add_torrent(seeding);
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto id = leech.add_torrent(params(t, dir / "dl", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    std::vector<piecewise::Event> log;
    drain(leech, log);
    EXPECT_TRUE(has_event(log, piecewise::EventType::peer_banned, "web seed " + server.url()))
        << dump(log);
    EXPECT_FALSE(has_event(log, piecewise::EventType::peer_banned, "127.0.0.2"));
    auto st = leech.status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->banned_peers, 1);
    int after_ban = server.requests();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(server.requests(), after_ban);  // a banned web seed is never asked again
}

TEST_F(WebSeed, MixedPieceBlamedByBlockHashes) {
    // The mirror sends one and a half blocks of each range, the first block corrupt, and
    // hangs up: the honest peer finishes the piece, which fails with two senders. Its
    // re-download from the peer alone shows whose block was wrong (smart-ban): the web
    // seed is banned and the peer is not, and the download finishes.
    std::string data = random_bytes(2 << 20, 41);
    write_file(dir / "seed" / "payload.bin", data);
    HttpFileServer server(dir / "seed", [&](auto& s, const HttpFileServer::Request& req) {
        std::string range(req[boost::beast::http::field::range]);
        auto dash = range.find('-');
        auto first = std::stoll(range.substr(6, dash - 6));
        auto last = std::stoll(range.substr(dash + 1));
        std::string body = data.substr(static_cast<std::size_t>(first),
                                       static_cast<std::size_t>(last - first + 1));
        std::string head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
                           std::to_string(first) + "-" + std::to_string(last) + "/" +
                           std::to_string(data.size()) +
                           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        body.resize(std::min<std::size_t>(body.size(), 16384 + 8192));
        body[100] ^= 0x01;
        boost::system::error_code ec;
        boost::asio::write(s, boost::asio::buffer(head + body), ec);
        return false;
    });
    auto t = torrent(dir / "seed" / "payload.bin", {server.url("/payload.bin")});
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    // A slow honest peer: the web seed's bad blocks arrive first and are used, rather
    // than lost to the peer's endgame duplicates of the blocks the web seed holds.
    auto seeding = params(t, dir / "seed", {}, true);
    seeding.upload_limit = 256 << 10;
    seed.add_torrent(seeding);
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto id = leech.add_torrent(params(t, dir / "dl", {endpoint("127.0.0.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for(
        [&] {
            drain(leech, log);
            return has_event(log, piecewise::EventType::peer_banned, "web seed");
        },
        std::chrono::seconds(10)));
    EXPECT_TRUE(has_event(log, piecewise::EventType::piece_failed, "2 peer(s)"));
    EXPECT_TRUE(has_event(log, piecewise::EventType::peer_banned, "smart-ban"));
    EXPECT_FALSE(has_event(log, piecewise::EventType::peer_banned, "127.0.0.2"));
}

TEST_F(WebSeed, MixedHybridPieceBlamedByLeafHashes) {
    // As above for a hybrid torrent: each range brings one corrupt block and half of the
    // next, and the honest Piecewise seed finishes the piece. The failed piece is narrowed
    // by the seed's BEP 52 leaf hashes at once: the web seed's block is the bad one, the
    // web seed is banned and never asked again, the peer is kept, only that block is
    // fetched again, and the download finishes (libtorrent 2.0.8 bans both and stalls).
    std::string data = random_bytes(2 << 20, 43);
    write_file(dir / "seed" / "payload.bin", data);
    HttpFileServer server(dir / "seed", [&](auto& s, const HttpFileServer::Request& req) {
        std::string range(req[boost::beast::http::field::range]);
        auto dash = range.find('-');
        auto first = std::stoll(range.substr(6, dash - 6));
        auto last = std::stoll(range.substr(dash + 1));
        std::string body = data.substr(static_cast<std::size_t>(first),
                                       static_cast<std::size_t>(last - first + 1));
        std::string head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
                           std::to_string(first) + "-" + std::to_string(last) + "/" +
                           std::to_string(data.size()) +
                           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        body.resize(std::min<std::size_t>(body.size(), 16384 + 8192));
        body[100] ^= 0x01;
        boost::system::error_code ec;
        boost::asio::write(s, boost::asio::buffer(head + body), ec);
        return false;
    });
    auto t = torrent(dir / "seed" / "payload.bin", {server.url("/payload.bin")}, 64 << 10,
                     pw::meta::Format::hybrid);
    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto seeding = params(t, dir / "seed", {}, true);
    seeding.upload_limit = 256 << 10;
    seed.add_torrent(seeding);
    Session leech(loopback("127.0.0.3", dir / "r-leech"));
    auto id = leech.add_torrent(params(t, dir / "dl", {endpoint("127.0.0.2", seed)}));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] { return complete(leech, id); }, limit)) << dump(drain(leech, log));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    drain(leech, log);
    EXPECT_TRUE(has_event(log, piecewise::EventType::peer_banned, "web seed " + server.url()))
        << dump(log);
    EXPECT_TRUE(has_event(log, piecewise::EventType::peer_banned, "leaf hash differs")) << dump(log);
    EXPECT_TRUE(has_event(log, piecewise::EventType::piece_failed, "2 peer(s)")) << dump(log);
    EXPECT_FALSE(has_event(log, piecewise::EventType::peer_banned, "127.0.0.2"));
    auto st = leech.status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->banned_peers, 1);
    ASSERT_GE(st->hash_failures, 1);
    EXPECT_EQ(st->failures_narrowed, st->hash_failures);
    // The web seed's blocks of each failed piece (at most two of its four), not the piece.
    EXPECT_LE(st->refetched, std::int64_t(st->hash_failures) * 16384 * 2);
    EXPECT_GT(seed.session_stats().hash_requests_served, 0u);
    int after_ban = server.requests();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(server.requests(), after_ban);
}

TEST_F(WebSeed, BusyWebSeedRetryAfterIsWaited) {
    // Busy for 2 s from the first request on: every connection then gets a 503 with
    // Retry-After: 2 and must stay away until it has passed.
    std::string data = random_bytes(300000, 31);
    write_file(dir / "www" / "payload.bin", data);
    std::mutex mu;
    std::vector<std::chrono::steady_clock::time_point> times;
    HttpFileServer server(dir / "www", [&](auto& s, const HttpFileServer::Request& req) {
        {
            std::lock_guard lk(mu);
            auto now = std::chrono::steady_clock::now();
            times.push_back(now);
            if (now - times.front() < std::chrono::seconds(2))
                return HttpFileServer::reply(s, "503 Service Unavailable", "Retry-After: 2\r\n",
                                             "busy", req.keep_alive());
        }
        return HttpFileServer::serve_file(dir / "www", s, req);
    });
    auto t = torrent(dir / "www" / "payload.bin", {server.url("/payload.bin")});
    Session s(loopback("127.0.0.2", dir / "r"));
    auto id = s.add_torrent(params(t, dir / "dl"));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, limit)) << dump(drain(s, log));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    std::lock_guard lk(mu);
    ASSERT_GE(times.size(), 2u);
    for (auto& at : times)  // the first round of connections, then nothing until 2 s passed
        EXPECT_TRUE(at - times.front() < std::chrono::milliseconds(500) ||
                    at - times.front() >= std::chrono::milliseconds(1900))
            << std::chrono::duration_cast<std::chrono::milliseconds>(at - times.front()).count();
    drain(s, log);
    EXPECT_TRUE(has_event(log, piecewise::EventType::peer_disconnected, "503")) << dump(log);
}
