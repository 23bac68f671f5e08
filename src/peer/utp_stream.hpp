// uTP connections over the session's shared UDP socket (BEP 29), as asynchronous byte
// streams for PeerConnection. The protocol itself is the pure utp::Connection; this layer
// does its I/O on the network thread: it demultiplexes datagrams to connections by
// (address, port, connection id), accepts SYNs, sends what the connections produce,
// drives their timers, and completes the streams' pending reads and writes.
//
// Contract: UtpManager::on_datagram() takes every datagram that utp::looks_like_utp();
// flush() is called when a batch of datagrams is done (it sends the delayed ACKs).
// A UtpStream reads and writes like a socket (async_read_some / async_write_some with
// any completion token); reading after the peer's FIN gives asio::error::eof, after a
// failure connection_reset. Closing a stream sends FIN after the written bytes; the
// connection lingers (bounded in time) to deliver them. Incoming connections are capped
// per address and in total; stop() ends everything without touching the socket again.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace pw::peer {

namespace utp_detail {
struct Conn;
struct Core;
using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
void start_read(const std::shared_ptr<Conn>& c, Handler h, boost::asio::mutable_buffer b);
void start_write(const std::shared_ptr<Conn>& c, Handler h,
                 std::vector<boost::asio::const_buffer> b);
}  // namespace utp_detail

class UtpStream {
  public:
    using executor_type = boost::asio::any_io_executor;

    UtpStream(std::shared_ptr<utp_detail::Conn> c, executor_type ex);
    UtpStream(UtpStream&&) noexcept = default;
    UtpStream& operator=(UtpStream&& o) noexcept;
    ~UtpStream();

    executor_type get_executor() const { return ex_; }
    bool is_open() const;
    void close();
    boost::asio::ip::udp::endpoint remote_endpoint() const;

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& b, Token&& token) {
        boost::asio::mutable_buffer first;
        for (auto it = boost::asio::buffer_sequence_begin(b);
             it != boost::asio::buffer_sequence_end(b); ++it)
            if (it->size() > 0) {
                first = *it;
                break;
            }
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [c = conn_](auto handler, boost::asio::mutable_buffer buf) {
                utp_detail::start_read(c, std::move(handler), buf);
            },
            token, first);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& b, Token&& token) {
        std::vector<boost::asio::const_buffer> bufs;
        for (auto it = boost::asio::buffer_sequence_begin(b);
             it != boost::asio::buffer_sequence_end(b); ++it)
            if (it->size() > 0) bufs.emplace_back(*it);
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [c = conn_](auto handler, std::vector<boost::asio::const_buffer> v) {
                utp_detail::start_write(c, std::move(handler), std::move(v));
            },
            token, std::move(bufs));
    }

  private:
    std::shared_ptr<utp_detail::Conn> conn_;
    executor_type ex_;
};

struct UtpOptions {
    std::size_t max_per_address = 8;       // incoming connections from one IP at once
    std::size_t max_connections = 2000;    // all connections
    std::size_t max_payload_loopback = 0;  // 0: the default packet size on loopback too
    // Path MTU discovery (utp::Connection): the socket sends with Don't Fragment, and a
    // connection to a peer that announces larger datagrams probes up to its route's MTU
    // (about 64 KiB on loopback). Off: every packet has the default size.
    bool path_mtu_probing = true;
    // For tests (Settings::simulate_nat): a SYN is accepted only from an endpoint this
    // manager sent a SYN to within `nat_hole_lifetime`, as a NAT lets in only the replies
    // to flows opened from inside.
    bool simulate_nat = false;
    std::chrono::seconds nat_hole_lifetime{120};
};

class UtpManager {
  public:
    UtpManager(boost::asio::io_context& io, boost::asio::ip::udp::socket& socket,
               UtpOptions o = {});
    ~UtpManager();
    UtpManager(const UtpManager&) = delete;
    UtpManager& operator=(const UtpManager&) = delete;

    // Incoming connections go to `accept` (none when not set: SYNs are ignored).
    void set_accept(std::function<void(UtpStream)> accept);
    void on_datagram(const boost::asio::ip::udp::endpoint& from, std::string_view datagram);
    void flush();
    // Connects within `timeout`; nullopt when the peer does not answer or refuses.
    boost::asio::awaitable<std::optional<UtpStream>> connect(boost::asio::ip::udp::endpoint to,
                                                             std::chrono::milliseconds timeout);
    // Addresses known to speak uTP (bounded): learnt from PEX, uTP connections either way.
    bool known(const boost::asio::ip::address& a) const;
    void learn(const boost::asio::ip::address& a);
    std::size_t connections() const;
    void stop();

  private:
    std::shared_ptr<utp_detail::Core> core_;
};

}  // namespace pw::peer
