// A SOCKS5 server for tests (RFC 1928, RFC 1929), in-process on its own thread and
// io_context, listening on one loopback address (127.0.0.9 by default, so that peers see
// connections through it coming from there). It speaks "no authentication" or, when a
// user is set, username/password only; CONNECT and UDP ASSOCIATE (no BIND). Domain names
// are resolved from a fixed table given by the test (never by DNS), which also shows that
// the client sent the name rather than resolving it. Everything that passes through is
// counted. Uses the engine's own codec (proxy/parse/socks5.hpp) for the wire format.
#pragma once

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proxy/parse/socks5.hpp"

namespace socks5_test {

namespace asio = boost::asio;
namespace s5 = pw::proxy::socks5;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

class Socks5Server {
  public:
    struct Options {
        std::string address = "127.0.0.9";
        std::string user, pass;                    // empty user: no authentication
        std::map<std::string, std::string> hosts;  // domain name -> IP address
    };

    explicit Socks5Server(Options o)
        : opt_(std::move(o)),
          acceptor_(io_, tcp::endpoint(asio::ip::make_address(opt_.address), 0)) {
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Socks5Server() {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string url() const {
        std::string auth = opt_.user.empty() ? "" : opt_.user + ":" + opt_.pass + "@";
        return "socks5://" + auth + opt_.address + ":" + std::to_string(port());
    }

    // Counters, readable from any thread.
    std::atomic<int> sessions{0};  // TCP connections accepted
    std::atomic<int> auth_failures{0};
    std::atomic<int> connects{0};      // CONNECT requests
    std::atomic<int> connects_ok{0};   // ... that reached their destination
    std::atomic<int> associations{0};  // UDP ASSOCIATE requests granted
    std::atomic<int> associations_ended{0};
    std::atomic<int> datagrams_out{0};  // client -> destination
    std::atomic<int> datagrams_in{0};   // destination -> client
    std::atomic<long long> bytes_relayed{0};

    // Destinations asked for ("host:port"), domain names as names.
    std::vector<std::string> targets() const {
        std::lock_guard l(mu_);
        return targets_;
    }
    bool asked_for(const std::string& target) const {
        auto t = targets();
        return std::find(t.begin(), t.end(), target) != t.end();
    }
    // Ends every UDP association by closing its control connection.
    void end_associations() {
        asio::post(io_, [this] {
            for (auto& c : controls_)
                if (auto s = c.lock()) {
                    boost::system::error_code ignored;
                    s->close(ignored);
                }
        });
    }

  private:
    static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

    void note(const s5::Address& a) {
        std::lock_guard l(mu_);
        targets_.push_back(a.host_text() + ":" + std::to_string(a.port));
    }

    // The IP address of a request's destination (names from the table only).
    std::optional<asio::ip::address> lookup(const s5::Address& a) const {
        if (a.type == s5::Address::Type::domain) {
            auto it = opt_.hosts.find(a.domain);
            if (it == opt_.hosts.end()) return std::nullopt;
            return asio::ip::make_address(it->second);
        }
        if (a.type == s5::Address::Type::ipv4) {
            asio::ip::address_v4::bytes_type b{a.ip[0], a.ip[1], a.ip[2], a.ip[3]};
            return asio::ip::address_v4(b);
        }
        return asio::ip::address_v6(a.ip);
    }

    static s5::Address to_addr(const asio::ip::address& ip, std::uint16_t port) {
        if (ip.is_v4()) return s5::Address::v4(ip.to_v4().to_bytes(), port);
        return s5::Address::v6(ip.to_v6().to_bytes(), port);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            ++sessions;
            asio::co_spawn(io_, session(std::make_shared<tcp::socket>(std::move(s))),
                           asio::detached);
        }
    }

    static asio::awaitable<bool> read_n(tcp::socket& s, std::string& buf, std::size_t n) {
        const std::size_t at = buf.size();
        buf.resize(at + n);
        auto [ec, got] = co_await asio::async_read(s, asio::buffer(buf.data() + at, n), use_tuple);
        (void)got;
        co_return !ec;
    }
    static asio::awaitable<bool> send(tcp::socket& s, const std::string& m) {
        auto [ec, n] = co_await asio::async_write(s, asio::buffer(m), use_tuple);
        (void)n;
        co_return !ec;
    }

    asio::awaitable<void> session(std::shared_ptr<tcp::socket> c) {
        std::string in;
        if (!co_await read_n(*c, in, 2)) co_return;
        const std::size_t greeting = s5::greeting_size(in);
        if (greeting > 2) {
            if (!co_await read_n(*c, in, greeting - 2)) co_return;
        }
        auto g = s5::decode_greeting(in);
        if (std::holds_alternative<s5::Error>(g)) co_return;
        const std::string methods = std::get<std::string>(g);
        const auto want = opt_.user.empty() ? s5::Method::none : s5::Method::user_pass;
        if (methods.find(static_cast<char>(want)) == std::string::npos) {
            co_await send(*c, s5::encode_method_selection(s5::Method::unacceptable));
            co_return;
        }
        if (!co_await send(*c, s5::encode_method_selection(want))) co_return;
        if (want == s5::Method::user_pass) {
            // VER ULEN, then UNAME PLEN, then PASSWD.
            in.clear();
            if (!co_await read_n(*c, in, 2)) co_return;
            if (!co_await read_n(*c, in, static_cast<std::uint8_t>(in[1]) + 1u)) co_return;
            if (!co_await read_n(*c, in, static_cast<std::uint8_t>(in.back()))) co_return;
            auto cred = s5::decode_auth_request(in);
            const bool ok = std::holds_alternative<s5::Credentials>(cred) &&
                            std::get<s5::Credentials>(cred).user == opt_.user &&
                            std::get<s5::Credentials>(cred).pass == opt_.pass;
            if (!ok) ++auth_failures;  // counted before the reply, which the test waits for
            co_await send(*c, s5::encode_auth_reply(ok));
            if (!ok) co_return;
        }
        in.clear();
        if (!co_await read_n(*c, in, 5)) co_return;
        auto size = s5::message_size(in);
        if (std::holds_alternative<s5::Error>(size)) co_return;
        const std::size_t n = std::get<std::size_t>(size);
        if (n > 5 && !co_await read_n(*c, in, n - 5)) co_return;
        auto req = s5::decode_request(in);
        if (std::holds_alternative<s5::Error>(req)) co_return;
        const s5::Request r = std::get<s5::Request>(req);
        const s5::Address none = s5::Address::v4({0, 0, 0, 0}, 0);
        if (r.command == static_cast<std::uint8_t>(s5::Command::connect)) {
            ++connects;
            note(r.dst);
            auto ip = lookup(r.dst);
            if (!ip) {
                co_await send(*c, s5::encode_reply(s5::ReplyCode::host_unreachable, none));
                co_return;
            }
            auto out = std::make_shared<tcp::socket>(io_);
            boost::system::error_code ec;
            out->open(ip->is_v4() ? tcp::v4() : tcp::v6(), ec);
            if (ip->is_v4()) out->bind(tcp::endpoint(asio::ip::make_address(opt_.address), 0), ec);
            std::tie(ec) = co_await out->async_connect(tcp::endpoint(*ip, r.dst.port), use_tuple);
            if (ec) {
                co_await send(*c, s5::encode_reply(ec == asio::error::connection_refused
                                                       ? s5::ReplyCode::connection_refused
                                                       : s5::ReplyCode::host_unreachable,
                                                   none));
                co_return;
            }
            ++connects_ok;
            const auto local = out->local_endpoint(ec);
            if (!co_await send(*c, s5::encode_reply(s5::ReplyCode::succeeded,
                                                    to_addr(local.address(), local.port()))))
                co_return;
            asio::co_spawn(io_, pipe(c, out), asio::detached);
            co_await pipe(out, c);
            co_return;
        }
        if (r.command == static_cast<std::uint8_t>(s5::Command::udp_associate)) {
            auto relay = std::make_shared<udp::socket>(
                io_, udp::endpoint(asio::ip::make_address(opt_.address), 0));
            boost::system::error_code ec;
            const auto client_ip = c->remote_endpoint(ec).address();
            const auto rep = relay->local_endpoint(ec);
            if (!co_await send(*c, s5::encode_reply(s5::ReplyCode::succeeded,
                                                    to_addr(rep.address(), rep.port()))))
                co_return;
            ++associations;
            controls_.push_back(c);
            asio::co_spawn(io_, relay_loop(relay, client_ip), asio::detached);
            // The association lasts as long as the control connection.
            char byte;
            co_await c->async_read_some(asio::buffer(&byte, 1), use_tuple);
            relay->close(ec);
            c->close(ec);
            ++associations_ended;
            co_return;
        }
        co_await send(*c, s5::encode_reply(s5::ReplyCode::command_not_supported, none));
    }

    asio::awaitable<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
        std::vector<char> buf(64 * 1024);
        for (;;) {
            auto [ec, n] = co_await from->async_read_some(asio::buffer(buf), use_tuple);
            if (ec) break;
            bytes_relayed +=
                static_cast<long long>(n);  // before the write: tests read it after the reply
            auto [wec, w] = co_await asio::async_write(*to, asio::buffer(buf.data(), n), use_tuple);
            (void)w;
            if (wec) break;
        }
        boost::system::error_code ignored;
        from->close(ignored);
        to->close(ignored);
    }

    asio::awaitable<void> relay_loop(std::shared_ptr<udp::socket> relay,
                                     asio::ip::address client_ip) {
        std::vector<char> buf(65536);
        std::optional<udp::endpoint> client;
        for (;;) {
            udp::endpoint from;
            auto [ec, n] = co_await relay->async_receive_from(asio::buffer(buf), from, use_tuple);
            if (ec) co_return;
            const std::string_view d(buf.data(), n);
            if (from.address() == client_ip && (!client || *client == from)) {
                auto dg = s5::decode_udp(d);
                if (std::holds_alternative<s5::Error>(dg)) continue;
                const auto& u = std::get<s5::UdpDatagram>(dg);
                auto ip = lookup(u.peer);
                note(u.peer);
                if (!ip) continue;
                client = from;
                ++datagrams_out;
                co_await relay->async_send_to(asio::buffer(u.payload.data(), u.payload.size()),
                                              udp::endpoint(*ip, u.peer.port), use_tuple);
            } else if (client) {
                auto wrapped = s5::encode_udp(to_addr(from.address(), from.port()), d);
                ++datagrams_in;
                co_await relay->async_send_to(asio::buffer(std::get<std::string>(wrapped)), *client,
                                              use_tuple);
            }
        }
    }

    Options opt_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex mu_;
    std::vector<std::string> targets_;
    std::vector<std::weak_ptr<tcp::socket>> controls_;  // network thread only
};

}  // namespace socks5_test
