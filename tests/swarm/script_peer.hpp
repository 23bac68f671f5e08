// Scripted peers for wire-compatibility tests (leniency, BEP 6 fast extension).
//
// ScriptPeer listens and plays a seed whose behaviour the test writes: the reserved
// bytes of its handshake, the messages it sends first, and a hook called for every
// message it receives, which returns the bytes to send back (by default a REQUEST is
// answered with the block). RawClient dials a session and reads its messages one by one.
// Both use plain blocking POSIX sockets with receive timeouts, so they always stop.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "meta/metainfo.hpp"
#include "wire/messages.hpp"

namespace swarm_test {

// One message as received: its id byte and the first three integers of its body.
struct WireMsg {
    std::uint8_t id = 0;
    std::uint32_t a = 0, b = 0, c = 0;
    std::string body;  // the whole body after the id
};

inline std::optional<WireMsg> decode_body(const std::string& body) {
    if (body.empty()) return std::nullopt;
    WireMsg m;
    m.id = static_cast<std::uint8_t>(body[0]);
    m.body = body.substr(1);
    auto be32 = [&](std::size_t off) {
        std::uint32_t v = 0;
        if (off + 4 <= m.body.size()) std::memcpy(&v, m.body.data() + off, 4);
        return ntohl(v);
    };
    m.a = be32(0);
    m.b = be32(4);
    m.c = be32(8);
    return m;
}

inline bool send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (w <= 0) return false;
        off += static_cast<std::size_t>(w);
    }
    return true;
}

// Reads exactly n bytes, retrying on receive timeouts until `deadline`.
inline bool read_exact(int fd, char* p, std::size_t n,
                       std::chrono::steady_clock::time_point deadline,
                       const std::atomic<bool>* stop = nullptr) {
    while (n > 0) {
        ssize_t r = ::recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= static_cast<std::size_t>(r);
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR) && !(stop && *stop) &&
                   std::chrono::steady_clock::now() < deadline) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

inline void set_rcv_timeout(int fd) {
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Reads one message (keep-alives skipped); nullopt on close or when `limit` passes.
inline std::optional<WireMsg> read_message(int fd, std::chrono::milliseconds limit,
                                           const std::atomic<bool>* stop = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        char len_buf[4];
        if (!read_exact(fd, len_buf, 4, deadline, stop)) return std::nullopt;
        std::uint32_t len;
        std::memcpy(&len, len_buf, 4);
        len = ntohl(len);
        if (len > (1u << 20)) return std::nullopt;
        if (len == 0) continue;
        std::string body(len, '\0');
        if (!read_exact(fd, body.data(), len, deadline, stop)) return std::nullopt;
        return decode_body(body);
    }
}

// Encoded messages to send from a scripted peer.
inline std::string msg(pw::wire::MsgId id) {
    std::string m;
    pw::wire::put_simple(m, id);
    return m;
}
inline std::string have(std::uint32_t i) {
    std::string m;
    pw::wire::put_have(m, i);
    return m;
}
inline std::string request(std::uint32_t piece, std::uint32_t begin, std::uint32_t length) {
    std::string m;
    pw::wire::put_request(m, piece, begin, length);
    return m;
}

inline std::string all_bits(int n) {
    std::string bits(static_cast<std::size_t>((n + 7) / 8), '\xff');
    if (n % 8) bits.back() = static_cast<char>(0xff << (8 - n % 8));
    return bits;
}

// Bits for pieces [0, upto).
inline std::string prefix_bits(int n, int upto) {
    std::string bits(static_cast<std::size_t>((n + 7) / 8), '\0');
    for (int i = 0; i < upto && i < n; ++i)
        bits[static_cast<std::size_t>(i / 8)] |= static_cast<char>(0x80 >> (i % 8));
    return bits;
}

class ScriptPeer {
  public:
    // Called for every message received; returns the bytes to send back.
    using Hook = std::function<std::string(ScriptPeer&, const WireMsg&)>;

    ScriptPeer(const std::string& ip, pw::meta::Metainfo m, std::string payload,
               std::array<std::uint8_t, 8> reserved, std::string prelude, Hook hook = {})
        : meta_(std::move(m)),
          payload_(std::move(payload)),
          reserved_(reserved),
          prelude_(std::move(prelude)),
          hook_(std::move(hook)) {
        lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(lfd_, 8);
        socklen_t len = sizeof a;
        ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        set_rcv_timeout(lfd_);
        thread_ = std::thread([this] { run(); });
    }
    ~ScriptPeer() {
        stop_ = true;
        thread_.join();
        ::close(lfd_);
    }
    std::uint16_t port() const { return port_; }
    int connections() const { return connections_; }  // that sent a BitTorrent handshake
    std::string endpoint(const std::string& ip) const { return ip + ":" + std::to_string(port_); }

    // The PIECE message answering a request.
    std::string block(std::uint32_t index, std::uint32_t begin, std::uint32_t length) {
        std::int64_t off = std::int64_t(index) * meta_.piece_length + begin;
        if (off + length > static_cast<std::int64_t>(payload_.size())) return {};
        std::string msg;
        pw::wire::put_piece_header(msg, index, begin, length);
        msg += payload_.substr(static_cast<std::size_t>(off), length);
        ++blocks_sent_;
        return msg;
    }
    int blocks_sent() const { return blocks_sent_; }
    // Messages received with this id (over all connections).
    std::vector<WireMsg> received(std::uint8_t id) const {
        std::lock_guard lock(mu_);
        std::vector<WireMsg> out;
        for (auto& m : received_)
            if (m.id == id) out.push_back(m);
        return out;
    }
    std::array<std::uint8_t, 8> their_reserved() const {
        std::lock_guard lock(mu_);
        return their_reserved_;
    }

  private:
    void run() {
        while (!stop_) {
            int fd = ::accept(lfd_, nullptr, nullptr);
            if (fd < 0) continue;
            set_rcv_timeout(fd);
            serve(fd);
            ::close(fd);
        }
    }
    void serve(int fd) {
        char hs[pw::wire::handshake_size];
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        if (!read_exact(fd, hs, sizeof hs, deadline, &stop_)) return;
        // Plaintext only: like real clients, hang up on anything else (an MSE handshake,
        // which the session then retries in plaintext). Only BitTorrent sessions count.
        auto theirs = pw::wire::decode_handshake(std::string_view(hs, sizeof hs));
        if (!theirs) return;
        ++connections_;
        {
            std::lock_guard lock(mu_);
            their_reserved_ = theirs->reserved;
        }
        pw::wire::Handshake ours;
        ours.info_hash = meta_.info_hash;
        ours.reserved = reserved_;
        // Unique per ScriptPeer (its port), so that two are not one peer to the session.
        std::string id = "-SP0001-" + std::to_string(100000000000ull + port_);
        std::memcpy(ours.peer_id.data(), id.data(), 20);
        if (!send_all(fd, pw::wire::encode_handshake(ours) + prelude_)) return;
        while (!stop_) {
            auto m = read_message(fd, std::chrono::seconds(60), &stop_);
            if (!m) return;
            {
                std::lock_guard lock(mu_);
                if (received_.size() < 100000) received_.push_back(*m);
            }
            std::string reply;
            if (hook_)
                reply = hook_(*this, *m);
            else if (m->id == 6)
                reply = block(m->a, m->b, m->c);
            if (!reply.empty() && !send_all(fd, reply)) return;
        }
    }

    pw::meta::Metainfo meta_;
    std::string payload_;
    std::array<std::uint8_t, 8> reserved_;
    std::string prelude_;
    Hook hook_;
    int lfd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> blocks_sent_{0};
    mutable std::mutex mu_;
    std::vector<WireMsg> received_;
    std::array<std::uint8_t, 8> their_reserved_{};
    std::thread thread_;
};

// A peer that dials a session: handshake, then messages one at a time.
class RawClient {
  public:
    // Dials ip:port from `local_ip` (the address the session sees, e.g. for BEP 6 sets).
    RawClient(const std::string& ip, std::uint16_t port, const std::string& local_ip = "") {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        set_rcv_timeout(fd_);
        if (!local_ip.empty()) {
            sockaddr_in l{};
            l.sin_family = AF_INET;
            ::inet_pton(AF_INET, local_ip.c_str(), &l.sin_addr);
            if (::bind(fd_, reinterpret_cast<sockaddr*>(&l), sizeof l) != 0) return;
        }
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;
    bool ok() const { return ok_; }
    bool send(const std::string& s) { return send_all(fd_, s); }
    // Sends our handshake and reads theirs. `id_tail`: the last character of our peer id
    // (several clients of one session need distinct ids).
    std::optional<pw::wire::Handshake> handshake(const pw::Sha1Digest& ih,
                                                 std::array<std::uint8_t, 8> reserved,
                                                 char id_tail = '0') {
        pw::wire::Handshake h;
        h.info_hash = ih;
        h.reserved = reserved;
        std::memcpy(h.peer_id.data(), "-RC0001-rawclient000", 20);
        h.peer_id[19] = static_cast<std::uint8_t>(id_tail);
        if (!send(pw::wire::encode_handshake(h))) return std::nullopt;
        char in[pw::wire::handshake_size];
        if (!read_exact(fd_, in, sizeof in,
                        std::chrono::steady_clock::now() + std::chrono::seconds(10)))
            return std::nullopt;
        return pw::wire::decode_handshake(std::string_view(in, sizeof in));
    }
    std::optional<WireMsg> next(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        return read_message(fd_, limit);
    }
    // Reads until a message with this id arrives (others are kept in `seen`).
    std::optional<WireMsg> wait_for_id(std::uint8_t id,
                                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            auto m = next(std::max(left, std::chrono::milliseconds(1)));
            if (!m) return std::nullopt;
            seen.push_back(*m);
            if (m->id == id) return m;
        }
        return std::nullopt;
    }
    // True when the session closes the connection within `limit`.
    bool closed_by_peer(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        char buf[65536];
        auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0) return true;
            if (n < 0 && errno != EAGAIN && errno != EINTR) return errno == ECONNRESET;
        }
        return false;
    }
    // Drops the connection with a reset (SO_LINGER 0), as a peer that crashes does.
    void reset() {
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd_);
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);  // the destructor closes something
    }
    std::vector<WireMsg> seen;

  private:
    int fd_ = -1;
    bool ok_ = false;
};

}  // namespace swarm_test
