// Host name resolution on a timer-bounded wait (see resolve.hpp).
#include "tracker/resolve.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace pw::tracker {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<std::optional<std::string>> resolve_host(
    std::string host, std::chrono::steady_clock::time_point deadline,
    std::vector<asio::ip::address>& out) {
    auto ex = co_await asio::this_coro::executor;
    // Shared with the resolver's handler, which may run after this coroutine is gone.
    struct State {
        explicit State(const asio::any_io_executor& e) : timer(e), resolver(e) {}
        asio::steady_timer timer;
        tcp::resolver resolver;  // the stream resolver: one entry per address
        bool done = false;
        boost::system::error_code ec;
        tcp::resolver::results_type results;
    };
    auto st = std::make_shared<State>(ex);
    st->timer.expires_at(deadline);
    // An empty service: only the addresses are wanted; callers add their own port.
    st->resolver.async_resolve(
        host, std::string(),
        [st](const boost::system::error_code& ec, tcp::resolver::results_type results) {
            st->done = true;
            st->ec = ec;
            st->results = std::move(results);
            st->timer.cancel();
        });
    co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!st->done) {
        st->resolver.cancel();
        co_return "resolve: timed out";
    }
    if (st->ec) co_return "resolve: " + st->ec.message();
    out.clear();
    for (const auto& entry : st->results) {
        const asio::ip::address a = entry.endpoint().address();
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    if (out.empty()) co_return "resolve: no address for '" + host + "'";
    co_return std::nullopt;
}

}  // namespace pw::tracker
