// The SOCKS5 client (src/proxy/socks5_client) against the in-process test server:
// CONNECT with and without authentication, refused credentials, a refused destination,
// an unreachable or silent proxy (deadline), UDP ASSOCIATE both ways, and the end of an
// association when the proxy drops its control connection. Needs loopback addresses
// 127.0.0.x (run in a network namespace).
#include "proxy/socks5_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "../support/socks5_server.hpp"
#include "tracker/udp_announce.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using namespace pw::proxy;
using namespace std::chrono_literals;

namespace {

ProxyConfig config_of(const socks5_test::Socks5Server& s, std::string user = {},
                      std::string pass = {}) {
    auto c = std::get<ProxyConfig>(parse_proxy_url(s.url()));
    if (!user.empty()) {
        c.user = std::move(user);
        c.pass = std::move(pass);
    }
    return c;
}

// Runs `f` until it finishes (bounded by the caller's deadlines) on an io_context that
// outlives every test, since the sockets it returns belong to it.
template <class F>
auto run(F f) {
    static asio::io_context io;
    auto fut = asio::co_spawn(io, f(), asio::use_future);
    io.restart();
    io.run_for(20s);
    return fut.get();
}

auto connect_to(ProxyConfig cfg, socks5::Address dst, std::chrono::milliseconds limit = 5s) {
    return run([=]() { return connect_via(cfg, dst, {}, Clock::now() + limit); });
}

// A TCP listener on `ip` that accepts one connection, echoes one line and reports the peer.
struct Echo {
    asio::io_context io;
    tcp::acceptor acc;
    std::thread t;
    std::string peer_ip;
    explicit Echo(const std::string& ip) : acc(io, tcp::endpoint(asio::ip::make_address(ip), 0)) {
        t = std::thread([this] {
            boost::system::error_code ec;
            tcp::socket s = acc.accept(ec);
            if (ec) return;
            peer_ip = s.remote_endpoint(ec).address().to_string();
            char buf[64];
            std::size_t n = s.read_some(asio::buffer(buf), ec);
            if (!ec) asio::write(s, asio::buffer(buf, n), ec);
        });
    }
    ~Echo() {
        boost::system::error_code ec;
        acc.close(ec);
        t.join();
    }
    std::uint16_t port() const { return acc.local_endpoint().port(); }
};

}  // namespace

TEST(Socks5Client, ConnectNoAuthCarriesBytes) {
    socks5_test::Socks5Server proxy({});
    Echo echo("127.0.0.3");
    auto r = connect_to(config_of(proxy), socks5::Address::v4({127, 0, 0, 3}, echo.port()));
    ASSERT_TRUE(r.socket) << r.error;
    asio::write(*r.socket, asio::buffer("hello", 5));
    char buf[5];
    asio::read(*r.socket, asio::buffer(buf));
    EXPECT_EQ(std::string(buf, 5), "hello");
    EXPECT_EQ(proxy.connects_ok.load(), 1);
    EXPECT_EQ(proxy.bytes_relayed.load(), 10);
}

TEST(Socks5Client, ConnectByNameAndUserPass) {
    socks5_test::Socks5Server::Options o;
    o.user = "alice";
    o.pass = "s3cret";
    o.hosts["peer.test"] = "127.0.0.4";
    socks5_test::Socks5Server proxy(o);
    {
        Echo echo("127.0.0.4");
        auto r = connect_to(config_of(proxy), socks5::Address::name("peer.test", echo.port()));
        ASSERT_TRUE(r.socket) << r.error;
        asio::write(*r.socket, asio::buffer("x", 1));
        char c;
        asio::read(*r.socket, asio::buffer(&c, 1));
        EXPECT_EQ(echo.peer_ip, "127.0.0.9");  // the destination sees the proxy
        EXPECT_TRUE(proxy.asked_for("peer.test:" + std::to_string(echo.port())));
    }
    auto bad =
        connect_to(config_of(proxy, "alice", "wrong"), socks5::Address::v4({127, 0, 0, 4}, 1));
    EXPECT_FALSE(bad.socket);
    EXPECT_EQ(bad.error, "proxy: authentication refused");
    EXPECT_EQ(proxy.auth_failures.load(), 1);
    ProxyConfig anon = config_of(proxy);
    anon.user.clear();
    anon.pass.clear();
    auto none = connect_to(anon, socks5::Address::v4({127, 0, 0, 4}, 1));
    EXPECT_FALSE(none.socket);
    EXPECT_EQ(none.error, "proxy: authentication required (give USER:PASS@)");
}

TEST(Socks5Client, DestinationRefusedIsNamed) {
    socks5_test::Socks5Server proxy({});
    // A port nobody listens on: the proxy's connect is refused, and it says so (REP 5).
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.5"), 0));
    const auto port = probe.local_endpoint().port();
    probe.close();
    auto r = connect_to(config_of(proxy), socks5::Address::v4({127, 0, 0, 5}, port));
    EXPECT_FALSE(r.socket);
    EXPECT_EQ(r.error, "proxy: connection refused by destination");
    auto unknown = connect_to(config_of(proxy), socks5::Address::name("nowhere.test", 80));
    EXPECT_EQ(unknown.error, "proxy: host unreachable");
}

TEST(Socks5Client, UnreachableOrSilentProxyEndsByDeadline) {
    ProxyConfig cfg;
    cfg.host = "127.0.0.9";
    {
        asio::io_context io;
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.9"), 0));
        cfg.port = a.local_endpoint().port();
    }
    auto r = connect_to(cfg, socks5::Address::v4({127, 0, 0, 1}, 1));
    EXPECT_FALSE(r.socket);
    EXPECT_EQ(r.error.rfind("proxy: cannot reach 127.0.0.9:", 0), 0u) << r.error;
    // A listener that never answers the greeting: the deadline ends the attempt.
    asio::io_context io;
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.9"), 0));
    cfg.port = silent.local_endpoint().port();
    const auto start = Clock::now();
    r = connect_to(cfg, socks5::Address::v4({127, 0, 0, 1}, 1), 700ms);
    EXPECT_EQ(r.error, "proxy: timed out");
    EXPECT_LT(Clock::now() - start, 5s);
}

TEST(Socks5Client, UdpAssociateRelaysBothWaysAndDiesWithControl) {
    socks5_test::Socks5Server::Options o;
    o.hosts["tracker.test"] = "127.0.0.6";
    socks5_test::Socks5Server proxy(o);
    asio::io_context io;
    udp::socket dest(io, udp::endpoint(asio::ip::make_address("127.0.0.6"), 0));
    const auto dest_port = dest.local_endpoint().port();
    std::string result;
    auto fut = asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto opened = co_await UdpAssociation::open(config_of(proxy), {}, Clock::now() + 5s);
            if (auto* e = std::get_if<std::string>(&opened)) {
                result = *e;
                co_return;
            }
            auto assoc = std::move(std::get<0>(opened));
            auto wrapped =
                socks5::encode_udp(socks5::Address::name("tracker.test", dest_port), "ping");
            co_await assoc->socket().async_send_to(asio::buffer(std::get<std::string>(wrapped)),
                                                   assoc->relay(), asio::use_awaitable);
            char buf[256];
            udp::endpoint from;
            std::size_t n =
                co_await dest.async_receive_from(asio::buffer(buf), from, asio::use_awaitable);
            result += std::string(buf, n) + "|" + from.address().to_string() + "|";
            co_await dest.async_send_to(asio::buffer("pong", 4), from, asio::use_awaitable);
            n = co_await assoc->socket().async_receive_from(asio::buffer(buf), from,
                                                            asio::use_awaitable);
            auto d = socks5::decode_udp(std::string_view(buf, n));
            if (auto* u = std::get_if<socks5::UdpDatagram>(&d))
                result += std::string(u->payload) + "|" + u->peer.host_text() + "|";
            EXPECT_TRUE(assoc->alive());
            proxy.end_associations();
            asio::steady_timer t(io);
            for (int i = 0; i < 100 && assoc->alive(); ++i) {
                t.expires_after(20ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            result += assoc->alive() ? "alive" : "dead";
        },
        asio::use_future);
    io.run_for(20s);
    fut.get();
    EXPECT_EQ(result, "ping|127.0.0.9|pong|127.0.0.6|dead");
    EXPECT_EQ(proxy.datagrams_out.load(), 1);
    EXPECT_EQ(proxy.datagrams_in.load(), 1);
    EXPECT_TRUE(proxy.asked_for("tracker.test:" + std::to_string(dest_port)));
}

// A UDP tracker request through a proxy that ends the association (closes the control
// connection) fails at once with the proxy named, not after the request's timeout.
TEST(Socks5Client, UdpTrackerFailsWhenTheAssociationEnds) {
    socks5_test::Socks5Server::Options o;
    o.hosts["tracker.test"] = "127.0.0.6";
    socks5_test::Socks5Server proxy(o);
    asio::io_context io;
    udp::socket silent(io, udp::endpoint(asio::ip::make_address("127.0.0.6"), 0));
    pw::tracker::AnnounceRequest req;
    req.url = "udp://tracker.test:" + std::to_string(silent.local_endpoint().port());
    req.port = 6881;
    std::optional<pw::tracker::AnnounceResponse> got;
    asio::co_spawn(
        io, pw::tracker::announce_udp(req, 20s, config_of(proxy)),
        [&](std::exception_ptr, pw::tracker::AnnounceResponse r) { got = std::move(r); });
    const auto start = Clock::now();
    // Once the request reached the silent tracker, the proxy drops the association.
    while (proxy.datagrams_out.load() == 0 && Clock::now() - start < 5s) io.run_for(10ms);
    ASSERT_EQ(proxy.datagrams_out.load(), 1);
    proxy.end_associations();
    while (!got && Clock::now() - start < 10s) io.run_for(10ms);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->failure_reason, "proxy: the UDP association ended (control connection closed)");
    EXPECT_LT(Clock::now() - start, 5s);
}
