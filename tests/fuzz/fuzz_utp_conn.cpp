// libFuzzer target for the uTP connection state machine (src/utp/connection): the input
// is a script of steps against one connection (as initiator or acceptor): a packet
// from the peer (header fields, a selective ACK and a payload taken from the input), the
// clock moving on, an application write, read, shutdown or reset. It checks the
// machine's promises: no crash or hang, what it holds stays within its bounds (bytes in
// flight within the congestion window's bound, received bytes within the receive
// buffer, the send buffer within its size), and every datagram it sends decodes and stays
// within the largest packet path MTU probing may make. Probing is on (up to 8000 bytes of
// payload); whether the peer announces larger datagrams comes from bits of the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "utp/connection.hpp"

using namespace pw::utp;

namespace {

struct Reader {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t u8() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) << 16 | u16(); }
    std::string_view bytes(std::size_t k) {
        k = std::min(k, n);
        std::string_view s(reinterpret_cast<const char*>(p), k);
        p += k;
        n -= k;
        return s;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader r{data, size};
    Config c;
    c.recv_buffer = 64 * 1024;  // small bounds so the fuzzer reaches them
    c.send_buffer = 64 * 1024;
    c.max_reorder = 64;
    c.max_probe_payload = 8000;
    const std::size_t max_datagram = header_size + 36 + c.max_probe_payload;
    Micros now = 1'000'000;
    const bool initiator = r.u8() & 1;
    std::uint16_t base_seq = r.u16();
    Connection conn = [&] {
        if (initiator) return Connection::connect(100, base_seq, now, c);
        Packet syn;
        syn.h.type = Type::syn;
        syn.h.conn_id = 99;
        syn.h.seq_nr = base_seq;
        syn.h.wnd_size = r.u32();
        syn.max_datagram = (syn.h.wnd_size & 1) ? 65535 : static_cast<std::uint16_t>(syn.h.wnd_size >> 16);
        return Connection::accept(syn, 500, now, c);
    }();
    std::string payload_buf(4096, 'p');
    char rbuf[8192];
    for (int steps = 0; r.n > 0 && steps < 2000; ++steps) {
        switch (r.u8() % 7) {
            case 0:
            case 1: {  // a packet from the peer, near the numbers in use
                Packet p;
                p.h.type = static_cast<Type>(r.u8() % 5);
                p.h.conn_id = conn.recv_id();
                p.h.timestamp_us = r.u32();
                p.h.timestamp_diff_us = r.u32();
                p.h.wnd_size = r.u32();
                std::uint8_t mode = r.u8();
                p.h.seq_nr = static_cast<std::uint16_t>((mode & 1 ? base_seq : 500) + r.u8() - 16);
                p.h.ack_nr = static_cast<std::uint16_t>((mode & 2 ? base_seq : 500) + r.u8() - 16);
                p.max_datagram = (mode & 4) ? 65535 : (mode & 8) ? 3000 : 0;
                std::string sack(r.u8() % 12, '\0');
                for (auto& b : sack) b = static_cast<char>(r.u8());
                p.sack = sack;
                p.payload = std::string_view(payload_buf).substr(0, r.u16() % 3000);
                conn.on_packet(p, now);
                break;
            }
            case 2:
                now += r.u32() % 5'000'000;
                conn.tick(now);
                break;
            case 3:
                conn.write(std::string_view(payload_buf).substr(0, r.u16() % 4096), now);
                break;
            case 4:
                conn.read(rbuf, r.u16() % sizeof rbuf, now);
                break;
            case 5:
                conn.flush(now);
                break;
            case 6:
                if (r.u8() % 8 == 0)
                    conn.shutdown(now);
                else if (r.u8() % 32 == 0)
                    conn.reset(now);
                break;
        }
        if (conn.readable() > c.recv_buffer) __builtin_trap();
        if (conn.cwnd() > c.max_cwnd) __builtin_trap();
        if (conn.bytes_in_flight() > c.send_buffer) __builtin_trap();
        if (conn.next_tick() < now && !conn.done()) {
            // A tick due now must make progress: ticking moves the deadline on.
            conn.tick(now);
            if (conn.next_tick() < now && !conn.done()) {
                fprintf(stderr, "state %d next %llu now %llu rto %llu\n", (int)conn.state(),
                        (unsigned long long)conn.next_tick(), (unsigned long long)now,
                        (unsigned long long)conn.rto());
                __builtin_trap();
            }
        }
        for (auto& d : conn.outbox())
            if (!decode(d.bytes) || d.bytes.size() > max_datagram) __builtin_trap();
        conn.outbox().clear();
    }
    return 0;
}
