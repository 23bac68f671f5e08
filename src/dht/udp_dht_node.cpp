// A DhtNode that owns its UDP socket.
#include "dht/udp_dht_node.hpp"

#include <array>

namespace pw::dht {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct UdpDhtNode::State : std::enable_shared_from_this<UdpDhtNode::State> {
    State(asio::io_context& io, const udp::endpoint& local, DhtSettings s)
        : socket(io, local), node(io, socket, std::move(s)) {}

    void read() {
        socket.async_receive_from(
            asio::buffer(buffer), sender,
            [weak = weak_from_this()](const boost::system::error_code& ec, std::size_t n) {
                auto self = weak.lock();
                if (!self || !self->running || ec == asio::error::operation_aborted) return;
                // Other errors (e.g. ICMP port unreachable reported on the next read)
                // concern one earlier datagram: keep reading.
                if (!ec && n > 0 && self->buffer[0] == 'd')
                    self->node.on_packet(self->sender, std::string_view(self->buffer.data(), n));
                if (self->running) self->read();
            });
    }

    udp::socket socket;
    DhtNode node;
    std::array<char, 16 * 1024> buffer{};
    udp::endpoint sender;
    bool running = false;
};

UdpDhtNode::UdpDhtNode(asio::io_context& io, const udp::endpoint& local, DhtSettings settings)
    : state_(std::make_shared<State>(io, local, std::move(settings))) {}

UdpDhtNode::~UdpDhtNode() {
    stop();
}

void UdpDhtNode::start() {
    if (state_->running) return;
    state_->running = true;
    state_->node.start();
    state_->read();
}

void UdpDhtNode::stop() {
    if (!state_->running) return;
    state_->running = false;
    state_->node.stop();
    boost::system::error_code ec;
    state_->socket.close(ec);
}

DhtNode& UdpDhtNode::node() {
    return state_->node;
}

udp::endpoint UdpDhtNode::local_endpoint() const {
    return state_->socket.local_endpoint();
}

}  // namespace pw::dht
