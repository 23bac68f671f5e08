// The byte stream under a PeerConnection: a TCP socket or a uTP stream (BEP 29). The
// smallest abstraction that lets the peer wire protocol, MSE and the listener run over
// either: an asio AsyncStream whose operations forward to the one it holds. The TCP
// path costs one branch per operation.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <optional>

#include "peer/utp_stream.hpp"

namespace pw::peer {

class PeerStream {
  public:
    using executor_type = boost::asio::any_io_executor;
    using tcp = boost::asio::ip::tcp;

    PeerStream(tcp::socket s) : tcp_(std::move(s)) {}  // NOLINT: implicit on purpose
    PeerStream(UtpStream u) : tcp_(u.get_executor()), utp_(std::move(u)) {}  // NOLINT

    executor_type get_executor() { return tcp_.get_executor(); }
    bool is_utp() const { return utp_.has_value(); }
    bool is_open() const { return utp_ ? utp_->is_open() : tcp_.is_open(); }

    void close() {
        boost::system::error_code ec;
        close(ec);
    }
    void close(boost::system::error_code& ec) {
        if (utp_)
            utp_->close();
        else
            tcp_.close(ec);
    }
    void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) {
        if (utp_)
            utp_->close();
        else
            tcp_.shutdown(what, ec);
    }
    tcp::endpoint remote_endpoint(boost::system::error_code& ec) const {
        if (utp_) {
            auto u = utp_->remote_endpoint();
            return tcp::endpoint(u.address(), u.port());
        }
        return tcp_.remote_endpoint(ec);
    }
    tcp::endpoint remote_endpoint() const {
        boost::system::error_code ec;
        return remote_endpoint(ec);
    }
    template <class Option>
    void set_option(const Option& o, boost::system::error_code& ec) {
        if (!utp_) tcp_.set_option(o, ec);
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& b, Token&& token) {
        if (utp_) return utp_->async_read_some(b, std::forward<Token>(token));
        return tcp_.async_read_some(b, std::forward<Token>(token));
    }
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& b, Token&& token) {
        if (utp_) return utp_->async_write_some(b, std::forward<Token>(token));
        return tcp_.async_write_some(b, std::forward<Token>(token));
    }

    // TCP only (is_utp() false): waits until the socket has data to read.
    template <class Token>
    auto async_wait_readable(Token&& token) {
        return tcp_.async_wait(tcp::socket::wait_read, std::forward<Token>(token));
    }

    // TCP only: waits until the socket has room to write.
    template <class Token>
    auto async_wait_writable(Token&& token) {
        return tcp_.async_wait(tcp::socket::wait_write, std::forward<Token>(token));
    }
    // TCP only: the socket's descriptor, in non-blocking mode (for splice(2)).
    int native_nonblocking_handle(boost::system::error_code& ec) {
        tcp_.native_non_blocking(true, ec);
        return tcp_.native_handle();
    }

  private:
    tcp::socket tcp_;
    std::optional<UtpStream> utp_;
};

}  // namespace pw::peer
