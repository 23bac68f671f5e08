// A scripted peer for hostile-peer tests: it has every piece and answers requests,
// but can corrupt the data it sends or drop the connection partway. Plain blocking
// POSIX sockets on its own thread, with receive timeouts so it always stops.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "meta/metainfo.hpp"
#include "wire/ext_messages.hpp"
#include "wire/hash_messages.hpp"
#include "wire/messages.hpp"

namespace swarm_test {

class FakePeer {
public:
    struct Behaviour {
        bool corrupt = false;         // flip bytes in every block it sends
        int drop_after_blocks = -1;   // close the connection after sending this many blocks
        bool bad_metadata = false;    // offer ut_metadata (BEP 9) and send garbage of the right size
        int block_delay_ms = 0;       // pause after each block sent (a slow seeder)
        // Offer the true metadata, then answer BEP 52 hash requests with all-zero hashes
        // (the right number of them, so only the Merkle proof can tell).
        bool bad_layer_hashes = false;
        int corrupt_block = -1;       // flip bytes only in this 16 KiB block of each piece
        bool v2 = false;              // set the BEP 52 bit in its handshake
        bool corrupt_once = false;    // flip bytes in the first block it sends, and no other
    };

    FakePeer(const std::string& ip, pw::meta::Metainfo m, std::string payload, Behaviour b)
        : meta_(std::move(m)), payload_(std::move(payload)), b_(b) {
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
        set_timeout(lfd_);
        thread_ = std::thread([this] { run(); });
    }
    ~FakePeer() {
        stop_ = true;
        thread_.join();
        ::close(lfd_);
    }
    std::uint16_t port() const { return port_; }
    int blocks_sent() const { return blocks_sent_; }
    int connections() const { return connections_; }
    int metadata_sent() const { return metadata_sent_; }
    int hashes_sent() const { return hashes_sent_; }

private:
    static void set_timeout(int fd) {
        timeval tv{0, 200000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    bool read_exact(int fd, char* p, std::size_t n) {
        while (n > 0) {
            ssize_t r = ::recv(fd, p, n, 0);
            if (r > 0) {
                p += r;
                n -= static_cast<std::size_t>(r);
            } else if (r < 0 && (errno == EAGAIN || errno == EINTR) && !stop_) {
                continue;
            } else {
                return false;
            }
        }
        return true;
    }
    bool send_all(int fd, const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (w <= 0) return false;
            off += static_cast<std::size_t>(w);
        }
        return true;
    }
    void run() {
        while (!stop_) {
            int fd = ::accept(lfd_, nullptr, nullptr);
            if (fd < 0) continue;
            set_timeout(fd);
            ++connections_;
            serve(fd);
            ::close(fd);
        }
    }
    void serve(int fd) {
        char hs[pw::wire::handshake_size];
        if (!read_exact(fd, hs, sizeof hs)) return;
        // Plaintext only: like real clients, hang up on anything else (an MSE handshake).
        if (!pw::wire::decode_handshake(std::string_view(hs, sizeof hs))) return;
        pw::wire::Handshake ours;
        ours.info_hash = meta_.info_hash;
        // Its own id per listening port: a ban by peer id does not catch another fake peer.
        std::string id = "-FK0001-fakepeer0000";
        const std::string port_digits = std::to_string(port_);
        id.replace(id.size() - port_digits.size(), port_digits.size(), port_digits);
        std::memcpy(ours.peer_id.data(), id.data(), 20);
        const bool offers_metadata = b_.bad_metadata || b_.bad_layer_hashes;
        if (offers_metadata) ours.set_extensions();
        if (b_.v2) ours.set_v2();
        std::string out = pw::wire::encode_handshake(ours);
        std::string bits((meta_.num_pieces() + 7) / 8, '\xff');
        if (meta_.num_pieces() % 8)
            bits.back() = static_cast<char>(0xff << (8 - meta_.num_pieces() % 8));
        pw::wire::put_bitfield(out, bits);
        pw::wire::put_simple(out, pw::wire::MsgId::unchoke);
        if (offers_metadata) {
            pw::wire::ExtHandshake eh;
            eh.m.emplace_back("ut_metadata", 3);
            eh.metadata_size = static_cast<std::int64_t>(meta_.info_bytes.size());
            pw::wire::put_extended(out, 0, pw::wire::encode_ext_handshake(eh));
        }
        if (!send_all(fd, out)) return;
        int sent_here = 0;
        while (!stop_) {
            char len_buf[4];
            if (!read_exact(fd, len_buf, 4)) return;
            std::uint32_t len;
            std::memcpy(&len, len_buf, 4);
            len = ntohl(len);
            if (len > (1u << 20)) return;
            std::string body(len, '\0');
            if (len && !read_exact(fd, body.data(), len)) return;
            if (b_.bad_layer_hashes && len == 49 && body[0] == 21) {
                pw::wire::HashRequest r;
                const char* why = nullptr;
                if (!pw::wire::decode_hash_request(std::string_view(body).substr(1), r, why)) return;
                std::vector<pw::Sha256Digest> zeros(r.length + pw::wire::uncle_count(r.length, r.proof_layers));
                std::string msg;
                pw::wire::put_hashes(msg, r, zeros);
                if (!send_all(fd, msg)) return;
                ++hashes_sent_;
                continue;
            }
            if (offers_metadata && len >= 2 && body[0] == 20 && body[1] == 3) {
                // A ut_metadata request: answer with garbage (Piecewise's own id is 2).
                auto req = pw::wire::decode_metadata_msg(std::string_view(body).substr(2));
                if (!req) return;
                auto size = static_cast<std::int64_t>(meta_.info_bytes.size());
                auto begin = req->piece * 16384;
                if (begin >= size) return;
                const auto n = static_cast<std::size_t>(std::min<std::int64_t>(16384, size - begin));
                std::string junk = b_.bad_metadata ? std::string(n, 'x')
                                                   : meta_.info_bytes.substr(static_cast<std::size_t>(begin), n);
                std::string msg;
                pw::wire::put_extended(msg, 2, pw::wire::encode_metadata_data(req->piece, size, junk));
                if (!send_all(fd, msg)) return;
                ++metadata_sent_;
                continue;
            }
            if (len != 13 || body[0] != 6) continue;  // only requests matter
            auto be32 = [&](int off) {
                std::uint32_t v;
                std::memcpy(&v, body.data() + off, 4);
                return ntohl(v);
            };
            std::uint32_t index = be32(1), begin = be32(5), length = be32(9);
            std::int64_t off = std::int64_t(index) * meta_.piece_length + begin;
            if (off + length > static_cast<std::int64_t>(payload_.size())) return;
            std::string data = payload_.substr(static_cast<std::size_t>(off), length);
            if (b_.corrupt || (b_.corrupt_block >= 0 && begin == std::uint32_t(b_.corrupt_block) * 16384) ||
                (b_.corrupt_once && !corrupted_once_.exchange(true)))
                for (std::size_t i = 0; i < data.size(); i += 997) data[i] = static_cast<char>(~data[i]);
            std::string msg;
            pw::wire::put_piece_header(msg, index, begin, length);
            msg += data;
            if (!send_all(fd, msg)) return;
            ++blocks_sent_;
            if (b_.block_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(b_.block_delay_ms));
            if (b_.drop_after_blocks >= 0 && ++sent_here >= b_.drop_after_blocks) return;
        }
    }

    pw::meta::Metainfo meta_;
    std::string payload_;
    Behaviour b_;
    int lfd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> blocks_sent_{0};
    std::atomic<int> connections_{0};
    std::atomic<int> metadata_sent_{0};
    std::atomic<int> hashes_sent_{0};
    std::atomic<bool> corrupted_once_{false};
    std::thread thread_;
};

}  // namespace swarm_test
