// GET|HEAD /stream/ over real sockets on 127.0.0.1: whole files and byte ranges of a
// complete torrent, 416, 404, HEAD, keep-alive, the access checks, a skipped file (409)
// and a torrent without data (504 after the wait). The headers' pure helpers too.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "daemon/daemon.hpp"
#include "daemon/http/media.hpp"
#include "daemon/http/server.hpp"
#include "daemon/rpc/methods.hpp"
#include "meta/creator.hpp"
#include "meta/metainfo.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Response = bhttp::response<bhttp::string_body>;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

struct StreamTest : ::testing::Test {
    fs::path dir;
    std::unique_ptr<pw::daemon::Daemon> daemon;
    std::unique_ptr<pw::daemon::rpc::Methods> methods;
    std::unique_ptr<pw::daemon::http::Server> server;
    std::string movie = random_bytes(300000, 1), notes = random_bytes(70000, 2);
    std::string hash;  // of the complete two-file torrent

    void SetUp() override {
        dir = fs::temp_directory_path() / ("pw-stream-" + std::to_string(std::random_device{}()));
        fs::create_directories(dir / "data" / "show");
        std::ofstream(dir / "data" / "show" / "movie.mp4", std::ios::binary) << movie;
        std::ofstream(dir / "data" / "show" / "notes \xc3\xa9.txt", std::ios::binary) << notes;
        pw::daemon::DaemonConfig c;
        c.state_dir = (dir / "state").string();
        c.download_dir = (dir / "dl").string();
        c.settings.listen = "127.0.0.1:0";
        c.settings.dht = false;
        daemon = std::make_unique<pw::daemon::Daemon>(c);
        methods = std::make_unique<pw::daemon::rpc::Methods>(*daemon);
        pw::meta::CreateOptions o;
        o.piece_size = 16 << 10;
        pw::daemon::AddRequest a;
        a.metainfo = pw::meta::create_torrent(dir / "data" / "show", o);
        a.download_dir = (dir / "data").string();
        auto r = daemon->add(a);
        hash = r.hash;
        // Checked: every piece verified.
        for (int i = 0; i < 500; ++i) {
            auto st = daemon->status(r.id);
            if (st && st->state == piecewise::TorrentState::seeding) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ASSERT_EQ(daemon->status(r.id)->state, piecewise::TorrentState::seeding);
    }
    void TearDown() override {
        server.reset();
        methods.reset();
        daemon.reset();
        fs::remove_all(dir);
    }
    void serve(std::optional<std::string> auth = {},
               std::chrono::milliseconds wait = std::chrono::seconds(60)) {
        pw::daemon::http::ServerConfig sc;
        sc.listen = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        sc.auth = auth;
        sc.allow = {asio::ip::make_address("127.0.0.1")};
        sc.stream_wait = wait;
        server = std::make_unique<pw::daemon::http::Server>(sc, *methods, [] {});
    }
    std::string url(int index, const std::string& h = {}) {
        return "/stream/" + (h.empty() ? hash : h) + "/" + std::to_string(index);
    }
    Response get(const std::string& target, const std::string& range = {},
                 bhttp::verb verb = bhttp::verb::get, std::string host = "127.0.0.1",
                 std::string auth = {}) {
        asio::io_context io;
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
        bhttp::request<bhttp::string_body> r{verb, target, 11};
        r.set(bhttp::field::host, host);
        if (!range.empty()) r.set(bhttp::field::range, range);
        if (!auth.empty()) r.set(bhttp::field::authorization, auth);
        bhttp::write(s, r);
        boost::beast::flat_buffer buf;
        bhttp::response_parser<bhttp::string_body> p;
        p.body_limit(64u << 20);
        p.skip(verb == bhttp::verb::head);
        bhttp::read(s, buf, p);
        return p.release();
    }
};

}  // namespace

TEST_F(StreamTest, WholeFileWithHeaders) {
    serve();
    auto r = get(url(0));
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), movie);
    EXPECT_EQ(r[bhttp::field::accept_ranges], "bytes");
    EXPECT_EQ(r[bhttp::field::content_type], "video/mp4");
    EXPECT_EQ(r[bhttp::field::content_length], std::to_string(movie.size()));
    EXPECT_EQ(r[bhttp::field::content_disposition],
              "inline; filename=\"movie.mp4\"; filename*=UTF-8''movie.mp4");
    EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
    EXPECT_TRUE(r[bhttp::field::content_range].empty());
    // The second file: its name in RFC 8187 form; a trailing name segment is ignored.
    r = get(url(1) + "/notes.txt?x=1");
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), notes);
    EXPECT_EQ(r[bhttp::field::content_type], "text/plain; charset=utf-8");
    EXPECT_EQ(r[bhttp::field::content_disposition],
              "inline; filename=\"notes __.txt\"; filename*=UTF-8''notes%20%C3%A9.txt");
}

TEST_F(StreamTest, RangeVariants) {
    serve();
    auto n = static_cast<std::int64_t>(movie.size());
    struct Case {
        std::string range;
        int status;
        std::int64_t first, last;  // of the body
    };
    for (auto& c : std::vector<Case>{
             {"bytes=0-99", 206, 0, 99},
             {"bytes=270000-", 206, 270000, n - 1},
             {"bytes=-1000", 206, n - 1000, n - 1},
             {"bytes=16380-16390", 206, 16380, 16390},      // across a piece boundary
             {"bytes=100000-9999999", 206, 100000, n - 1},  // clipped
             {"bytes=0-9,5-19", 206, 0, 19},                // overlapping: coalesced
             {"bytes=0-9,100-109", 200, 0, n - 1},          // disjoint: the whole body
             {"bytes=9-0", 200, 0, n - 1},                  // invalid: ignored
             {"lines=1-2", 200, 0, n - 1},
         }) {
        auto r = get(url(0), c.range);
        EXPECT_EQ(r.result_int(), c.status) << c.range;
        EXPECT_EQ(r.body(), movie.substr(static_cast<std::size_t>(c.first),
                                         static_cast<std::size_t>(c.last - c.first + 1)))
            << c.range;
        if (c.status == 206) {
            EXPECT_EQ(r[bhttp::field::content_range], "bytes " + std::to_string(c.first) + "-" +
                                                          std::to_string(c.last) + "/" +
                                                          std::to_string(n))
                << c.range;
        }
    }
    for (auto range : {"bytes=300000-", "bytes=-0", "bytes=999999-1000000"}) {
        auto r = get(url(0), range);
        EXPECT_EQ(r.result_int(), 416) << range;
        EXPECT_EQ(r[bhttp::field::content_range], "bytes */" + std::to_string(n)) << range;
    }
}

TEST_F(StreamTest, HeadAndIfRange) {
    serve();
    auto r = get(url(0), "bytes=10-19", bhttp::verb::head);
    EXPECT_EQ(r.result_int(), 206);
    EXPECT_EQ(r[bhttp::field::content_length], "10");
    EXPECT_EQ(r[bhttp::field::content_range], "bytes 10-19/300000");
    EXPECT_TRUE(r.body().empty());
    std::string etag(r[bhttp::field::etag]);
    EXPECT_FALSE(etag.empty());
    // If-Range with another validator: the Range is ignored (RFC 9110 13.1.5).
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
    for (auto [validator, status] :
         {std::pair{std::string("\"old\""), 200}, std::pair{etag, 206}}) {
        bhttp::request<bhttp::string_body> q{bhttp::verb::get, url(0), 11};
        q.set(bhttp::field::host, "localhost");
        q.set(bhttp::field::range, "bytes=0-0");
        q.set(bhttp::field::if_range, validator);
        bhttp::write(s, q);  // both on one keep-alive connection
        boost::beast::flat_buffer buf;
        bhttp::response_parser<bhttp::string_body> p;
        p.body_limit(1u << 20);
        bhttp::read(s, buf, p);
        EXPECT_EQ(p.get().result_int(), status) << validator;
    }
}

TEST_F(StreamTest, NotFound) {
    serve();
    EXPECT_EQ(get(url(2)).result_int(), 404);  // past the last file
    EXPECT_EQ(get(url(0, std::string(40, '0'))).result_int(), 404);
    EXPECT_EQ(get("/stream/" + hash).result_int(), 404);
    EXPECT_EQ(get("/stream/" + hash + "/x").result_int(), 404);
    EXPECT_EQ(get("/stream/xyz/0").result_int(), 404);
    EXPECT_EQ(get(url(0), {}, bhttp::verb::post).result_int(), 405);
}

TEST_F(StreamTest, AccessChecks) {
    serve(std::string("user:secret"));
    EXPECT_EQ(get(url(0)).result_int(), 401);
    EXPECT_EQ(get(url(0), {}, bhttp::verb::get, "127.0.0.1", "Basic dXNlcjp3cm9uZw==").result_int(),
              401);
    auto ok = get(url(0), "bytes=0-3", bhttp::verb::get, "127.0.0.1", "Basic dXNlcjpzZWNyZXQ=");
    EXPECT_EQ(ok.result_int(), 206);
    EXPECT_EQ(ok.body(), movie.substr(0, 4));
    // DNS rebinding: a Host that is not localhost or an IP literal.
    EXPECT_EQ(
        get(url(0), {}, bhttp::verb::get, "evil.example", "Basic dXNlcjpzZWNyZXQ=").result_int(),
        421);
}

TEST_F(StreamTest, SkippedFileAndMissingData) {
    // A second torrent, added with nothing on disk and no peer: its bytes never come.
    pw::meta::CreateOptions o;
    o.piece_size = 16 << 10;
    pw::daemon::AddRequest a;
    // Same content, other name: another info-hash.
    fs::rename(dir / "data" / "show", dir / "data" / "other");
    a.metainfo = pw::meta::create_torrent(dir / "data" / "other", o);
    fs::rename(dir / "data" / "other", dir / "data" / "show");
    a.download_dir = (dir / "empty").string();
    fs::create_directories(a.download_dir);
    a.files.unwanted = {true, {1}};
    auto added = daemon->add(a);
    serve({}, std::chrono::milliseconds(1500));
    auto t0 = std::chrono::steady_clock::now();
    auto r = get(url(0, added.hash), "bytes=0-99");
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.result_int(), 504);
    EXPECT_GE(waited, std::chrono::milliseconds(1400));
    EXPECT_LT(waited, std::chrono::seconds(10));
    // The skipped file's first piece is not shared with the wanted one: never fetched.
    r = get(url(1, added.hash), "bytes=30000-30099");
    EXPECT_EQ(r.result_int(), 409);
    // HEAD needs no data.
    r = get(url(0, added.hash), {}, bhttp::verb::head);
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r[bhttp::field::content_length], "300000");
}

TEST_F(StreamTest, ClientGoneDropsTheStream) {
    // A torrent whose bytes never come: the response waits for its first chunk.
    pw::meta::CreateOptions o;
    o.piece_size = 16 << 10;
    pw::daemon::AddRequest a;
    fs::rename(dir / "data" / "show", dir / "data" / "third");
    a.metainfo = pw::meta::create_torrent(dir / "data" / "third", o);
    fs::rename(dir / "data" / "third", dir / "data" / "show");
    a.download_dir = (dir / "empty").string();
    fs::create_directories(a.download_dir);
    auto added = daemon->add(a);
    serve();  // the 60 s default wait
    auto& session = daemon->session();
    EXPECT_EQ(session.stream_count(), 0u);
    {
        asio::io_context io;
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
        std::string req = "GET " + url(0, added.hash) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
        asio::write(s, asio::buffer(req));
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (session.stream_count() != 1 && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_EQ(session.stream_count(), 1u);
    }  // the client closes its socket while the server waits for pieces
    auto t0 = std::chrono::steady_clock::now();
    while (session.stream_count() != 0 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(session.stream_count(), 0u);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    // A finished response closes its stream too.
    EXPECT_EQ(get(url(0), "bytes=0-9").result_int(), 206);
    t0 = std::chrono::steady_clock::now();
    while (session.stream_count() != 0 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(session.stream_count(), 0u);
}

TEST(StreamMedia, ContentTypes) {
    using pw::daemon::http::stream_content_type;
    EXPECT_EQ(stream_content_type("a/b/Film.MKV"), "video/x-matroska");
    EXPECT_EQ(stream_content_type("x.webm"), "video/webm");
    EXPECT_EQ(stream_content_type("song.flac"), "audio/flac");
    EXPECT_EQ(stream_content_type("s.srt"), "application/x-subrip");
    EXPECT_EQ(stream_content_type("doc.pdf"), "application/pdf");
    EXPECT_EQ(stream_content_type("page.html"), "application/octet-stream");  // never a page
    EXPECT_EQ(stream_content_type("pic.svg"), "application/octet-stream");
    EXPECT_EQ(stream_content_type("dir.mp4/noext"), "application/octet-stream");
    EXPECT_EQ(stream_content_type("trailing."), "application/octet-stream");
}

TEST(StreamMedia, Disposition) {
    using pw::daemon::http::content_disposition;
    EXPECT_EQ(content_disposition("d/a b\"c\\.mkv"),
              "inline; filename=\"a b_c_.mkv\"; filename*=UTF-8''a%20b%22c%5C.mkv");
    EXPECT_EQ(content_disposition("\xe6\x97\xa5.mp4"),
              "inline; filename=\"___.mp4\"; filename*=UTF-8''%E6%97%A5.mp4");
    EXPECT_EQ(content_disposition("x\r\ny"),
              "inline; filename=\"x__y\"; filename*=UTF-8''x%0D%0Ay");
    EXPECT_EQ(content_disposition(""), "inline; filename=\"file\"; filename*=UTF-8''file");
}
