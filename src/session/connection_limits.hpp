// The session's connection budget: how many peer connections may be open at once (all
// torrents together), how many outgoing connects may be in progress (half-open), and how
// many connections one IP address may hold (an IPv6 peer: its /64 prefix, the block one
// subscriber gets, so that one host cannot take every place with addresses of its own
// subnet; an IPv4-mapped IPv6 address counts as its IPv4 address). Issue 14: a flood of 3,000 connections was
// accepted whole and took up to 1,830 descriptors.
//
// Every connection holds a Slot from the moment its socket exists (accepted, or dial
// started) until it is closed; the counts go down when the Slot is released or destroyed,
// so a connection that ends in any way gives its place back. An incoming connection is
// "pending" until its BitTorrent handshake has been read: the listener may then evict the
// oldest pending one to admit a newcomer when the budget is full (a real peer sends its
// handshake within one round trip; a connection that sent nothing for a while is the
// cheapest to drop). Pure bookkeeping on the network thread: no sockets, no clock of its
// own; eviction closes a pending connection through the callback its owner registered.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace pw::session {

class ConnectionLimits {
  public:
    using Clock = std::chrono::steady_clock;
    using Address = boost::asio::ip::address;

    struct Caps {
        int max_connections = 500;  // every peer connection, pending and half-open included
        int max_half_open = 50;     // outgoing connects in progress; <= 0: no limit
        int max_per_ip = 8;         // connections with one remote IP (IPv6: /64); <= 0: no limit
    };

    enum class Refusal { none, total, per_ip, half_open };

  private:
    struct State;
    struct Entry;

  public:
    // One connection's place in the budget. Move-only; releasing or destroying it gives the
    // place back (once).
    class Slot {
      public:
        Slot() = default;
        explicit operator bool() const { return entry_ != nullptr; }
        // Outgoing: the connect finished (no longer half-open).
        void connected();
        // Incoming: the BitTorrent handshake arrived (no longer evictable as pending).
        void handshaken();
        // Incoming: its first bytes arrived (an MSE key or the start of a handshake). It
        // stays pending, but is evicted only after every pending one that sent nothing.
        void spoke();
        // Incoming: its handshake was read and answered at `now`, and the torrent waits for
        // it to say more before giving it a peer slot (a full torrent). Evictable after
        // the silent ones, `grace` after the answer: a real peer replies within a round
        // trip, a flood's handshake-and-stall connection never does.
        void answered(Clock::time_point now);
        // Incoming: how evict_pending() closes this connection (replaces the one given to
        // incoming()).
        void on_evict(std::function<void()> fn);
        void release() { entry_.reset(); }
        // Hands the place to an owner that only keeps it alive (a PeerConnection).
        std::shared_ptr<void> hold() && { return std::move(entry_); }

      private:
        friend class ConnectionLimits;
        explicit Slot(std::shared_ptr<Entry> e) : entry_(std::move(e)) {}
        std::shared_ptr<Entry> entry_;
    };

    explicit ConnectionLimits(Caps caps);

    const Caps& caps() const;
    void set_max_connections(int n);

    // Why a new connection with `ip` would be refused now (none: it fits).
    Refusal check_incoming(const Address& ip) const;
    Refusal check_outgoing(const Address& ip) const;
    // Takes a place (call after the matching check said none). `on_evict` closes the
    // connection if evict_pending() picks it.
    Slot incoming(const Address& ip, Clock::time_point now, std::function<void()> on_evict);
    Slot outgoing(const Address& ip);

    // Closes the oldest pending incoming connection that has waited at least `grace`
    // (its place is given back at once): first one that sent nothing yet; then one whose
    // handshake was answered `grace` ago and that said nothing since; last one that spoke
    // (and is not answered), which must have waited 4 x `grace`: under a flood of silent
    // connections a real peer still negotiating (MSE takes a few round trips) keeps its
    // place. When none of those is ripe, the oldest that sent nothing and has waited
    // `grace` / 10, then the oldest answered `grace` / 2 ago. False when there is none.
    bool evict_pending(Clock::time_point now, Clock::duration grace);

    int open() const;       // connections holding a place
    int half_open() const;  // outgoing connects in progress
    int pending() const;    // incoming connections whose handshake has not arrived
    int from(const Address& ip) const;  // connections counted against ip's cap

    // What the per-IP cap counts by: an IPv4 address itself, an IPv6 address's /64
    // prefix (the low 64 bits zeroed), an IPv4-mapped address's IPv4 address.
    static Address cap_key(const Address& ip);

  private:
    std::shared_ptr<State> st_;
};

const char* refusal_reason(ConnectionLimits::Refusal r);

}  // namespace pw::session
