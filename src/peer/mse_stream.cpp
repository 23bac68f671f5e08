#include "peer/mse_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "net/deadline.hpp"
#include "peer/dial.hpp"

namespace pw::peer {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string key_of(const tcp::endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// Drives a handshake over the socket until it is done or failed; the deadline closes
// the socket, which ends any pending read or write.
asio::awaitable<bool> drive(PeerStream& s, crypto::MseHandshake& h, std::string first,
                            std::chrono::milliseconds timeout) {
    net::Deadline deadline(s.get_executor());
    deadline.arm(timeout, [&s] {
        boost::system::error_code ignored;
        s.close(ignored);
    });
    using Status = crypto::MseHandshake::Status;
    if (!first.empty()) h.feed(first);
    char buf[2048];
    bool ok = false;
    for (;;) {
        std::string out = h.take_output();
        if (!out.empty()) {
            auto [ec, n] = co_await asio::async_write(s, asio::buffer(out), use_nothrow);
            if (ec) break;
        }
        if (h.status() == Status::done) {
            ok = true;
            break;
        }
        if (h.status() == Status::failed || !s.is_open()) break;
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_nothrow);
        if (ec) break;
        h.feed(std::string_view(buf, n));
    }
    deadline.cancel();
    if (!ok || !s.is_open()) {
        boost::system::error_code ignored;
        s.close(ignored);
        co_return false;
    }
    co_return true;
}

Transport transport_of(crypto::MseResult& r) {
    Transport t;
    t.enc = std::move(r.enc);
    t.dec = std::move(r.dec);
    t.pending = std::move(r.payload);
    return t;
}

}  // namespace

std::optional<bool> EncryptionMemory::get(const tcp::endpoint& ep) const {
    auto it = map_.find(key_of(ep));
    if (it == map_.end()) return std::nullopt;
    return it->second;
}

void EncryptionMemory::set(const tcp::endpoint& ep, bool encrypted) {
    if (map_.size() >= 50000) map_.clear();  // bounded: forgetting only costs a retry
    map_[key_of(ep)] = encrypted;
}

std::uint32_t mse_methods(piecewise::Encryption policy) {
    switch (policy) {
        case piecewise::Encryption::prefer:
            return crypto::mse_plaintext | crypto::mse_rc4;
        case piecewise::Encryption::require:
            return crypto::mse_rc4;
        case piecewise::Encryption::disable:
            break;
    }
    return 0;
}

asio::awaitable<std::optional<Transport>> mse_initiate(PeerStream& s, const Sha1Digest& skey,
                                                       std::uint32_t provide, std::string ia,
                                                       std::chrono::milliseconds timeout) {
    auto h = crypto::MseHandshake::initiator(skey, provide, ia);
    if (!co_await drive(s, h, {}, timeout)) co_return std::nullopt;
    auto r = h.take_result();
    Transport t = transport_of(r);
    t.handshake_sent = true;
    co_return t;
}

asio::awaitable<std::optional<Responded>> mse_respond(PeerStream& s, std::string first,
                                                      crypto::SkeyLookup lookup,
                                                      std::uint32_t allowed,
                                                      std::chrono::milliseconds timeout) {
    auto h = crypto::MseHandshake::responder(std::move(lookup), allowed);
    if (!co_await drive(s, h, std::move(first), timeout)) co_return std::nullopt;
    auto r = h.take_result();
    Responded out{transport_of(r), r.skey};
    co_return out;
}

asio::awaitable<DialPeerResult> dial_peer(asio::io_context& io, tcp::endpoint to,
                                          asio::ip::address bind, std::chrono::milliseconds timeout,
                                          const Sha1Digest& skey, std::string bt_handshake,
                                          piecewise::Encryption policy, EncryptionMemory& memory,
                                          const proxy::ProxyConfig& proxy,
                                          const std::string& device, const UtpDial& utp) {
    bool tries[2];  // true: encrypted
    int n = 0;
    if (policy == piecewise::Encryption::require) {
        tries[n++] = true;
    } else if (policy == piecewise::Encryption::disable) {
        tries[n++] = false;
    } else {
        bool first = memory.get(to).value_or(true);
        tries[n++] = first;
        tries[n++] = !first;
    }
    DialPeerResult out;
    // uTP first when the address is known to speak it (or when TCP is off); a transport
    // that cannot connect at all gives way to the other one.
    const bool utp_ok = utp.manager && !proxy.enabled();
    bool order[2];  // true: uTP
    int transports = 0;
    if (utp_ok && (!utp.tcp || utp.manager->known(to.address()))) order[transports++] = true;
    if (utp.tcp || proxy.enabled()) order[transports++] = false;
    if (utp_ok && transports == 1 && !order[0]) order[transports++] = true;
    int t = 0;
    for (int k = 0; k < n; ++k) {
        std::optional<PeerStream> stream;
        while (!stream && t < transports) {
            if (order[t]) {
                if (auto u = co_await utp.manager->connect(
                        asio::ip::udp::endpoint(to.address(), to.port()), timeout))
                    stream.emplace(std::move(*u));
            } else {
                auto d = co_await dial(io, to, bind, timeout, proxy, device);
                if (d.socket)
                    stream.emplace(std::move(*d.socket));
                else
                    out.error = std::move(d.error);
            }
            if (!stream) ++t;
        }
        if (!stream) co_return out;  // unreachable either way
        out.error.clear();
        if (!tries[k]) {
            out.dialled.emplace(Dialled{std::move(*stream), Transport{}});
            co_return out;
        }
        auto tr =
            co_await mse_initiate(*stream, skey, mse_methods(policy), bt_handshake, mse_timeout);
        if (tr) {
            if (policy == piecewise::Encryption::prefer) memory.set(to, true);
            out.dialled.emplace(Dialled{std::move(*stream), std::move(*tr)});
            co_return out;
        }
        // The peer does not speak MSE (or not with us): plaintext first next time.
        if (policy == piecewise::Encryption::prefer) memory.set(to, false);
    }
    co_return out;
}

}  // namespace pw::peer
