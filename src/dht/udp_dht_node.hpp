// A DhtNode with a UDP socket of its own: for `piecewise dht-node` and tests. It binds
// the socket, reads datagrams and gives those that look like KRPC (first byte 'd') to
// the node. The engine does not use this: it shares its peer port's socket instead.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>

#include "dht/dht_node.hpp"

namespace pw::dht {

class UdpDhtNode {
  public:
    // Binds to `local` (throws boost::system::system_error if it cannot).
    UdpDhtNode(boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& local,
               DhtSettings settings);
    ~UdpDhtNode();
    UdpDhtNode(const UdpDhtNode&) = delete;
    UdpDhtNode& operator=(const UdpDhtNode&) = delete;

    void start();  // starts reading and the node
    void stop();   // stops the node and closes the socket

    DhtNode& node();
    boost::asio::ip::udp::endpoint local_endpoint() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace pw::dht
