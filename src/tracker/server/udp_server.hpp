// The UDP front end of `piecewise tracker` (BEP 15): connect, announce, scrape on one
// socket, served by one coroutine on the caller's io_context.
//
// - Datagrams are read in batches with recvmmsg(2) and the replies of a batch sent
//   with one sendmmsg(2); reply buffers and the store's reply are reused, so a
//   steady announce load allocates nothing per datagram.
//
// - Connection ids come from ConnectionIds (stateless, keyed MAC, 1-2 minutes valid).
// - A request with a forged or expired connection id is dropped without a reply, as
//   BEP 15 says ("ignores the request if it doesn't match"); so is any malformed
//   packet. Neither costs more than parsing and two SipHash computations.
// - Announce replies carry peers of the packet's address family only: 6-byte entries
//   to IPv4 senders, 18-byte entries to IPv6 senders.
// - A torrent outside the allow-list gets an error packet ("torrent not allowed").
// - A scrape reports up to 74 hashes; hashes outside the allow-list read as zeros.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tracker/server/connection_id.hpp"
#include "tracker/server/tracker_state.hpp"

namespace pw::tracker {

class UdpServer : public std::enable_shared_from_this<UdpServer> {
  public:
    // Binds; throws boost::system::system_error when it cannot.
    UdpServer(boost::asio::io_context& io, std::shared_ptr<TrackerState> state,
              const boost::asio::ip::udp::endpoint& at);
    ~UdpServer();
    void start();
    void stop();
    std::uint16_t port() const { return port_; }

    // The reply to one datagram from `source` (empty: no reply). No I/O.
    std::string handle(std::string_view packet, const PeerEndpoint& source, Clock::time_point now);
    // The same into `out` (cleared first; its capacity is kept).
    void handle(std::string_view packet, const PeerEndpoint& source, Clock::time_point now,
                std::string& out);

    static constexpr int batch = 32;  // datagrams per recvmmsg/sendmmsg

  private:
    boost::asio::awaitable<void> receive_loop();
    // One recvmmsg, the replies, one sendmmsg (or a few when a reply fails). Returns the
    // number of datagrams read; 0 when none were waiting, -1 when the call reported an
    // error instead (more may be waiting).
    int serve_batch();

    boost::asio::ip::udp::socket socket_;
    std::shared_ptr<TrackerState> state_;
    ConnectionIds ids_;
    std::uint16_t port_ = 0;
    StoreReply reply_;  // reused by every announce
    struct Slot;
    std::vector<Slot> slots_;  // `batch` receive buffers, addresses and replies
};

}  // namespace pw::tracker
