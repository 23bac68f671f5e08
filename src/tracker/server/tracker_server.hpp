// `piecewise tracker` as a component: the HTTP and UDP front ends over one shared
// TrackerState, plus the periodic sweep that expires peers (2 announce intervals
// after their last announce). Everything runs on the io_context given to it, on one
// thread; tests start it in-process on port 0 and read the bound ports back.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tracker/server/http_server.hpp"
#include "tracker/server/tracker_state.hpp"
#include "tracker/server/udp_server.hpp"

namespace pw::tracker {

struct TrackerOptions {
    // The addresses to serve each protocol on, a socket each, all over one swarm store
    // (e.g. 0.0.0.0:6969 and [::]:6969 for a tracker of both families; IPv6 sockets are
    // IPv6-only). A later endpoint with port 0 takes the port the first one of its
    // protocol was bound to, so that both families can share one announce URL's port.
    std::vector<boost::asio::ip::tcp::endpoint> http;
    std::vector<boost::asio::ip::udp::endpoint> udp;
    std::string allow_list_path;  // empty: every info-hash is tracked
    std::chrono::seconds interval{1800};
    StoreLimits limits;
    HttpLimits http_limits;
};

class TrackerServer {
  public:
    // Loads the allow-list (throws std::invalid_argument with the reason) and binds the
    // sockets (throws boost::system::system_error). Nothing runs until start().
    TrackerServer(boost::asio::io_context& io, TrackerOptions opts);
    ~TrackerServer();
    TrackerServer(const TrackerServer&) = delete;
    TrackerServer& operator=(const TrackerServer&) = delete;

    void start();
    void stop();  // closes every socket and the sweep timer; run() then returns

    // The port of the first HTTP (UDP) socket; 0 when there is none.
    std::uint16_t http_port() const { return http_.empty() ? 0 : http_.front()->port(); }
    std::uint16_t udp_port() const { return udp_.empty() ? 0 : udp_.front()->port(); }

    // Re-reads the allow-list file (network thread only). On error the old list stays
    // and the error is returned; "" on success or when no allow-list is configured.
    std::string reload_allow_list();

    TrackerState& state() { return *state_; }

  private:
    boost::asio::awaitable<void> sweep_loop(std::shared_ptr<TrackerState> state,
                                            std::shared_ptr<boost::asio::steady_timer> timer);

    boost::asio::io_context& io_;
    TrackerOptions opts_;
    std::shared_ptr<TrackerState> state_;
    std::vector<std::shared_ptr<HttpServer>> http_;
    std::vector<std::shared_ptr<UdpServer>> udp_;
    std::shared_ptr<boost::asio::steady_timer> sweep_timer_;
};

}  // namespace pw::tracker
