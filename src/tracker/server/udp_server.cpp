// BEP 15 UDP tracker front end (see udp_server.hpp).
#include "tracker/server/udp_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
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

void error_packet(std::string& out, std::uint32_t transaction_id, std::string_view message) {
    put32(out, static_cast<std::uint32_t>(UdpAction::error));
    put32(out, transaction_id);
    out.append(message);
}

}  // namespace

// One datagram of a batch: what came in, from where, and the reply to it.
struct UdpServer::Slot {
    std::array<char, 2048> in;
    sockaddr_storage from;
    std::string out;
};

namespace {

// The sender of a datagram (IPv4-mapped IPv6 becomes IPv4, as for TCP peers).
bool source_of(const sockaddr_storage& ss, socklen_t len, PeerEndpoint& out) {
    if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
        std::array<std::uint8_t, 4> b;
        std::memcpy(b.data(), &a.sin_addr, 4);
        out = PeerEndpoint::v4_of(b, ntohs(a.sin_port));
        return true;
    }
    if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
        std::array<std::uint8_t, 16> b;
        std::memcpy(b.data(), &a.sin6_addr, 16);
        const std::uint16_t port = ntohs(a.sin6_port);
        static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(b.data(), mapped, 12) == 0)
            out = PeerEndpoint::v4_of({b[12], b[13], b[14], b[15]}, port);
        else
            out = PeerEndpoint::v6_of(b, port);
        return true;
    }
    return false;
}

}  // namespace

UdpServer::UdpServer(asio::io_context& io, std::shared_ptr<TrackerState> state,
                     const udp::endpoint& at)
    : socket_(io), state_(std::move(state)), slots_(batch) {
    socket_.open(at.protocol());
    if (at.address().is_v6()) socket_.set_option(asio::ip::v6_only(true));
    socket_.bind(at);
    socket_.non_blocking(true);
    port_ = socket_.local_endpoint().port();
    for (Slot& s : slots_) s.out.reserve(1024);
}

UdpServer::~UdpServer() = default;

void UdpServer::start() {
    asio::co_spawn(
        socket_.get_executor(), [self = shared_from_this()] { return self->receive_loop(); },
        asio::detached);
}

void UdpServer::stop() {
    boost::system::error_code ec;
    socket_.close(ec);
}

int UdpServer::serve_batch() {
    const int fd = socket_.native_handle();
    std::array<mmsghdr, batch> msgs{};
    std::array<iovec, batch> iovs{};
    for (int i = 0; i < batch; ++i) {
        Slot& s = slots_[static_cast<std::size_t>(i)];
        iovs[i] = {s.in.data(), s.in.size()};
        msgs[i].msg_hdr.msg_name = &s.from;
        msgs[i].msg_hdr.msg_namelen = sizeof s.from;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
        // Drained; or a pending error (e.g. an ICMP report), which this call consumed:
        // more datagrams may wait behind it.
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }

    const Clock::time_point now = Clock::now();
    std::array<mmsghdr, batch> replies{};
    std::array<iovec, batch> out_iovs{};
    int k = 0;
    for (int i = 0; i < n; ++i) {
        Slot& s = slots_[static_cast<std::size_t>(i)];
        s.out.clear();
        PeerEndpoint source;
        // A datagram longer than the buffer is truncated (MSG_TRUNC): no request is that
        // long, so it is malformed at any length and parsing what fits drops it the same.
        if (!source_of(s.from, msgs[i].msg_hdr.msg_namelen, source)) continue;
        handle(std::string_view(s.in.data(), msgs[i].msg_len), source, now, s.out);
        if (s.out.empty()) continue;
        out_iovs[k] = {s.out.data(), s.out.size()};
        replies[k].msg_hdr.msg_name = &s.from;
        replies[k].msg_hdr.msg_namelen = msgs[i].msg_hdr.msg_namelen;
        replies[k].msg_hdr.msg_iov = &out_iovs[k];
        replies[k].msg_hdr.msg_iovlen = 1;
        ++k;
    }
    // A full send buffer drops the rest of the replies (the socket is non-blocking); the
    // clients retry as BEP 15 tells them to. A reply the kernel refuses for another
    // reason (e.g. an unreachable destination) is skipped and the next ones still go.
    for (int sent = 0; sent < k;) {
        const int r = ::sendmmsg(fd, replies.data() + sent, static_cast<unsigned>(k - sent),
                                 MSG_DONTWAIT);
        if (r > 0) {
            sent += r;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            ++sent;
        }
    }
    return n;
}

// Reads batches until the socket is drained, then waits for readability: one reactor
// round trip per burst rather than per datagram. After a few batches the coroutine
// yields, so that HTTP connections and timers on the same thread are served during a
// UDP flood, and then goes on reading without waiting (readiness is edge-triggered:
// the datagrams still queued would raise no new event).
asio::awaitable<void> UdpServer::receive_loop() {
    auto self = shared_from_this();
    constexpr int rounds = 8;
    bool wait = true;
    while (socket_.is_open()) {
        if (wait) {
            auto [wec] = co_await socket_.async_wait(udp::socket::wait_read, use_tuple);
            if (wec) {
                if (wec == asio::error::operation_aborted || !socket_.is_open()) co_return;
                continue;
            }
        }
        wait = false;
        int errors = 0;
        for (int i = 0; i < rounds && socket_.is_open(); ++i) {
            const int n = serve_batch();
            if (n >= 0 && n < batch) {
                wait = true;
                break;
            }
            if (n < 0) ++errors;
        }
        // Errors alone, round after round, are not worth spinning on: wait for the
        // socket instead (a reported error is cleared by the call that reports it).
        if (errors == rounds) wait = true;
        if (!wait) co_await asio::post(socket_.get_executor(), asio::use_awaitable);
    }
}

std::string UdpServer::handle(std::string_view packet, const PeerEndpoint& source,
                              Clock::time_point now) {
    std::string out;
    handle(packet, source, now, out);
    return out;
}

void UdpServer::handle(std::string_view packet, const PeerEndpoint& source, Clock::time_point now,
                       std::string& out) {
    out.clear();
    TrackerState& st = *state_;
    const UdpParse p = parse_udp_request(packet);
    if (!p.error.empty()) {
        ++st.counters.udp_dropped;
        return;
    }
    const UdpRequest& q = p.request;
    if (q.action == UdpAction::connect) {
        ++st.counters.udp_connects;
        put32(out, static_cast<std::uint32_t>(UdpAction::connect));
        put32(out, q.transaction_id);
        put64(out, ids_.issue(source, now));
        return;
    }
    if (!ids_.valid(source, q.connection_id, now)) {
        ++st.counters.udp_dropped;
        return;
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
        sa.peer_ids = false;
        st.announce(sa, now, reply_);
        const StoreReply& r = reply_;
        if (!r.failure.empty()) {
            error_packet(out, q.transaction_id, r.failure);
            return;
        }
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
        return;
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
}

}  // namespace pw::tracker
