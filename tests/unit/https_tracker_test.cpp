// HTTPS tracker announce and scrape against an in-process TLS server on 127.0.0.1, and
// end to end against the tracker server behind a TLS terminator, all in one io_context
// bounded by run_for. A throwaway CA and server certificates are made at
// test time with the OpenSSL API (keys stay in memory); only the CA certificate is
// written, to a temporary directory, as the CA file the client is given.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/socks5_server.hpp"
#include "tracker/client.hpp"
#include "tracker/http_announce.hpp"
#include "tracker/server/tracker_server.hpp"
#include "tracker/tls_client.hpp"

using namespace pw;
using namespace pw::tracker;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr make_key() {
    return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free);
}

void add_ext(X509* cert, X509V3_CTX* v3, int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, v3, nid, value);
    ASSERT_NE(ext, nullptr) << "extension " << nid << " = " << value;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`: a self-signed CA when `issuer` is null, else a
// server certificate with subjectAltName `san`, signed by `issuer`/`issuer_key`.
CertPtr make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                  const std::string& san = "") {
    static std::atomic<long> serial{1};
    CertPtr cert(X509_new(), X509_free);
    X509* x = cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, nullptr, nullptr, 0);
    if (!issuer) {
        add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x, &v3, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x, &v3, NID_basic_constraints, "CA:FALSE");
        add_ext(x, &v3, NID_ext_key_usage, "serverAuth");
        add_ext(x, &v3, NID_subject_alt_name, san.c_str());
        add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
    }
    EXPECT_GT(X509_sign(x, issuer ? issuer_key : key, EVP_sha256()), 0);
    return cert;
}

std::string http_reply(std::string_view status, std::string_view body,
                       std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::string(status) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extra_headers) + "Connection: close\r\n\r\n" + std::string(body);
}

std::string compact_body() {
    std::string peers = {'\x7f', '\x00', '\x00', '\x02', '\x1a', '\xe1'};
    return "d8:intervali900e5:peers6:" + peers + "e";
}

std::string scrape_body() {
    return "d5:filesd20:" + std::string(20, '\xaa') +
           "d8:completei5e10:downloadedi7e10:incompletei3eeee";
}

// A TLS (or, with tls = false, plain) HTTP server on 127.0.0.1. Each connection gets
// what `respond` returns for its request head; an empty answer holds the connection
// open without a reply. With `stall_handshake` it accepts and never speaks.
struct Server {
    Server(asio::io_context& ioc, bool tls_on)
        : tls(tls_on), acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {}
    bool tls;
    bool stall_handshake = false;
    bool close_notify = true;  // TLS: send close_notify after the reply
    bool speak_first = false;  // plain: send respond("") at once, without reading
    ssl::context ctx{ssl::context::tls_server};
    tcp::acceptor acceptor;
    std::function<std::string(const std::string& head)> respond;
    std::vector<std::string> heads;
    std::vector<std::string> sni;  // server name the client sent, per handshake
    int handshakes_failed = 0;
    std::vector<std::shared_ptr<tcp::socket>> held;  // stalled connections, kept open

    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    std::string base(const std::string& host = "127.0.0.1") const {
        return std::string(tls ? "https" : "http") + "://" + host + ":" + std::to_string(port());
    }
};

asio::awaitable<void> hold_open() {
    asio::steady_timer t(co_await asio::this_coro::executor, 60s);
    co_await t.async_wait(use_tuple);
}

template <class Stream>
asio::awaitable<bool> answer(std::shared_ptr<Server> st, Stream& s) {
    std::string head;
    auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(head, 64 * 1024),
                                                   "\r\n\r\n", use_tuple);
    if (ec) co_return false;
    head.resize(n);
    st->heads.push_back(head);
    std::string reply = st->respond(head);
    if (reply.empty()) {
        co_await hold_open();
        co_return false;
    }
    auto [wec, written] = co_await asio::async_write(s, asio::buffer(reply), use_tuple);
    (void)written;
    co_return !wec;
}

asio::awaitable<void> serve_one(std::shared_ptr<Server> st, tcp::socket sock) {
    if (!st->tls && st->speak_first) {
        std::string reply = st->respond("");
        co_await asio::async_write(sock, asio::buffer(reply), use_tuple);
        boost::system::error_code ignored;
        sock.shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
    }
    if (!st->tls) {
        co_await answer(st, sock);
        boost::system::error_code ignored;
        sock.shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
    }
    ssl::stream<tcp::socket> s(std::move(sock), st->ctx);
    auto [hec] = co_await s.async_handshake(ssl::stream_base::server, use_tuple);
    if (hec) {
        ++st->handshakes_failed;
        co_return;
    }
    const char* name = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
    st->sni.push_back(name ? name : "");
    if (!co_await answer(st, s)) co_return;
    if (st->close_notify) {
        // Sends close_notify; the client closes without answering, which ends the wait.
        asio::steady_timer bound(s.get_executor(), 2s);
        // Cancelled before `s` goes, so the handler touches it only when the timer fired.
        bound.async_wait([&s](const boost::system::error_code& ec) {
            if (ec) return;
            boost::system::error_code ignored;
            s.lowest_layer().close(ignored);
        });
        co_await s.async_shutdown(use_tuple);
        bound.cancel();
    } else {
        boost::system::error_code ignored;
        s.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    }
}

asio::awaitable<void> serve(std::shared_ptr<Server> st) {
    for (;;) {
        auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
        if (ec) co_return;
        if (st->stall_handshake) {
            st->held.push_back(std::make_shared<tcp::socket>(std::move(sock)));
            continue;
        }
        asio::co_spawn(st->acceptor.get_executor(), serve_one(st, std::move(sock)), asio::detached);
    }
}

class HttpsTracker : public ::testing::Test {
  protected:
    void SetUp() override {
        static std::atomic<int> counter{0};
        dir = fs::temp_directory_path() /
              ("pw-https-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(dir);
        ca_key = make_key();
        ASSERT_TRUE(ca_key);
        ca_cert = make_cert(ca_key.get(), "Piecewise Test CA", nullptr, nullptr);
        ca_file = (dir / "ca.pem").string();
        FILE* f = std::fopen(ca_file.c_str(), "w");
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(PEM_write_X509(f, ca_cert.get()), 1);
        std::fclose(f);
    }
    void TearDown() override {
        // A run that timed out may have left a context build running for `ioc`.
        pw::tracker::tls_loader_drain();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    // A TLS server whose certificate (signed by the test CA) names `san`.
    std::shared_ptr<Server> start_tls(std::function<std::string(const std::string&)> respond,
                                      const std::string& san = "DNS:localhost,IP:127.0.0.1") {
        auto s = std::make_shared<Server>(ioc, true);
        KeyPtr key = make_key();
        CertPtr cert = make_cert(key.get(), "tracker", ca_cert.get(), ca_key.get(), san);
        SSL_CTX* native = s->ctx.native_handle();
        EXPECT_EQ(SSL_CTX_use_certificate(native, cert.get()), 1);
        EXPECT_EQ(SSL_CTX_use_PrivateKey(native, key.get()), 1);
        s->respond = std::move(respond);
        asio::co_spawn(ioc, serve(s), asio::detached);
        return s;
    }

    std::shared_ptr<Server> start_plain(std::function<std::string(const std::string&)> respond) {
        auto s = std::make_shared<Server>(ioc, false);
        s->respond = std::move(respond);
        asio::co_spawn(ioc, serve(s), asio::detached);
        return s;
    }

    TlsSettings trusting() const { return TlsSettings{ca_file, true}; }

    // Builds and caches the client context for trusting(), so that a timed request
    // measures the network steps only (loading the system trust store is slow under
    // valgrind).
    void warm_context() {
        std::shared_ptr<ssl::context> ctx;
        std::optional<std::string> err = "not run";
        asio::co_spawn(ioc, tls_client_context(trusting(), ctx),
                       [&](std::exception_ptr, std::optional<std::string> e) {
                           err = std::move(e);
                           ioc.stop();
                       });
        ioc.restart();
        ioc.run_for(30s);
        ASSERT_FALSE(err) << *err;
        ASSERT_TRUE(ctx);
    }

    static AnnounceRequest request(std::string url) {
        AnnounceRequest r;
        r.url = std::move(url);
        r.info_hash.bytes.fill(0xaa);
        r.peer_id.fill('p');
        r.port = 6881;
        r.left = 100;
        return r;
    }

    // Runs `op` to completion, bounded well above `timeout`.
    template <class T>
    T run(asio::awaitable<T> op, std::chrono::milliseconds timeout) {
        std::optional<T> out;
        bool threw = false;
        asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T r) {
            if (e)
                threw = true;
            else
                out = std::move(r);
            ioc.stop();
        });
        ioc.restart();
        ioc.run_for(timeout + 5s);
        EXPECT_FALSE(threw) << "the tracker request threw";
        EXPECT_TRUE(out) << "the tracker request did not finish";
        if (out) return std::move(*out);
        T none;
        none.failure_reason = "no result";
        return none;
    }

    AnnounceResponse do_announce(std::string url, TlsSettings tls,
                                 std::chrono::milliseconds timeout = 3s) {
        return run(announce(request(std::move(url)), timeout, std::move(tls)), timeout);
    }

    ScrapeResult do_scrape(std::string url, TlsSettings tls) {
        Sha1Digest h;
        h.bytes.fill(0xaa);
        return run(scrape(std::move(url), h, "", 3s, std::move(tls)), 3s);
    }

    asio::io_context ioc;
    fs::path dir;
    std::string ca_file;
    KeyPtr ca_key{nullptr, EVP_PKEY_free};
    CertPtr ca_cert{nullptr, X509_free};
};

}  // namespace

TEST_F(HttpsTracker, AnnounceWithTheCaFile) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); });
    AnnounceResponse r = do_announce(s->base() + "/announce", trusting());
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.interval, 900);
    ASSERT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(r.peers[0], (PeerAddress{"127.0.0.2", 6881}));
    ASSERT_EQ(s->heads.size(), 1u);
    EXPECT_TRUE(s->heads[0].starts_with("GET /announce?info_hash=%AA")) << s->heads[0];
    EXPECT_NE(s->heads[0].find("Host: 127.0.0.1:" + std::to_string(s->port()) + "\r\n"),
              std::string::npos)
        << s->heads[0];
    ASSERT_EQ(s->sni.size(), 1u);
    EXPECT_EQ(s->sni[0], "") << "no SNI for an address literal";
}

TEST_F(HttpsTracker, HostNameIsSentAsSniAndChecked) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); },
                       "DNS:localhost");
    AnnounceResponse r = do_announce(s->base("localhost") + "/announce", trusting());
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 1u);
    ASSERT_EQ(s->sni.size(), 1u);
    EXPECT_EQ(s->sni[0], "localhost");
}

// Through a SOCKS5 proxy the tracker's name goes to the proxy (which alone can resolve
// "tracker.test" here), and TLS still checks the certificate against that name.
TEST_F(HttpsTracker, AnnounceAndScrapeThroughASocks5Proxy) {
    auto s = start_tls(
        [](const std::string& head) {
            return http_reply("200 OK", head.find("/scrape") != std::string::npos ? scrape_body()
                                                                                  : compact_body());
        },
        "DNS:tracker.test");
    socks5_test::Socks5Server proxy({"127.0.0.9", "", "", {{"tracker.test", "127.0.0.1"}}});
    const auto via = std::get<pw::proxy::ProxyConfig>(pw::proxy::parse_proxy_url(proxy.url()));
    const std::string url = s->base("tracker.test") + "/announce";
    AnnounceResponse r = run(announce(request(url), 3s, trusting(), via), 3s);
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 1u);
    ASSERT_EQ(s->sni.size(), 1u);
    EXPECT_EQ(s->sni[0], "tracker.test");
    Sha1Digest h;
    h.bytes.fill(0xaa);
    ScrapeResult sc = run(scrape(url, h, "", 3s, trusting(), "", via), 3s);
    ASSERT_TRUE(sc.failure_reason.empty()) << sc.failure_reason;
    EXPECT_EQ(sc.complete, 5);
    EXPECT_EQ(proxy.connects_ok.load(), 2);
    EXPECT_TRUE(proxy.asked_for("tracker.test:" + std::to_string(s->port())));
    // Without the proxy the name cannot be resolved at all: the request really used it.
    EXPECT_FALSE(do_announce(url, trusting()).failure_reason.empty());
}

TEST_F(HttpsTracker, ScrapeWithTheCaFile) {
    auto s = start_tls([](const std::string& head) {
        if (head.starts_with("GET /x/scrape?info_hash="))
            return http_reply("200 OK", scrape_body());
        return http_reply("404 Not Found", "");
    });
    ScrapeResult r = do_scrape(s->base() + "/x/announce", trusting());
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.complete, 5);
    EXPECT_EQ(r.incomplete, 3);
    EXPECT_EQ(r.downloaded, 7);
}

TEST_F(HttpsTracker, UnknownCaFailsVerification) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); });
    AnnounceResponse r = do_announce(s->base() + "/announce", TlsSettings{});
    EXPECT_EQ(r.failure_reason,
              "tls: certificate verify failed: unable to get local issuer certificate");
    EXPECT_TRUE(r.peers.empty());
    EXPECT_TRUE(s->heads.empty()) << "no request may be sent over an unverified connection";
    EXPECT_EQ(do_scrape(s->base() + "/announce", TlsSettings{}).failure_reason,
              "tls: certificate verify failed: unable to get local issuer certificate");
}

TEST_F(HttpsTracker, VerificationOffAcceptsAnyCertificate) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); },
                       "DNS:elsewhere.example");
    AnnounceResponse r = do_announce(s->base() + "/announce", TlsSettings{"", false});
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(r.peers.size(), 1u);
}

TEST_F(HttpsTracker, CertificateForAnotherNameFails) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); },
                       "DNS:tracker.example");
    EXPECT_EQ(do_announce(s->base("localhost") + "/announce", trusting()).failure_reason,
              "tls: certificate verify failed: hostname mismatch");
    EXPECT_EQ(do_announce(s->base() + "/announce", trusting()).failure_reason,
              "tls: certificate verify failed: IP address mismatch");
    EXPECT_TRUE(s->heads.empty());
}

TEST_F(HttpsTracker, MissingCaFileIsAClearError) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); });
    const std::string missing = (dir / "nope.pem").string();
    EXPECT_EQ(do_announce(s->base() + "/announce", TlsSettings{missing, true}).failure_reason,
              "tls: cannot load CA file '" + missing + "': No such file or directory");
    const std::string not_pem = (dir / "garbage.pem").string();
    FILE* f = std::fopen(not_pem.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("not a certificate\n", f);
    std::fclose(f);
    EXPECT_TRUE(do_announce(s->base() + "/announce", TlsSettings{not_pem, true})
                    .failure_reason.starts_with("tls: cannot load CA file '" + not_pem + "': "));
    EXPECT_EQ(do_announce(s->base() + "/announce", TlsSettings{dir.string(), true}).failure_reason,
              "tls: cannot load CA file '" + dir.string() + "': not a regular file");
    EXPECT_TRUE(s->heads.empty());
}

TEST_F(HttpsTracker, RedirectToHttpsIsFollowedToHttpRefused) {
    auto plain =
        start_plain([](const std::string&) { return http_reply("200 OK", compact_body()); });
    auto s = start_tls([&](const std::string& head) {
        if (head.starts_with("GET /moved?"))
            return http_reply("302 Found", "", "Location: /announce?again=1\r\n");
        if (head.starts_with("GET /announce?again=1 ")) return http_reply("200 OK", compact_body());
        return http_reply("301 Moved Permanently", "",
                          "Location: " + plain->base() + "/announce\r\n");
    });
    AnnounceResponse ok = do_announce(s->base() + "/moved", trusting());
    ASSERT_TRUE(ok.failure_reason.empty()) << ok.failure_reason;
    EXPECT_EQ(ok.peers.size(), 1u);
    EXPECT_EQ(s->heads.size(), 2u);

    EXPECT_EQ(do_announce(s->base() + "/downgrade", trusting()).failure_reason,
              "redirect from https to http refused");
    EXPECT_TRUE(plain->heads.empty()) << "the http URL must not be fetched";
}

TEST_F(HttpsTracker, HttpMayRedirectToHttps) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); });
    auto plain = start_plain([&](const std::string&) {
        return http_reply("302 Found", "", "Location: " + s->base() + "/announce\r\n");
    });
    AnnounceResponse r = do_announce(plain->base() + "/announce", trusting());
    ASSERT_TRUE(r.failure_reason.empty()) << r.failure_reason;
    EXPECT_EQ(s->heads.size(), 1u);
}

TEST_F(HttpsTracker, GarbageAndOversizedRepliesFail) {
    std::string reply;
    auto s = start_tls([&](const std::string&) { return reply; });
    reply = http_reply("200 OK", "<html>hi</html>");
    EXPECT_TRUE(do_announce(s->base() + "/announce", trusting())
                    .failure_reason.starts_with("tracker reply: "));
    reply = "HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\nConnection: close\r\n\r\n";
    AnnounceResponse big = do_announce(s->base() + "/announce", trusting());
    EXPECT_TRUE(big.failure_reason.starts_with("read: ")) << big.failure_reason;
    reply = "this is not HTTP at all\r\n\r\n";
    AnnounceResponse junk = do_announce(s->base() + "/announce", trusting());
    EXPECT_TRUE(junk.failure_reason.starts_with("read: ")) << junk.failure_reason;
    EXPECT_EQ(s->heads.size(), 3u);
}

TEST_F(HttpsTracker, PlainHttpServerOnAnHttpsUrlFailsTheHandshake) {
    auto plain = start_plain([](const std::string&) { return http_reply("400 Bad Request", ""); });
    plain->speak_first = true;
    const std::string url = "https://127.0.0.1:" + std::to_string(plain->port()) + "/announce";
    AnnounceResponse r = do_announce(url, trusting());
    EXPECT_TRUE(r.failure_reason.starts_with("tls: handshake failed: ")) << r.failure_reason;
}

TEST_F(HttpsTracker, ReplyEndedWithoutCloseNotify) {
    std::string reply;
    auto s = start_tls([&](const std::string&) { return reply; });
    s->close_notify = false;
    // The message is whole (Content-Length): the missing close_notify does not matter.
    reply = http_reply("200 OK", compact_body());
    AnnounceResponse whole = do_announce(s->base() + "/announce", trusting());
    ASSERT_TRUE(whole.failure_reason.empty()) << whole.failure_reason;
    // A body delimited by the end of the connection could have been cut by anyone on the
    // path; without close_notify it is refused.
    reply = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + compact_body();
    AnnounceResponse cut = do_announce(s->base() + "/announce", trusting());
    EXPECT_EQ(cut.failure_reason, "read: stream truncated");
    // With close_notify the same reply is complete.
    s->close_notify = true;
    AnnounceResponse closed = do_announce(s->base() + "/announce", trusting());
    ASSERT_TRUE(closed.failure_reason.empty()) << closed.failure_reason;
    EXPECT_EQ(closed.peers.size(), 1u);
}

TEST_F(HttpsTracker, StalledHandshakeTimesOutWithinTheBound) {
    auto s = start_tls([](const std::string&) { return http_reply("200 OK", compact_body()); });
    s->stall_handshake = true;
    warm_context();
    auto t0 = std::chrono::steady_clock::now();
    AnnounceResponse r = do_announce(s->base() + "/announce", trusting(), 400ms);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.failure_reason, "tls: handshake timed out");
    EXPECT_GE(elapsed, 350ms);
    EXPECT_LT(elapsed, 2s);
    EXPECT_EQ(s->held.size(), 1u);
}

TEST_F(HttpsTracker, SilentServerAfterHandshakeTimesOut) {
    auto s = start_tls([](const std::string&) { return std::string(); });
    warm_context();
    auto t0 = std::chrono::steady_clock::now();
    AnnounceResponse r = do_announce(s->base() + "/announce", trusting(), 400ms);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.failure_reason, "read: timed out");
    EXPECT_LT(elapsed, 2s);
    EXPECT_EQ(s->heads.size(), 1u);
}

namespace {

// A TLS terminator for the end-to-end test: each TLS connection it accepts is relayed,
// decrypted, to `upstream` on 127.0.0.1.
struct Relay {
    tcp::socket plain;
    ssl::stream<tcp::socket> tls;
};

asio::awaitable<void> pump_up(std::shared_ptr<Relay> r) {
    std::array<char, 4096> buf;
    for (;;) {
        auto [ec, n] = co_await r->tls.async_read_some(asio::buffer(buf), use_tuple);
        if (ec) break;
        auto [wec, w] =
            co_await asio::async_write(r->plain, asio::buffer(buf.data(), n), use_tuple);
        (void)w;
        if (wec) break;
    }
    boost::system::error_code ignored;
    r->plain.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> relay_one(std::shared_ptr<Server> st, tcp::socket sock,
                                std::uint16_t upstream) {
    auto r = std::make_shared<Relay>(Relay{tcp::socket(sock.get_executor()),
                                           ssl::stream<tcp::socket>(std::move(sock), st->ctx)});
    auto [hec] = co_await r->tls.async_handshake(ssl::stream_base::server, use_tuple);
    if (hec) co_return;
    auto [cec] = co_await r->plain.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream), use_tuple);
    if (cec) co_return;
    asio::co_spawn(r->plain.get_executor(), pump_up(r), asio::detached);
    std::array<char, 4096> buf;
    for (;;) {
        auto [ec, n] = co_await r->plain.async_read_some(asio::buffer(buf), use_tuple);
        if (ec) break;
        auto [wec, w] = co_await asio::async_write(r->tls, asio::buffer(buf.data(), n), use_tuple);
        (void)w;
        if (wec) break;
    }
    boost::system::error_code ignored;
    r->tls.lowest_layer().close(ignored);
}

asio::awaitable<void> relay(std::shared_ptr<Server> st, std::uint16_t upstream) {
    for (;;) {
        auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
        if (ec) co_return;
        asio::co_spawn(st->acceptor.get_executor(), relay_one(st, std::move(sock), upstream),
                       asio::detached);
    }
}

}  // namespace

// `piecewise tracker`'s HTTP front end, in-process, behind a TLS terminator: two https
// announces and an https scrape go through the real tracker server.
TEST_F(HttpsTracker, EndToEndThroughTheTrackerServer) {
    TrackerOptions opts;
    opts.http = {tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    opts.interval = std::chrono::seconds(600);
    TrackerServer tracker(ioc, opts);
    tracker.start();

    auto front = std::make_shared<Server>(ioc, true);
    KeyPtr key = make_key();
    CertPtr cert = make_cert(key.get(), "tracker", ca_cert.get(), ca_key.get(), "IP:127.0.0.1");
    ASSERT_EQ(SSL_CTX_use_certificate(front->ctx.native_handle(), cert.get()), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(front->ctx.native_handle(), key.get()), 1);
    asio::co_spawn(ioc, relay(front, tracker.http_port()), asio::detached);
    const std::string url = front->base() + "/announce";

    AnnounceResponse first = run(announce(request(url), 3s, trusting()), 3s);
    ASSERT_TRUE(first.failure_reason.empty()) << first.failure_reason;
    EXPECT_EQ(first.interval, 600);
    EXPECT_TRUE(first.peers.empty());

    AnnounceRequest second_req = request(url);
    second_req.peer_id.fill('q');
    second_req.port = 6882;
    AnnounceResponse second = run(announce(second_req, 3s, trusting()), 3s);
    ASSERT_TRUE(second.failure_reason.empty()) << second.failure_reason;
    ASSERT_EQ(second.peers.size(), 1u);
    EXPECT_EQ(second.peers[0], (PeerAddress{"127.0.0.1", 6881}));

    ScrapeResult counts = do_scrape(url, trusting());
    ASSERT_TRUE(counts.failure_reason.empty()) << counts.failure_reason;
    EXPECT_EQ(counts.complete, 0);
    EXPECT_EQ(counts.incomplete, 2);
    tracker.stop();
}
