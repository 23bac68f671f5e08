// SOCKS5 client (see socks5_client.hpp).
//
// The deadline is kept by a timer that closes the control socket when it fires, which
// ends whatever read, write or connect is pending. The timer handler and the coroutine
// share the socket through a shared state, so a handler that runs late only closes a
// socket that has already been handed over (moved from), which is harmless.
#include "proxy/socks5_client.hpp"

#include "net/bind_device.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "tracker/resolve.hpp"

namespace pw::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Control {
    explicit Control(const asio::any_io_executor& ex) : sock(ex), timer(ex) {}
    tcp::socket sock;
    asio::steady_timer timer;
    bool timed_out = false;
};

std::string io_error(const Control& c, const char* stage, const boost::system::error_code& ec) {
    if (c.timed_out) return "proxy: timed out";
    if (ec == asio::error::eof) return std::string("proxy: closed the connection during ") + stage;
    return std::string("proxy: ") + stage + ": " + ec.message();
}

// Reads exactly `n` bytes into `out`.
asio::awaitable<std::optional<std::string>> read_n(Control& c, std::size_t n, std::string& out,
                                                   const char* stage) {
    const std::size_t at = out.size();
    out.resize(at + n);
    auto [ec, got] = co_await asio::async_read(c.sock, asio::buffer(out.data() + at, n), use_tuple);
    (void)got;
    if (ec) co_return io_error(c, stage, ec);
    co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> write_all(Control& c, const std::string& msg,
                                                      const char* stage) {
    auto [ec, n] = co_await asio::async_write(c.sock, asio::buffer(msg), use_tuple);
    (void)n;
    if (ec) co_return io_error(c, stage, ec);
    co_return std::nullopt;
}

// Connects `c.sock` to the proxy.
asio::awaitable<std::optional<std::string>> reach_proxy(Control& c, const ProxyConfig& cfg,
                                                        const asio::ip::address& bind,
                                                        Clock::time_point deadline) {
    std::vector<asio::ip::address> addresses;
    if (auto err = co_await tracker::resolve_host(cfg.host, deadline, addresses))
        co_return "proxy: " + *err;
    boost::system::error_code last = asio::error::host_not_found;
    for (const auto& a : addresses) {
        if (c.timed_out) break;
        boost::system::error_code ec;
        c.sock.close(ec);
        c.sock.open(a.is_v4() ? tcp::v4() : tcp::v6(), ec);
        if (!ec) ec = net::bind_to_device(c.sock, cfg.device);
        if (!ec && !bind.is_unspecified() && bind.is_v4() == a.is_v4())
            c.sock.bind(tcp::endpoint(bind, 0), ec);
        if (!ec)
            std::tie(ec) = co_await c.sock.async_connect(tcp::endpoint(a, cfg.port), use_tuple);
        if (!ec && !c.timed_out) co_return std::nullopt;
        last = ec;
    }
    if (c.timed_out) co_return "proxy: timed out";
    co_return "proxy: cannot reach " + cfg.where() + ": " + last.message();
}

// Method negotiation and, when the proxy asks for it, username/password.
asio::awaitable<std::optional<std::string>> negotiate(Control& c, const ProxyConfig& cfg) {
    const bool with_auth = !cfg.user.empty();
    if (auto err = co_await write_all(c, socks5::encode_greeting(with_auth), "greeting"))
        co_return err;
    std::string in;
    if (auto err = co_await read_n(c, 2, in, "method selection")) co_return err;
    auto sel = socks5::decode_method_selection(in);
    if (auto* e = std::get_if<socks5::Error>(&sel)) co_return "proxy: " + e->reason;
    switch (std::get<socks5::Method>(sel)) {
        case socks5::Method::none:
            co_return std::nullopt;
        case socks5::Method::unacceptable:
            co_return with_auth ? std::string("proxy: no acceptable authentication method")
                                : std::string("proxy: authentication required (give USER:PASS@)");
        case socks5::Method::user_pass:
            break;
    }
    if (!with_auth) co_return "proxy: chose username/password, which was not offered";
    auto req = socks5::encode_auth_request(cfg.user, cfg.pass);
    if (auto* e = std::get_if<socks5::Error>(&req)) co_return "proxy: " + e->reason;
    if (auto err = co_await write_all(c, std::get<std::string>(req), "authentication"))
        co_return err;
    in.clear();
    if (auto err = co_await read_n(c, 2, in, "authentication")) co_return err;
    auto ok = socks5::decode_auth_reply(in);
    if (auto* e = std::get_if<socks5::Error>(&ok)) co_return "proxy: " + e->reason;
    if (!std::get<bool>(ok)) co_return "proxy: authentication refused";
    co_return std::nullopt;
}

// Sends a request and reads its reply (bounded: at most 4 + 1 + 255 + 2 bytes).
asio::awaitable<std::optional<std::string>> request(Control& c, socks5::Command cmd,
                                                    const socks5::Address& dst,
                                                    socks5::Address& bound) {
    auto req = socks5::encode_request(cmd, dst);
    if (auto* e = std::get_if<socks5::Error>(&req)) co_return "proxy: " + e->reason;
    if (auto err = co_await write_all(c, std::get<std::string>(req), "request")) co_return err;
    std::string in;
    if (auto err = co_await read_n(c, 5, in, "reply")) co_return err;
    auto size = socks5::message_size(in);
    if (auto* e = std::get_if<socks5::Error>(&size)) co_return "proxy: " + e->reason;
    const std::size_t n = std::get<std::size_t>(size);
    if (n < 5) co_return "proxy: malformed reply";
    if (n > 5) {
        if (auto err = co_await read_n(c, n - 5, in, "reply")) co_return err;
    }
    auto reply = socks5::decode_reply(in);
    if (auto* e = std::get_if<socks5::Error>(&reply)) co_return "proxy: " + e->reason;
    auto& r = std::get<socks5::Reply>(reply);
    if (r.code != 0) co_return socks5::reply_message(r.code);
    bound = std::move(r.bound);
    co_return std::nullopt;
}

// Everything up to a successful reply, under the deadline timer.
asio::awaitable<std::optional<std::string>> handshake(
    std::shared_ptr<Control> c, const ProxyConfig& cfg, const asio::ip::address& bind,
    Clock::time_point deadline, socks5::Command cmd, const socks5::Address& dst,
    socks5::Address& bound) {
    if (!cfg.enabled()) co_return "proxy: not configured";
    c->timer.expires_at(deadline);
    c->timer.async_wait([c](const boost::system::error_code& ec) {
        if (ec) return;
        c->timed_out = true;
        boost::system::error_code ignored;
        c->sock.close(ignored);
    });
    std::optional<std::string> err = co_await reach_proxy(*c, cfg, bind, deadline);
    if (!err) err = co_await negotiate(*c, cfg);
    if (!err) err = co_await request(*c, cmd, dst, bound);
    c->timer.cancel();
    if (!err && c->timed_out) err = "proxy: timed out";
    co_return err;
}

}  // namespace

socks5::Address to_socks(const tcp::endpoint& ep) {
    const auto a = ep.address();
    if (a.is_v4()) return socks5::Address::v4(a.to_v4().to_bytes(), ep.port());
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped())
        return socks5::Address::v4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes(),
                                   ep.port());
    return socks5::Address::v6(v6.to_bytes(), ep.port());
}

socks5::Address to_socks(const std::string& host, std::uint16_t port) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(host, ec);
    if (!ec) return to_socks(tcp::endpoint(a, port));
    return socks5::Address::name(host, port);
}

std::optional<udp::endpoint> to_udp_endpoint(const socks5::Address& a) {
    switch (a.type) {
        case socks5::Address::Type::ipv4: {
            asio::ip::address_v4::bytes_type b;
            for (int i = 0; i < 4; ++i) b[i] = a.ip[i];
            return udp::endpoint(asio::ip::address_v4(b), a.port);
        }
        case socks5::Address::Type::ipv6:
            return udp::endpoint(asio::ip::address_v6(a.ip), a.port);
        case socks5::Address::Type::domain:
            return std::nullopt;
    }
    return std::nullopt;
}

asio::awaitable<TcpConnectResult> connect_via(ProxyConfig cfg, socks5::Address dst,
                                              asio::ip::address bind, Clock::time_point deadline) {
    TcpConnectResult out;
    auto c = std::make_shared<Control>(co_await asio::this_coro::executor);
    socks5::Address bound;
    if (auto err =
            co_await handshake(c, cfg, bind, deadline, socks5::Command::connect, dst, bound)) {
        boost::system::error_code ignored;
        c->sock.close(ignored);
        out.error = std::move(*err);
        co_return out;
    }
    out.socket.emplace(std::move(c->sock));
    co_return out;
}

struct UdpAssociation::State {
    explicit State(const asio::any_io_executor& ex)
        : control(std::make_shared<Control>(ex)), udp_sock(ex) {}
    std::shared_ptr<Control> control;
    udp::socket udp_sock;
    udp::endpoint relay;
    bool alive = true;
};

UdpAssociation::UdpAssociation(std::shared_ptr<State> s) : state_(std::move(s)) {}

UdpAssociation::~UdpAssociation() {
    boost::system::error_code ignored;
    state_->control->sock.close(ignored);
    state_->udp_sock.close(ignored);
    state_->alive = false;
}

udp::socket& UdpAssociation::socket() {
    return state_->udp_sock;
}
const udp::endpoint& UdpAssociation::relay() const {
    return state_->relay;
}
bool UdpAssociation::alive() const {
    return state_->alive;
}

asio::awaitable<std::variant<std::unique_ptr<UdpAssociation>, std::string>> UdpAssociation::open(
    ProxyConfig cfg, asio::ip::address bind, Clock::time_point deadline) {
    auto ex = co_await asio::this_coro::executor;
    auto st = std::make_shared<State>(ex);
    auto& c = st->control;
    // The control connection first, so that the UDP socket can use its local address
    // (the one the proxy sees); the UDP port is announced in the request.
    c->timer.expires_at(deadline);
    c->timer.async_wait([c](const boost::system::error_code& ec) {
        if (ec) return;
        c->timed_out = true;
        boost::system::error_code ignored;
        c->sock.close(ignored);
    });
    std::optional<std::string> err = co_await reach_proxy(*c, cfg, bind, deadline);
    if (!err) err = co_await negotiate(*c, cfg);
    socks5::Address bound;
    if (!err) {
        boost::system::error_code ec;
        const auto local = c->sock.local_endpoint(ec);
        if (!ec) st->udp_sock.open(local.address().is_v4() ? udp::v4() : udp::v6(), ec);
        if (!ec) ec = net::bind_to_device(st->udp_sock, cfg.device);
        if (!ec) st->udp_sock.bind(udp::endpoint(local.address(), 0), ec);
        if (ec) err = "proxy: UDP socket: " + ec.message();
        if (!err) {
            const auto me = st->udp_sock.local_endpoint(ec);
            if (ec)
                err = "proxy: UDP socket: " + ec.message();
            else
                err = co_await request(*c, socks5::Command::udp_associate,
                                       to_socks(tcp::endpoint(me.address(), me.port())), bound);
        }
    }
    c->timer.cancel();
    if (!err && c->timed_out) err = "proxy: timed out";
    if (!err) {
        // A relay at the unspecified address (or named) is at the proxy's own address.
        boost::system::error_code ec;
        const auto proxy_ep = c->sock.remote_endpoint(ec);
        auto relay = to_udp_endpoint(bound);
        if (ec) {
            err = "proxy: " + ec.message();
        } else if (!relay || relay->address().is_unspecified()) {
            st->relay = udp::endpoint(proxy_ep.address(), bound.port);
        } else {
            st->relay = *relay;
        }
        if (!err && st->relay.port() == 0) err = "proxy: UDP relay has port 0";
    }
    if (err) {
        boost::system::error_code ignored;
        c->sock.close(ignored);
        st->udp_sock.close(ignored);
        co_return *err;
    }
    // The watcher: the proxy never sends on the control connection after the reply, so
    // any completion means it ended.
    asio::co_spawn(
        ex,
        [st]() -> asio::awaitable<void> {
            char byte;
            co_await st->control->sock.async_read_some(asio::buffer(&byte, 1), use_tuple);
            st->alive = false;
            boost::system::error_code ignored;
            st->control->sock.close(ignored);
            st->udp_sock.close(ignored);
        },
        asio::detached);
    co_return std::unique_ptr<UdpAssociation>(new UdpAssociation(st));
}

}  // namespace pw::proxy
