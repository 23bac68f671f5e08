#include "utp/connection.hpp"

#include <algorithm>
#include <cstring>

namespace pw::utp {

namespace {

constexpr std::size_t max_unacked = 8192;  // packets in flight: far inside the 16-bit space
constexpr std::size_t max_sack_sent = 32;  // bytes of bitmask we send (256 packets)
constexpr Micros max_rto_us = 60'000'000;
constexpr std::size_t base_history = 10;  // minutes of base delay (RFC 6817 BASE_HISTORY)
// Packets above the default size: none larger than the window over
// large_packets_per_window while the queuing delay is at most the target over
// large_packet_delay_div; above it none larger than queued_packet_max nor the window
// over queued_packets_per_window. queued_packet_max is about a jumbo frame's payload,
// the size that competes on equal terms with a TCP flow's segments there.
constexpr Micros large_packet_delay_div = 4;
constexpr std::size_t large_packets_per_window = 2;
constexpr std::size_t queued_packets_per_window = 64;
constexpr std::size_t queued_packet_max = 8192;

std::uint16_t u16(int v) {
    return static_cast<std::uint16_t>(v);
}

}  // namespace

Connection Connection::connect(std::uint16_t recv_id, std::uint16_t isn, Micros now, Config c) {
    Connection k(c);
    k.recv_id_ = recv_id;
    k.send_id_ = u16(recv_id + 1);
    k.seq_nr_ = isn;
    k.state_ = State::syn_sent;
    k.payload_ = c.max_payload;
    k.cwnd_ = 4 * c.max_payload;
    k.peer_wnd_ = static_cast<std::uint32_t>(c.max_payload);
    k.rto_ = c.initial_rto_us;
    k.last_recv_ = now;
    Sent syn;
    syn.type = Type::syn;
    k.unacked_.push_back(std::move(syn));
    k.seq_nr_ = u16(k.seq_nr_ + 1);
    k.transmit(isn, now);
    return k;
}

Connection Connection::accept(const Packet& syn, std::uint16_t isn, Micros now, Config c) {
    Connection k(c);
    k.recv_id_ = u16(syn.h.conn_id + 1);
    k.send_id_ = syn.h.conn_id;
    k.seq_nr_ = isn;
    k.ack_nr_ = syn.h.seq_nr;
    k.syn_seq_ = syn.h.seq_nr;
    k.last_ack_ = u16(isn - 1);
    k.state_ = State::syn_recv;
    k.payload_ = c.max_payload;
    k.set_peer_datagram(syn.max_datagram);
    k.cwnd_ = 4 * c.max_payload;
    k.peer_wnd_ = std::min<std::uint32_t>(syn.h.wnd_size, static_cast<std::uint32_t>(c.max_cwnd));
    k.rto_ = c.initial_rto_us;
    k.last_recv_ = now;
    k.reply_micro_ = static_cast<std::uint32_t>(now) - syn.h.timestamp_us;
    k.send_state(now);
    return k;
}

void Connection::set_peer_datagram(std::uint16_t max_datagram) {
    std::size_t ceiling = std::min(cfg_.max_probe_payload, payload_for_datagram(max_datagram));
    probe_ceiling_ = ceiling > payload_ ? ceiling : 0;
}

void Connection::probe_lost(Sent& s) {
    // Larger than the path carries (or lost anyway: the next probe is smaller).
    s.probe = false;
    probing_ = false;
    if (s.payload.size() > payload_) probe_ceiling_ = std::min(probe_ceiling_, s.payload.size() - 1);
}

bool Connection::short_queue() const {
    return !have_delay_ || last_delay_ <= cfg_.target_delay_us / large_packet_delay_div;
}

std::size_t Connection::full_payload() const {
    // A packet's sequence number names its bytes, so a lost packet is resent whole; a queue
    // that other flows keep full may never have room for a large one again. Behind a
    // queue packets are therefore small: a small share of the window, and at most about a
    // jumbo frame's payload (not the default size: the queue may be our own, a receiver
    // short of CPU, which smaller packets would slow down further).
    if (payload_ <= cfg_.max_payload) return payload_;
    const std::size_t window = std::min<std::size_t>(cwnd_, peer_wnd_);
    const std::size_t share = short_queue()
                                  ? window / large_packets_per_window
                                  : std::min(window / queued_packets_per_window, queued_packet_max);
    return std::clamp(share, cfg_.max_payload, payload_);
}

std::uint32_t Connection::advertised_window() const {
    std::size_t used = readable() + reorder_bytes_;
    return used >= cfg_.recv_buffer ? 0 : static_cast<std::uint32_t>(cfg_.recv_buffer - used);
}

std::string Connection::make_sack() const {
    // reorder_[0] is ack_nr_ + 1 (missing); bit i is ack_nr_ + 2 + i = reorder_[1 + i].
    if (reorder_.size() < 2) return {};
    std::size_t bits = std::min(reorder_.size() - 1, max_sack_sent * 8);
    std::size_t bytes = (bits + 7) / 8;
    bytes = (bytes + 3) / 4 * 4;
    std::string mask(bytes, '\0');
    for (std::size_t i = 0; i < bits; ++i)
        if (reorder_[1 + i]) mask[i / 8] = static_cast<char>(mask[i / 8] | (1 << (i % 8)));
    return mask;
}

void Connection::send_packet(Type t, std::uint16_t seq, std::string_view payload, Micros now,
                             bool fragment_ok) {
    Header h;
    h.type = t;
    h.conn_id = t == Type::syn ? recv_id_ : send_id_;
    h.timestamp_us = static_cast<std::uint32_t>(now);
    h.timestamp_diff_us = reply_micro_;
    h.wnd_size = advertised_window();
    h.seq_nr = seq;
    h.ack_nr = t == Type::syn ? 0 : ack_nr_;
    std::string sack = t == Type::syn ? std::string() : make_sack();
    // The handshake announces the largest datagram we take.
    const bool handshake = t == Type::syn || (t == Type::state && state_ == State::syn_recv);
    Datagram d;
    d.fragment_ok = fragment_ok;
    d.bytes.reserve(header_size + 2 + sack.size() + 2 + ext_bits_size + 4 + payload.size());
    encode(d.bytes, h, sack, payload, handshake ? cfg_.recv_datagram : 0);
    out_.push_back(std::move(d));
    last_send_ = now;
    if (t != Type::syn && t != Type::reset) {
        acks_owed_ = 0;
        ack_deadline_ = 0;
        last_wnd_sent_ = h.wnd_size;
    }
}

void Connection::send_state(Micros now) {
    send_packet(Type::state, seq_nr_, {}, now);
}

Connection::Sent* Connection::find_sent(std::uint16_t seq) {
    std::uint16_t oldest = u16(seq_nr_ - static_cast<int>(unacked_.size()));
    std::size_t i = static_cast<std::uint16_t>(seq - oldest);
    return i < unacked_.size() ? &unacked_[i] : nullptr;
}

void Connection::transmit(std::uint16_t seq, Micros now) {
    Sent* s = find_sent(seq);
    if (!s) return;
    if (s->transmissions > 0) ++retransmits_;
    ++s->transmissions;
    s->sent_at = now;
    s->fast_resent = false;
    if (s->need_resend || s->transmissions == 1) flight_bytes_ += s->payload.size();
    s->need_resend = false;
    // A resend of a packet above the default size may be larger than the path carries
    // (a lost probe, a path that shrank): it goes out fragmentable.
    send_packet(s->type, seq, s->payload, now,
                s->transmissions > 1 && s->payload.size() > cfg_.max_payload);
    if (rto_deadline_ == 0) rto_deadline_ = now + rto_;
}

std::size_t Connection::send_space() const {
    std::size_t used = (sbuf_.size() - sbuf_pos_) + unacked_payload_;
    return used >= cfg_.send_buffer ? 0 : cfg_.send_buffer - used;
}

std::size_t Connection::write(std::string_view bytes, Micros now) {
    if (shutdown_ || done()) return 0;
    std::size_t n = std::min(bytes.size(), send_space());
    if (n == 0) return 0;
    if (sbuf_pos_ == sbuf_.size()) {
        sbuf_.clear();
        sbuf_pos_ = 0;
        sbuf_since_ = now;
    } else if (sbuf_pos_ > (1u << 20) && sbuf_pos_ * 2 > sbuf_.size()) {
        sbuf_.erase(0, sbuf_pos_);
        sbuf_pos_ = 0;
    }
    sbuf_.append(bytes.data(), n);
    try_send(now);
    return n;
}

void Connection::try_send(Micros now) {
    nagle_wait_ = false;
    if (state_ != State::connected && state_ != State::fin_sent) return;
    const std::size_t window = std::min<std::size_t>(cwnd_, peer_wnd_);
    const std::size_t full = full_payload();
    // Packets a timeout declared lost go first.
    for (std::size_t i = 0; i < unacked_.size(); ++i) {
        Sent& s = unacked_[i];
        if (!s.need_resend || s.acked) continue;
        if (flight_bytes_ > 0 && flight_bytes_ + s.payload.size() > window) {
            window_full_ = true;
            return;
        }
        transmit(u16(seq_nr_ - static_cast<int>(unacked_.size()) + static_cast<int>(i)), now);
    }
    while (sbuf_pos_ < sbuf_.size() && unacked_.size() < max_unacked && !fin_queued_) {
        const std::size_t avail = sbuf_.size() - sbuf_pos_;
        std::size_t n = std::min(full, avail);
        bool probe = false;
        if (!probing_ && full == payload_ && short_queue() &&
            probe_ceiling_ > payload_ + std::max<std::size_t>(payload_ / 64, 16)) {
            // A path MTU probe: halfway to the ceiling, full, within a share of the window
            // (as any large packet).
            std::size_t size = payload_ + (probe_ceiling_ - payload_ + 1) / 2;
            if (avail >= size && size <= window / large_packets_per_window) {
                if (flight_bytes_ + size > window) {  // wait for the room
                    window_full_ = true;
                    break;
                }
                n = size;
                probe = true;
            }
        }
        if (n < full && flight_bytes_ > 0 && now < sbuf_since_ + cfg_.nagle_us) {
            nagle_wait_ = true;
            break;
        }
        if (flight_bytes_ + n > window) {
            window_full_ = true;
            if (flight_bytes_ > 0) break;
            // Nothing in flight: send what the peer's window takes; a closed window is
            // probed by the retransmission timer.
            if (peer_wnd_ == 0) {
                if (rto_deadline_ == 0) rto_deadline_ = now + rto_;
                break;
            }
            n = std::min<std::size_t>(n, std::max<std::size_t>(window, 1));
        }
        Sent s;
        s.probe = probe;
        probing_ = probing_ || probe;
        s.payload.assign(sbuf_, sbuf_pos_, n);
        sbuf_pos_ += n;
        sbuf_since_ = now;
        unacked_payload_ += n;
        unacked_.push_back(std::move(s));
        std::uint16_t seq = seq_nr_;
        seq_nr_ = u16(seq_nr_ + 1);
        transmit(seq, now);
    }
    if (shutdown_ && !fin_queued_ && sbuf_pos_ == sbuf_.size() && unacked_.size() < max_unacked) {
        fin_queued_ = true;
        state_ = State::fin_sent;
        Sent s;
        s.type = Type::fin;
        unacked_.push_back(std::move(s));
        std::uint16_t seq = seq_nr_;
        seq_nr_ = u16(seq_nr_ + 1);
        transmit(seq, now);
    }
}

void Connection::shutdown(Micros now) {
    if (done() || shutdown_) return;
    shutdown_ = true;
    if (state_ == State::syn_sent || state_ == State::syn_recv) {
        state_ = State::closed;
        return;
    }
    try_send(now);
}

void Connection::reset(Micros now) {
    if (done()) return;
    send_packet(Type::reset, seq_nr_, {}, now);
    fail("reset");
}

void Connection::fail(std::string why) {
    state_ = State::failed;
    error_ = std::move(why);
    rto_deadline_ = 0;
    ack_deadline_ = 0;
}

void Connection::deliver(std::string_view payload) {
    if (rpos_ > 0 && rpos_ == rbuf_.size()) {
        rbuf_.clear();
        rpos_ = 0;
    }
    rbuf_.append(payload);
}

std::size_t Connection::read(char* out, std::size_t n, Micros now) {
    n = std::min(n, readable());
    std::memcpy(out, rbuf_.data() + rpos_, n);
    rpos_ += n;
    if (rpos_ == rbuf_.size()) {
        rbuf_.clear();
        rpos_ = 0;
    } else if (rpos_ > (1u << 20) && rpos_ * 2 > rbuf_.size()) {
        rbuf_.erase(0, rpos_);
        rpos_ = 0;
    }
    // A window that opened by a quarter of the buffer since we last said: tell the peer.
    if ((state_ == State::connected || state_ == State::fin_sent) &&
        advertised_window() >= last_wnd_sent_ + cfg_.recv_buffer / 4)
        send_state(now);
    return n;
}

void Connection::on_delay_sample(std::uint32_t d, Micros now) {
    Micros minute = now / 60'000'000;
    if (base_delays_.empty() || minute != base_minute_) {
        base_delays_.push_back(d);
        base_minute_ = minute;
        if (base_delays_.size() > base_history) base_delays_.erase(base_delays_.begin());
    } else {
        base_delays_.back() = std::min(base_delays_.back(), d);
    }
    std::uint32_t base = *std::min_element(base_delays_.begin(), base_delays_.end());
    last_delay_ = d - base;
    have_delay_ = true;
}

void Connection::on_loss(Micros) {
    // One window cut per window of data (packets sent after the loss was seen).
    if (in_recovery_ && seq_less(last_ack_, loss_seq_)) return;
    cwnd_ = std::max(cwnd_ / 2, 2 * cfg_.max_payload);
    ssthresh_ = cwnd_;
    slow_start_ = false;
    in_recovery_ = true;
    loss_seq_ = seq_nr_;
}

void Connection::ack_one(Sent& s, Micros now, Micros& rtt, std::size_t& acked_bytes) {
    if (s.acked) return;
    s.acked = true;
    if (!s.need_resend && s.transmissions > 0)
        flight_bytes_ -= std::min(flight_bytes_, s.payload.size());
    unacked_payload_ -= std::min(unacked_payload_, s.payload.size());
    acked_bytes += s.payload.size();
    if (s.transmissions == 1) rtt = now - s.sent_at;  // Karn: only packets sent once
    if (s.type == Type::fin) our_fin_acked_ = true;
    if (s.probe) {  // the path carries this size
        s.probe = false;
        probing_ = false;
        payload_ = std::max(payload_, s.payload.size());
    }
}

void Connection::on_ack(const Packet& p, Micros now) {
    const std::uint16_t oldest = u16(seq_nr_ - static_cast<int>(unacked_.size()));
    const std::size_t d = static_cast<std::uint16_t>(p.h.ack_nr - u16(oldest - 1));
    if (d > unacked_.size()) return;  // acks what we never sent (or long ago): ignore
    Micros rtt = 0;
    std::size_t acked_bytes = 0;
    const std::size_t flight_before = flight_bytes_;
    const std::size_t full = full_payload();  // LEDBAT's MSS: the size in use before this ACK
    for (std::size_t i = 0; i < d; ++i) {
        ack_one(unacked_.front(), now, rtt, acked_bytes);
        unacked_.pop_front();
    }
    bool lost = false;
    if (d == 0 && !unacked_.empty() && p.h.type == Type::state && p.payload.empty() &&
        p.sack.empty() && p.h.ack_nr == last_ack_ && peer_wnd_ == prev_peer_wnd_) {
        // A duplicate ACK (not a window update) while data is in flight.
        if (++dup_acks_ == 3 && !unacked_.front().acked) {
            Sent& s = unacked_.front();
            if (s.probe)
                probe_lost(s);  // no congestion signal
            else
                lost = true;
            transmit(u16(p.h.ack_nr + 1), now);
        }
    } else if (d > 0) {
        dup_acks_ = 0;
    }
    last_ack_ = p.h.ack_nr;
    if (!p.sack.empty() && !unacked_.empty()) {
        // Bit i acks ack_nr + 2 + i; unacked_[0] is now ack_nr + 1.
        std::size_t bits = std::min(p.sack.size() * 8, unacked_.size() - 1);
        std::size_t highest = 0;
        for (std::size_t i = 0; i < bits; ++i)
            if (static_cast<unsigned char>(p.sack[i / 8]) & (1u << (i % 8))) {
                ack_one(unacked_[1 + i], now, rtt, acked_bytes);
                highest = 1 + i;
            }
        // A packet with three or more selectively acked packets after it is lost.
        int after = 0;
        for (std::size_t k = highest + 1; k-- > 0;) {
            Sent& s = unacked_[k];
            if (s.acked) {
                ++after;
            } else if (after >= 3 && !s.fast_resent && !s.need_resend) {
                if (s.probe)
                    probe_lost(s);  // no congestion signal
                else
                    lost = true;
                transmit(u16(p.h.ack_nr + 1 + static_cast<int>(k)), now);
                s.fast_resent = true;
            }
        }
    }
    if (rtt > 0 || (d > 0 && rtt == 0 && acked_bytes > 0)) {
        if (rtt == 0) rtt = 1;
        if (!have_rtt_) {
            srtt_ = rtt;
            rttvar_ = rtt / 2;
            have_rtt_ = true;
        } else {
            Micros diff = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
            rttvar_ = (3 * rttvar_ + diff) / 4;
            srtt_ = (7 * srtt_ + rtt) / 8;
        }
        rto_ = std::max(cfg_.min_rto_us, srtt_ + 4 * rttvar_);
    }
    if (lost) on_loss(now);
    if (acked_bytes > 0) {
        timeouts_ = 0;
        if (in_recovery_ && !seq_less(p.h.ack_nr, loss_seq_)) in_recovery_ = false;
        // LEDBAT: grow (or shrink) by how far the queuing delay is from the target; only
        // while the window was what limited sending.
        if (window_full_ || flight_before + acked_bytes + full >= cwnd_) {
            double queuing = have_delay_ ? static_cast<double>(last_delay_) : 0.0;
            double target = static_cast<double>(cfg_.target_delay_us);
            if (slow_start_ && queuing < target / 2) {
                cwnd_ += acked_bytes;
                if (cwnd_ >= ssthresh_) slow_start_ = false;
            } else {
                slow_start_ = false;
                double off = std::clamp((target - queuing) / target, -1.0, 1.0);
                double delta = off * static_cast<double>(acked_bytes) * static_cast<double>(full) /
                               static_cast<double>(cwnd_);
                cwnd_f_ += delta;
                if (cwnd_f_ >= 1.0 || cwnd_f_ <= -1.0) {
                    auto whole = static_cast<long long>(cwnd_f_);
                    cwnd_f_ -= static_cast<double>(whole);
                    cwnd_ = static_cast<std::size_t>(
                        std::max<long long>(static_cast<long long>(cwnd_) + whole, 0));
                }
            }
            cwnd_ = std::clamp(cwnd_, std::min(2 * cfg_.max_payload, cfg_.max_cwnd), cfg_.max_cwnd);
        }
        window_full_ = false;
    }
    if (unacked_.empty())
        rto_deadline_ = 0;
    else if (acked_bytes > 0 || d > 0)
        rto_deadline_ = now + rto_;
}

void Connection::on_packet(const Packet& p, Micros now) {
    if (done()) return;
    last_recv_ = now;
    if (p.h.type == Type::reset) {
        fail("reset by peer");
        return;
    }
    if (p.h.type == Type::syn) {
        // Our STATE reply was lost: the peer sends its SYN again.
        if (state_ != State::syn_sent && p.h.seq_nr == syn_seq_) send_state(now);
        return;
    }
    if (state_ == State::syn_sent) {
        if (p.h.type != Type::state) return;
        ack_nr_ = u16(p.h.seq_nr - 1);
        set_peer_datagram(p.max_datagram);
        state_ = State::connected;
    } else if (state_ == State::syn_recv) {
        state_ = State::connected;
    }
    reply_micro_ = static_cast<std::uint32_t>(now) - p.h.timestamp_us;
    prev_peer_wnd_ = peer_wnd_;
    peer_wnd_ = std::min<std::uint32_t>(p.h.wnd_size, static_cast<std::uint32_t>(cfg_.max_cwnd));
    if (p.h.timestamp_diff_us != 0) on_delay_sample(p.h.timestamp_diff_us, now);
    on_ack(p, now);

    if (p.h.type == Type::data || p.h.type == Type::fin) {
        const std::uint16_t d = static_cast<std::uint16_t>(p.h.seq_nr - ack_nr_ - 1);
        bool immediate = false;
        if (got_fin_ && !seq_less(p.h.seq_nr, u16(fin_seq_ + 1))) {
            // Past the peer's FIN: nothing may come after it.
        } else if (d >= 0x8000) {
            immediate = true;  // a duplicate: our ACK may have been lost
        } else if (p.payload.size() > advertised_window()) {
            immediate = true;  // over the window we advertised: dropped
        } else if (d >= cfg_.max_reorder) {
            immediate = true;
        } else {
            if (p.h.type == Type::fin) {
                got_fin_ = true;
                fin_seq_ = p.h.seq_nr;
            }
            if (d == 0) {
                deliver(p.payload);
                ack_nr_ = p.h.seq_nr;
                if (!reorder_.empty()) reorder_.pop_front();
                while (!reorder_.empty() && reorder_.front()) {
                    reorder_bytes_ -= reorder_.front()->size();
                    deliver(*reorder_.front());
                    reorder_.pop_front();
                    ack_nr_ = u16(ack_nr_ + 1);
                }
                if (got_fin_ && ack_nr_ == fin_seq_) {
                    got_eof_ = true;
                    immediate = true;
                }
            } else {
                if (reorder_.size() <= d) reorder_.resize(d + 1);
                if (!reorder_[d]) {
                    reorder_[d] = std::string(p.payload);
                    reorder_bytes_ += p.payload.size();
                }
                immediate = true;  // the sender learns of the gap now (selective ACK)
            }
        }
        ++acks_owed_;
        if (immediate || acks_owed_ >= 2)
            send_state(now);
        else if (ack_deadline_ == 0)
            ack_deadline_ = now + cfg_.delayed_ack_us;
    }
    try_send(now);
    if (state_ == State::fin_sent && our_fin_acked_ && got_eof_) state_ = State::closed;
}

void Connection::flush(Micros now) {
    if (!done() && ack_deadline_ != 0) send_state(now);
}

void Connection::tick(Micros now) {
    if (done()) return;
    if (now >= last_recv_ + cfg_.idle_timeout_us) {
        fail("timed out (peer silent)");
        return;
    }
    if (rto_deadline_ != 0 && now >= rto_deadline_) {
        if (++timeouts_ > cfg_.max_timeouts) {
            fail("timed out");
            return;
        }
        rto_ = std::min(rto_ * 2, max_rto_us);
        rto_deadline_ = now + rto_;
        if (state_ == State::syn_sent) {
            transmit(u16(seq_nr_ - 1), now);
        } else if (state_ == State::syn_recv) {
            send_state(now);
        } else {
            // Everything in flight is presumed lost; start again from one packet.
            for (auto& s : unacked_) {
                if (!s.acked && s.transmissions > 0) s.need_resend = true;
                if (s.probe) probe_lost(s);
            }
            if (payload_ > cfg_.max_payload) {
                // The path may carry less than it did: back to the default size, and
                // probe again below the size that was in use.
                probe_ceiling_ = payload_ - 1;
                payload_ = cfg_.max_payload;
            }
            flight_bytes_ = 0;
            ssthresh_ = std::max(cwnd_ / 2, 2 * cfg_.max_payload);
            cwnd_ = payload_;
            slow_start_ = true;
            in_recovery_ = false;
            if (unacked_.empty() && sbuf_pos_ < sbuf_.size() && peer_wnd_ < payload_) {
                // Probe a closed window with one packet.
                peer_wnd_ = static_cast<std::uint32_t>(payload_);
            }
            try_send(now);
        }
    }
    if (ack_deadline_ != 0 && now >= ack_deadline_) send_state(now);
    try_send(now);  // Nagle's timer
    if ((state_ == State::connected || state_ == State::fin_sent) &&
        now >= last_send_ + cfg_.keepalive_us)
        send_state(now);
}

Micros Connection::next_tick() const {
    if (done()) return ~Micros(0);
    Micros t = last_recv_ + cfg_.idle_timeout_us;
    if (state_ == State::connected || state_ == State::fin_sent)
        t = std::min(t, last_send_ + cfg_.keepalive_us);
    if (rto_deadline_ != 0) t = std::min(t, rto_deadline_);
    if (ack_deadline_ != 0) t = std::min(t, ack_deadline_);
    if (nagle_wait_) t = std::min(t, sbuf_since_ + cfg_.nagle_us);
    return t;
}

}  // namespace pw::utp
