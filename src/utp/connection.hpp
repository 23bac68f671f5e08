// One uTP connection as a pure state machine (BEP 29, congestion control per RFC 6817
// LEDBAT). No I/O and no clock of its own: the owner feeds it received packets, the
// time and the application's writes, and collects what it produces: datagrams to send,
// bytes received in order, and when it next wants a tick.
//
// Contract:
// - Times are microseconds on any monotonic clock (the owner's).
// - write() accepts at most send_space() bytes; they go out in packets of at most
//   Config::max_payload bytes, a partial packet only when nothing is in flight or after
//   nagle_us (Nagle-like coalescing), within min(congestion window, the peer's window).
// - Received bytes wait in an in-order buffer that read() drains; the window we
//   advertise is what is left of Config::recv_buffer. Out-of-order packets are kept only
//   within that window and at most max_reorder packets ahead.
// - Loss: selective ACKs and three duplicate ACKs resend a packet (fast retransmit);
//   the retransmission timeout backs off exponentially and after max_timeouts in a row
//   the connection fails. A peer silent for idle_timeout_us fails it too; keep-alives
//   go out every keepalive_us while idle. ACKs are delayed up to delayed_ack_us unless
//   flush() (the owner's end of a batch of datagrams) sends them sooner.
// - Path MTU discovery (RFC 4821 style, in the data stream): packets start at
//   Config::max_payload bytes, a size every path takes. With Config::max_probe_payload
//   above it (the owner sets it from the route's MTU) and a peer that announced larger
//   datagrams (ext_max_datagram on its SYN or the STATE answering ours), one full packet
//   at a time is a probe halfway between the largest size acked and the smallest size
//   lost. An acked probe raises the packet size, a lost one lowers the ceiling and is no
//   congestion signal. Datagrams carry Datagram::fragment_ok on resends of packets
//   larger than max_payload: the owner sends those without Don't Fragment (every other
//   datagram goes with it), so a packet the path does not carry whole still arrives. A
//   timeout drops the packet size back to max_payload and the search starts again below
//   the size that was in use.
// - Packets larger than max_payload are at most half the window (the smaller of the
//   congestion window and the peer's) while the queuing delay our packets meet is at
//   most a quarter of the LEDBAT target; above that they are at most 8 KiB and 1/64 of
//   the window, and no probes go out. A sent packet cannot be split (BEP 29's sequence
//   numbers count packets, so a resend carries the same bytes), and a queue that other
//   flows keep full may never have room for a large one again; 8 KiB is about a jumbo
//   frame's payload, a size that competes with a TCP flow's segments on equal terms and
//   keeps the per-byte cost low where the queue is our own (a receiver short of CPU).
//   The window's floor is two packets of max_payload; LEDBAT's gain (RFC 6817's MSS) is
//   the size of a full packet at the time.
// - Every peer-controlled value (windows, ack numbers, bitmask lengths) is bounded.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "utp/packet.hpp"

namespace pw::utp {

using Micros = std::uint64_t;

struct Config {
    std::size_t max_payload = 1400 - header_size - 36;  // fits a 1400-byte datagram with a SACK
    std::size_t max_probe_payload = 0;  // path MTU probing up to this payload; 0: off
    std::uint16_t recv_datagram = 65535;  // the largest datagram we take (announced to peers)
    std::size_t recv_buffer = 4u << 20;                 // bytes: what we advertise at most
    std::size_t send_buffer = 4u << 20;                 // bytes accepted from write() not yet acked
    std::size_t max_reorder = 2048;                     // packets held ahead of a gap
    std::size_t max_cwnd = 16u << 20;                   // bytes
    Micros target_delay_us = 100'000;                   // LEDBAT target
    Micros min_rto_us = 500'000;
    Micros initial_rto_us = 1'000'000;
    int max_timeouts = 7;  // in a row (with back-off ~ 2 min)
    Micros keepalive_us = 29'000'000;
    Micros idle_timeout_us = 120'000'000;
    Micros delayed_ack_us = 20'000;
    Micros nagle_us = 10'000;
};

enum class State { syn_sent, syn_recv, connected, fin_sent, closed, failed };

// A datagram the connection wants sent. fragment_ok: send it without Don't Fragment (a
// resent packet larger than the default size).
struct Datagram {
    std::string bytes;
    bool fragment_ok = false;
};

// The most payload a packet may carry within a datagram of `datagram` bytes (room left
// for the header and the largest selective ACK we send).
constexpr std::size_t payload_for_datagram(std::size_t datagram) {
    return datagram > header_size + 36 ? datagram - header_size - 36 : 0;
}

class Connection {
  public:
    // Initiator: sends a SYN. `recv_id` is the connection id we receive on; we send on
    // recv_id + 1. `isn` is our first sequence number (random).
    static Connection connect(std::uint16_t recv_id, std::uint16_t isn, Micros now, Config c = {});
    // Acceptor of a SYN: replies with a STATE. We receive on syn.conn_id + 1.
    static Connection accept(const Packet& syn, std::uint16_t isn, Micros now, Config c = {});

    // The id the peer's packets to us carry.
    std::uint16_t recv_id() const { return recv_id_; }
    State state() const { return state_; }
    bool writable() const { return state_ == State::connected; }
    // Closed or failed: nothing more will happen.
    bool done() const { return state_ == State::closed || state_ == State::failed; }
    const std::string& error() const { return error_; }

    // A packet for this connection (its conn_id is recv_id()).
    void on_packet(const Packet& p, Micros now);
    // Timers: retransmission, delayed ACK, Nagle, keep-alive, idle.
    void tick(Micros now);
    // End of a batch of received datagrams: send pending ACKs now.
    void flush(Micros now);
    // When tick() is next due.
    Micros next_tick() const;

    std::size_t send_space() const;
    std::size_t write(std::string_view bytes, Micros now);
    // Half-close after the written bytes: sends FIN once they are out.
    void shutdown(Micros now);
    // Abort: sends RESET, now failed.
    void reset(Micros now);

    // Received bytes, in order.
    std::size_t readable() const { return rbuf_.size() - rpos_; }
    std::size_t read(char* out, std::size_t n, Micros now);
    // The peer finished (FIN received and everything before it delivered) and all was read.
    bool eof() const { return got_eof_ && readable() == 0; }

    // Datagrams to send (the owner sends and clears them).
    std::vector<Datagram>& outbox() { return out_; }

    // Introspection for tests and statistics.
    std::size_t cwnd() const { return cwnd_; }
    std::size_t bytes_in_flight() const { return flight_bytes_; }
    std::size_t peer_window() const { return peer_wnd_; }
    Micros rto() const { return rto_; }
    std::uint64_t retransmits() const { return retransmits_; }
    // The payload of a full packet now (path MTU discovery moves it).
    std::size_t packet_payload() const { return payload_; }

  private:
    struct Sent {
        std::string payload;
        Type type = Type::data;
        Micros sent_at = 0;
        int transmissions = 0;
        bool acked = false;        // selectively acked (still waiting for the cumulative ACK)
        bool need_resend = false;  // a timeout declared it lost; not counted in flight
        bool fast_resent = false;  // resent for selective ACKs past it, since its last send
        bool probe = false;        // a path MTU probe not yet acked nor lost
    };

    explicit Connection(Config c) : cfg_(c) {}
    void send_packet(Type t, std::uint16_t seq, std::string_view payload, Micros now,
                     bool fragment_ok = false);
    void set_peer_datagram(std::uint16_t max_datagram);
    // The queuing delay is low enough for packets above the default size.
    bool short_queue() const;
    // The payload of a full new packet now: payload_ or less, down to max_payload, as the
    // window and the queuing delay allow.
    std::size_t full_payload() const;
    void probe_lost(Sent& s);
    void send_state(Micros now);
    void transmit(std::uint16_t seq, Micros now);
    void try_send(Micros now);
    void on_ack(const Packet& p, Micros now);
    void ack_one(Sent& s, Micros now, Micros& rtt, std::size_t& acked_bytes);
    void on_loss(Micros now);
    void on_delay_sample(std::uint32_t delay, Micros now);
    void deliver(std::string_view payload);
    void fail(std::string why);
    std::uint32_t advertised_window() const;
    std::string make_sack() const;
    Sent* find_sent(std::uint16_t seq);

    Config cfg_;
    State state_ = State::syn_sent;
    std::string error_;
    std::uint16_t recv_id_ = 0, send_id_ = 0;

    // Sending: seq_nr_ is the next sequence number; unacked_ holds seq_nr_ - size .. seq_nr_-1.
    std::uint16_t seq_nr_ = 0;
    std::deque<Sent> unacked_;
    std::string sbuf_;  // written bytes not yet packetised
    std::size_t sbuf_pos_ = 0;
    Micros sbuf_since_ = 0;    // when the oldest unsent byte was written
    bool nagle_wait_ = false;  // a partial packet waits for Nagle's timer
    std::size_t flight_bytes_ = 0;
    std::size_t unacked_payload_ = 0;  // payload bytes in unacked_
    bool shutdown_ = false, fin_queued_ = false;
    std::uint32_t peer_wnd_ = 0, prev_peer_wnd_ = 0;
    std::uint16_t last_ack_ = 0;
    int dup_acks_ = 0;
    std::uint16_t loss_seq_ = 0;  // no new window cut before this is acked
    bool in_recovery_ = false;

    // Congestion control (bytes).
    std::size_t cwnd_ = 0;
    double cwnd_f_ = 0;         // fractional bytes of LEDBAT growth not yet in cwnd_
    bool window_full_ = false;  // sending stopped at the window since the last ACK
    std::size_t ssthresh_ = ~std::size_t(0);
    bool slow_start_ = true;
    std::vector<std::uint32_t> base_delays_;  // per-minute minima, the last ones
    Micros base_minute_ = 0;
    std::uint32_t last_delay_ = 0;
    bool have_delay_ = false;

    // RTT (RFC 6298) and timers.
    Micros srtt_ = 0, rttvar_ = 0, rto_ = 0;
    bool have_rtt_ = false;
    Micros rto_deadline_ = 0;  // 0: unarmed
    int timeouts_ = 0;
    Micros last_recv_ = 0, last_send_ = 0;
    std::uint64_t retransmits_ = 0;

    // Receiving: ack_nr_ is the last seq delivered in order.
    std::uint16_t ack_nr_ = 0;
    std::deque<std::optional<std::string>> reorder_;  // [k] is seq ack_nr_ + 2 + k
    std::size_t reorder_bytes_ = 0;
    std::string rbuf_;
    std::size_t rpos_ = 0;
    std::uint32_t reply_micro_ = 0;  // our clock minus the peer's timestamp, last packet
    std::uint16_t syn_seq_ = 0;      // the peer's SYN (acceptor)
    bool got_fin_ = false, got_eof_ = false;
    std::uint16_t fin_seq_ = 0;
    int acks_owed_ = 0;
    Micros ack_deadline_ = 0;  // 0: no ACK owed
    std::uint32_t last_wnd_sent_ = 0;
    bool our_fin_acked_ = false;

    // Path MTU discovery: payload_ is the size of a full packet (acked on this path);
    // probes try sizes above it, below probe_ceiling_ (0: no probing).
    std::size_t payload_ = 0;
    std::size_t probe_ceiling_ = 0;
    bool probing_ = false;

    std::vector<Datagram> out_;
};

}  // namespace pw::utp
