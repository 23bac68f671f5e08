// Wiring of the tracker server's parts (see tracker_server.hpp).
#include "tracker/server/tracker_server.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

namespace pw::tracker {

namespace asio = boost::asio;

TrackerServer::TrackerServer(asio::io_context& io, TrackerOptions opts)
    : io_(io), opts_(std::move(opts)) {
    if (opts_.interval.count() < 1) throw std::invalid_argument("interval must be at least 1 s");
    state_ = std::make_shared<TrackerState>(opts_.interval, opts_.limits, Clock::now());
    if (!opts_.allow_list_path.empty()) {
        AllowList list;
        std::string err = load_allow_list(opts_.allow_list_path, list);
        if (!err.empty()) throw std::invalid_argument(err);
        state_->set_allow_list(std::move(list));
    }
    for (auto at : opts_.http) {
        if (at.port() == 0 && !http_.empty()) at.port(http_.front()->port());
        http_.push_back(std::make_shared<HttpServer>(io_, state_, at, opts_.http_limits));
    }
    for (auto at : opts_.udp) {
        if (at.port() == 0 && !udp_.empty()) at.port(udp_.front()->port());
        udp_.push_back(std::make_shared<UdpServer>(io_, state_, at));
    }
    sweep_timer_ = std::make_shared<asio::steady_timer>(io_);
}

TrackerServer::~TrackerServer() {
    stop();
}

void TrackerServer::start() {
    for (auto& h : http_) h->start();
    for (auto& u : udp_) u->start();
    asio::co_spawn(io_, sweep_loop(state_, sweep_timer_), asio::detached);
}

void TrackerServer::stop() {
    for (auto& h : http_) h->stop();
    for (auto& u : udp_) u->stop();
    sweep_timer_->cancel();
}

std::string TrackerServer::reload_allow_list() {
    if (opts_.allow_list_path.empty()) return {};
    AllowList list;
    std::string err = load_allow_list(opts_.allow_list_path, list);
    if (err.empty()) state_->set_allow_list(std::move(list));
    return err;
}

// Sweeps every half interval (between 1 s and 60 s), so a peer is gone at most that
// long after its 2 intervals ran out. The coroutine owns what it touches.
asio::awaitable<void> TrackerServer::sweep_loop(std::shared_ptr<TrackerState> state,
                                                std::shared_ptr<asio::steady_timer> timer) {
    const auto period = std::clamp<std::chrono::seconds>(
        state->interval() / 2, std::chrono::seconds(1), std::chrono::seconds(60));
    for (;;) {
        timer->expires_after(period);
        auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        state->store.sweep(Clock::now());
    }
}

}  // namespace pw::tracker
