// Hostile peers against a seeding session: every protocol violation ends the
// connection, and the session keeps serving well-behaved peers afterwards. Legal but
// unusual traffic (a message larger than the receive buffer) is read, not refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "swarm_util.hpp"
#include "wire/messages.hpp"

using namespace swarm_test;

namespace {

class RawPeer {
public:
    RawPeer(const std::string& ip, std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~RawPeer() { ::close(fd_); }
    bool ok() const { return ok_; }
    bool send(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size()); }
    // Reads until the peer closes (true) or 5 s pass without the connection closing (false).
    bool closed_by_peer() {
        char buf[65536];
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < end) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0) return true;
            if (n < 0) return errno == ECONNRESET;
        }
        return false;
    }
    // Bytes received until `want` arrived (true) or the peer closed or 10 s passed (false).
    bool receive_at_least(std::size_t want) {
        char buf[65536];
        std::size_t got = 0;
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (got < want && std::chrono::steady_clock::now() < end) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return false;
            if (n > 0) got += std::size_t(n);
        }
        return got >= want;
    }
    // Handshake, then read the handshake and first messages back.
    bool handshake(const pw::Sha1Digest& ih) {
        pw::wire::Handshake h;
        h.info_hash = ih;
        std::memcpy(h.peer_id.data(), "-XX0001-hostile00000", 20);
        if (!send(pw::wire::encode_handshake(h))) return false;
        char in[68];
        std::size_t got = 0;
        while (got < 68) {
            ssize_t n = ::recv(fd_, in + got, 68 - got, 0);
            if (n <= 0) return false;
            got += std::size_t(n);
        }
        return true;
    }

private:
    int fd_;
    bool ok_ = false;
};

std::string be32(std::uint32_t v) {
    v = htonl(v);
    return std::string(reinterpret_cast<char*>(&v), 4);
}

struct Hostile : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    pw::meta::Metainfo meta;
    std::unique_ptr<piecewise::Session> seed;

    void SetUp() override {
        dir = temp_dir("hostile");
        data = random_bytes(1 << 20, 11);
        write_file(dir / "src" / "payload.bin", data);
        torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
        meta = pw::meta::load(torrent);
        seed = std::make_unique<piecewise::Session>(loopback("127.0.7.2", dir / "rs"));
        piecewise::AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "src").string();
        p.upload_only = true;
        auto id = seed->add_torrent(p);
        ASSERT_TRUE(wait_for([&] { return complete(*seed, id); }, std::chrono::seconds(30)));
    }
    void TearDown() override {
        // The seed still serves an honest peer after all the abuse.
        piecewise::Session leecher(loopback("127.0.7.3", dir / "rl"));
        piecewise::AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "dl").string();
        p.peers = {endpoint("127.0.7.2", *seed)};
        auto id = leecher.add_torrent(p);
        EXPECT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(30)));
        EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
        leecher.stop();
        seed.reset();
        fs::remove_all(dir);
    }

    // Connects, handshakes, sends `bad` and expects the seed to hang up.
    void expect_disconnect(const std::string& bad) {
        RawPeer p("127.0.7.2", seed->listen_port());
        ASSERT_TRUE(p.ok());
        ASSERT_TRUE(p.handshake(meta.info_hash));
        std::string interested;
        pw::wire::put_simple(interested, pw::wire::MsgId::interested);
        p.send(interested);
        p.send(bad);
        EXPECT_TRUE(p.closed_by_peer());
    }
};

}  // namespace

TEST_F(Hostile, OversizedLengthPrefix) { expect_disconnect(be32(0x7fffffff) + std::string(100, 'x')); }

// A connection's receive buffer starts at 32 KiB and grows while reads fill it: an
// extension message of 600 KiB (an id the seed does not know, so it is skipped) spans many
// reads and outgrows the largest buffer for bulk data (256 KiB); the block asked for
// after it still comes.
TEST_F(Hostile, MessageLargerThanTheReceiveBufferIsRead) {
    RawPeer p("127.0.7.2", seed->listen_port());
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p.handshake(meta.info_hash));
    std::string out;
    pw::wire::put_simple(out, pw::wire::MsgId::interested);
    const std::string body(600 << 10, 'z');
    out += be32(static_cast<std::uint32_t>(2 + body.size())) + std::string("\x14\x4d") + body;
    pw::wire::put_request(out, 0, 0, 16 << 10);
    ASSERT_TRUE(p.send(out));
    // Bitfield, unchoke, extension handshake and then the 16 KiB block (13-byte header).
    EXPECT_TRUE(p.receive_at_least((16 << 10) + 13));
}

TEST_F(Hostile, HaveIndexOutOfRange) {
    std::string m;
    pw::wire::put_have(m, 1000000);
    expect_disconnect(m);
}

TEST_F(Hostile, RequestPastEndOfPiece) {
    std::string m;
    pw::wire::put_request(m, 0, (64 << 10) - 100, 16384);
    expect_disconnect(m);
}

TEST_F(Hostile, RequestIndexOutOfRange) {
    std::string m;
    pw::wire::put_request(m, 999, 0, 16384);
    expect_disconnect(m);
}

TEST_F(Hostile, UnrequestedPiece) {
    std::string m;
    pw::wire::put_piece_header(m, 0, 0, 16384);
    m += std::string(16384, 'z');
    expect_disconnect(m);
}

TEST_F(Hostile, BitfieldOfWrongSize) {
    std::string m;
    pw::wire::put_bitfield(m, std::string(100, '\xff'));
    expect_disconnect(m);
}

TEST_F(Hostile, MessageFlood) {
    std::string m;
    for (int i = 0; i < 20000; ++i) pw::wire::put_simple(m, pw::wire::MsgId::not_interested);
    expect_disconnect(m);
}

TEST_F(Hostile, RequestFlood) {
    // Wait for the unchoke so the requests are queued, then flood.
    std::string m;
    for (int i = 0; i < 5000; ++i) pw::wire::put_request(m, 0, 0, 16384);
    expect_disconnect(m);
}

TEST_F(Hostile, CancelFlood) {
    // Every cancel searches the request queue: a stream of them is a flood.
    std::string m;
    for (int i = 0; i < 20000; ++i) pw::wire::put_cancel(m, 0, 0, 16384);
    expect_disconnect(m);
}

TEST_F(Hostile, GarbageInsteadOfHandshake) {
    RawPeer p("127.0.7.2", seed->listen_port());
    ASSERT_TRUE(p.ok());
    // Not "\x13BitTorrent protocol", so the session reads it as an MSE handshake (the
    // default policy accepts both); garbage has no HASH('req1', S) within 628 bytes.
    p.send(std::string(700, 'G'));
    EXPECT_TRUE(p.closed_by_peer());
}

TEST_F(Hostile, UnknownInfoHash) {
    RawPeer p("127.0.7.2", seed->listen_port());
    ASSERT_TRUE(p.ok());
    pw::wire::Handshake h;
    h.info_hash = pw::crypto::sha1("nothing");
    p.send(pw::wire::encode_handshake(h));
    EXPECT_TRUE(p.closed_by_peer());
}
