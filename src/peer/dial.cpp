#include "peer/dial.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/bind_device.hpp"
#include "net/deadline.hpp"
#include "proxy/socks5_client.hpp"

namespace pw::peer {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<std::optional<tcp::socket>> dial(asio::io_context& io, tcp::endpoint to,
                                                 asio::ip::address bind,
                                                 std::chrono::milliseconds timeout,
                                                 std::string device) {
    tcp::socket sock(io);
    boost::system::error_code ec;
    sock.open(to.protocol(), ec);
    if (ec) co_return std::nullopt;
    if (net::bind_to_device(sock, device)) co_return std::nullopt;
    if (!bind.is_unspecified() && bind.is_v4() == to.address().is_v4()) {
        sock.bind(tcp::endpoint(bind, 0), ec);
        if (ec) co_return std::nullopt;
    }
    net::Deadline deadline(io.get_executor());
    bool timed_out = false;
    deadline.arm(timeout, [&sock, &timed_out] {
        timed_out = true;
        boost::system::error_code ignored;
        sock.close(ignored);
    });
    auto [cec] = co_await sock.async_connect(to, asio::as_tuple(asio::use_awaitable));
    deadline.cancel();
    if (cec || timed_out || !sock.is_open()) co_return std::nullopt;
    co_return std::optional<tcp::socket>(std::move(sock));
}

asio::awaitable<DialResult> dial(asio::io_context& io, tcp::endpoint to, asio::ip::address bind,
                                 std::chrono::milliseconds timeout,
                                 const proxy::ProxyConfig& proxy, const std::string& device) {
    DialResult out;
    if (!proxy.enabled()) {
        out.socket = co_await dial(io, to, bind, timeout, device);
        co_return out;
    }
    proxy::ProxyConfig via = proxy;
    via.device = device;
    auto r = co_await proxy::connect_via(via, proxy::to_socks(to), bind,
                                         proxy::Clock::now() + timeout);
    out.socket = std::move(r.socket);
    out.error = std::move(r.error);
    co_return out;
}

}  // namespace pw::peer
