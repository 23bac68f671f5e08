// Message Stream Encryption on a socket (specs/mse.md): runs the pure handshake of
// src/crypto/mse_handshake over a connected socket within a deadline, and dials peers
// according to the session's encryption policy (piecewise::Encryption), remembering per
// peer address which way worked so it is tried first next time.
//
// The result of either role is a Transport: the RC4 pair when RC4 was selected and the
// plaintext bytes already received past the handshake, for the PeerConnection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

#include "crypto/mse_handshake.hpp"
#include "peer/peer_stream.hpp"
#include "piecewise/session.hpp"
#include "proxy/parse/proxy_url.hpp"

namespace pw::peer {

constexpr std::chrono::seconds mse_timeout{10};

// How a connection's bytes travel once the BitTorrent layer takes over.
struct Transport {
    std::optional<crypto::Rc4> enc, dec;  // both set: RC4; none: plaintext
    std::string pending;                  // plaintext bytes received but not yet parsed
    bool handshake_sent = false;          // our BitTorrent handshake went out (as IA, or by the listener)
    bool encrypted() const { return enc.has_value(); }
};

// Which way of connecting worked per peer address (ip:port), for `prefer`. Bounded.
class EncryptionMemory {
  public:
    // nullopt: never connected; true: MSE worked; false: MSE failed, plaintext next.
    std::optional<bool> get(const boost::asio::ip::tcp::endpoint& ep) const;
    void set(const boost::asio::ip::tcp::endpoint& ep, bool encrypted);

  private:
    std::unordered_map<std::string, bool> map_;
};

// The methods we offer (initiator) or accept (responder) under a policy; 0 for disable.
std::uint32_t mse_methods(piecewise::Encryption policy);

// MSE as initiator (A) on a connected socket; `ia` (our BitTorrent handshake) travels
// with step 3. nullopt on failure or after `timeout` (the socket is then closed).
boost::asio::awaitable<std::optional<Transport>> mse_initiate(PeerStream& s, const Sha1Digest& skey,
                                                              std::uint32_t provide, std::string ia,
                                                              std::chrono::milliseconds timeout);

// MSE as responder (B) on an accepted socket whose first bytes (`first`) were already
// read. On success also returns the torrent's info-hash (SKEY).
struct Responded {
    Transport transport;
    Sha1Digest skey;
};
boost::asio::awaitable<std::optional<Responded>> mse_respond(PeerStream& s, std::string first,
                                                             crypto::SkeyLookup lookup,
                                                             std::uint32_t allowed,
                                                             std::chrono::milliseconds timeout);

// Which transports dial_peer may use (BEP 29). uTP is never used through a proxy.
struct UtpDial {
    UtpManager* manager = nullptr;  // null: no uTP
    bool tcp = true;                // false: uTP only
};

// Dials `to` (through `proxy` when it is enabled, on `device` when it is not empty: see
// dial()) and, per `policy`, runs the MSE initiator with `bt_handshake` as IA:
// require: encrypted only; disable: plaintext only; prefer: the way that worked last
// time first (encrypted when unknown), then the other on a fresh connection.
// Transports: uTP first to an address known to speak it (UtpManager::known), TCP first
// otherwise; when the first cannot connect at all, the other is tried.
struct Dialled {
    PeerStream socket;
    Transport transport;
};
struct DialPeerResult {
    std::optional<Dialled> dialled;
    std::string error;  // set when the proxy said why there is no connection ("proxy: ...")
};
boost::asio::awaitable<DialPeerResult> dial_peer(
    boost::asio::io_context& io, boost::asio::ip::tcp::endpoint to, boost::asio::ip::address bind,
    std::chrono::milliseconds timeout, const Sha1Digest& skey, std::string bt_handshake,
    piecewise::Encryption policy, EncryptionMemory& memory, const proxy::ProxyConfig& proxy = {},
    const std::string& device = {}, const UtpDial& utp = {});

}  // namespace pw::peer
