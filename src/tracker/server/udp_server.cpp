// BEP 15 UDP tracker front end (see udp_server.hpp).
#include "tracker/server/udp_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tracker/parse/server_request.hpp"
#include "tracker/server/http_server.hpp"

namespace pw::tracker {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void put32(std::string& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
void put64(std::string& out, std::uint64_t v) {
    put32(out, static_cast<std::uint32_t>(v >> 32));
    put32(out, static_cast<std::uint32_t>(v));
}

std::string error_packet(std::uint32_t transaction_id, std::string_view message) {
    std::string out;
    put32(out, static_cast<std::uint32_t>(UdpAction::error));
    put32(out, transaction_id);
    out.append(message);
    return out;
}

}  // namespace

UdpServer::UdpServer(asio::io_context& io, std::shared_ptr<TrackerState> state,
                     const udp::endpoint& at)
    : socket_(io), state_(std::move(state)) {
    socket_.open(at.protocol());
    if (at.address().is_v6()) socket_.set_option(asio::ip::v6_only(true));
    socket_.bind(at);
    socket_.non_blocking(true);
    port_ = socket_.local_endpoint().port();
}

void UdpServer::start() {
    asio::co_spawn(
        socket_.get_executor(), [self = shared_from_this()] { return self->receive_loop(); },
        asio::detached);
}

void UdpServer::stop() {
    boost::system::error_code ec;
    socket_.close(ec);
}

// Reads with non-blocking receive_from until the socket is drained, then waits for
// readability: one reactor round trip per burst rather than per datagram. After a
// batch the coroutine yields so that HTTP connections and timers on the same thread
// are served during a UDP flood.
asio::awaitable<void> UdpServer::receive_loop() {
    auto self = shared_from_this();
    constexpr int batch = 64;
    std::array<char, 2048> buf;
    udp::endpoint from;
    while (socket_.is_open()) {
        auto [wec] = co_await socket_.async_wait(udp::socket::wait_read, use_tuple);
        if (wec) {
            if (wec == asio::error::operation_aborted || !socket_.is_open()) co_return;
            continue;
        }
        for (int i = 0; i < batch && socket_.is_open(); ++i) {
            boost::system::error_code ec;
            const std::size_t n = socket_.receive_from(asio::buffer(buf), from, 0, ec);
            if (ec == asio::error::would_block) break;
            if (ec) continue;  // e.g. an ICMP report: nothing to answer
            const PeerEndpoint source = endpoint_of(from.address(), from.port());
            std::string reply = handle(std::string_view(buf.data(), n), source, Clock::now());
            if (reply.empty()) continue;
            // A full send buffer drops the reply (the socket is non-blocking); the
            // client retries as BEP 15 tells it to.
            boost::system::error_code sec;
            socket_.send_to(asio::buffer(reply), from, 0, sec);
        }
        co_await asio::post(socket_.get_executor(), asio::use_awaitable);
    }
}

std::string UdpServer::handle(std::string_view packet, const PeerEndpoint& source,
                              Clock::time_point now) {
    TrackerState& st = *state_;
    const UdpParse p = parse_udp_request(packet);
    if (!p.error.empty()) {
        ++st.counters.udp_dropped;
        return {};
    }
    const UdpRequest& q = p.request;
    std::string out;
    if (q.action == UdpAction::connect) {
        ++st.counters.udp_connects;
        put32(out, static_cast<std::uint32_t>(UdpAction::connect));
        put32(out, q.transaction_id);
        put64(out, ids_.issue(source, now));
        return out;
    }
    if (!ids_.valid(source, q.connection_id, now)) {
        ++st.counters.udp_dropped;
        return {};
    }
    if (q.action == UdpAction::announce) {
        ++st.counters.udp_announces;
        StoreAnnounce sa;
        sa.info_hash = q.info_hash;
        sa.peer_id = q.peer_id;
        sa.endpoint = source;
        sa.endpoint.port = q.port;
        sa.left = q.left;
        sa.event = q.event;
        sa.numwant = q.numwant < 0 ? -1 : q.numwant;
        sa.both_families = false;
        const StoreReply r = st.announce(sa, now);
        if (!r.failure.empty()) return error_packet(q.transaction_id, r.failure);
        put32(out, static_cast<std::uint32_t>(UdpAction::announce));
        put32(out, q.transaction_id);
        put32(out, static_cast<std::uint32_t>(st.interval().count()));
        put32(out, r.counts.incomplete);
        put32(out, r.counts.complete);
        for (const ReplyPeer& peer : r.peers) {
            out.append(reinterpret_cast<const char*>(peer.endpoint.addr.data()),
                       peer.endpoint.v6 ? 16 : 4);
            out.push_back(static_cast<char>(peer.endpoint.port >> 8));
            out.push_back(static_cast<char>(peer.endpoint.port & 0xff));
        }
        return out;
    }
    // scrape
    ++st.counters.udp_scrapes;
    put32(out, static_cast<std::uint32_t>(UdpAction::scrape));
    put32(out, q.transaction_id);
    for (const Sha1Digest& h : q.info_hashes) {
        const SwarmCounts c = st.allowed(h) ? st.store.scrape(h) : SwarmCounts{};
        put32(out, c.complete);
        put32(out, c.downloaded);
        put32(out, c.incomplete);
    }
    return out;
}

}  // namespace pw::tracker
