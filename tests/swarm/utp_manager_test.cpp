// The uTP connection table (peer/utp_stream): its caps on incoming connections (in total
// and per address) count connections our side has closed while they linger to deliver
// their FIN; a new SYN takes the place of the oldest such one, never a live one's. The
// peers are UDP sockets on 127.0.0.x whose packets are handed to the manager directly;
// they never acknowledge anything after the handshake.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "peer/utp_stream.hpp"
#include "utp/packet.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using pw::peer::UtpManager;
using pw::peer::UtpOptions;
using pw::peer::UtpStream;

std::string packet(pw::utp::Type type, std::uint16_t conn_id, std::uint16_t seq,
                   std::uint16_t ack, std::string_view payload = {}) {
    pw::utp::Header h;
    h.type = type;
    h.conn_id = conn_id;
    h.seq_nr = seq;
    h.ack_nr = ack;
    h.wnd_size = 1 << 20;
    std::string out;
    pw::utp::encode(out, h, {}, payload);
    return out;
}

struct UtpTable : ::testing::Test {
    asio::io_context io;
    udp::socket sock{io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::vector<UtpStream> streams;  // every accepted one, in order
    std::vector<std::unique_ptr<udp::socket>> peers;

    std::unique_ptr<UtpManager> manager(UtpOptions o) {
        auto m = std::make_unique<UtpManager>(io, sock, o);
        m->set_accept([this](UtpStream s) { streams.push_back(std::move(s)); });
        return m;
    }

    // A peer at `ip` opens a connection: SYN, our STATE, then one DATA packet, which
    // makes it a connected one whose FIN (once closed) waits for an ACK that never comes.
    // Returns whether the manager answered the SYN.
    bool open(UtpManager& m, const char* ip) {
        auto p = std::make_unique<udp::socket>(io, udp::endpoint(asio::ip::make_address(ip), 0));
        p->non_blocking(true);
        const auto from = p->local_endpoint();
        const std::uint16_t id = 7;
        m.on_datagram(from, packet(pw::utp::Type::syn, id, 1, 0));
        std::optional<std::uint16_t> their_seq;
        char buf[2048];
        for (int i = 0; i < 100 && !their_seq; ++i) {  // up to 1 s
            boost::system::error_code ec;
            udp::endpoint src;
            auto n = p->receive_from(asio::buffer(buf), src, 0, ec);
            if (ec == asio::error::would_block) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            auto d = pw::utp::decode(std::string_view(buf, n));
            if (!ec && d && d->h.type == pw::utp::Type::state && d->h.conn_id == id)
                their_seq = d->h.seq_nr;
        }
        if (!their_seq) return false;
        m.on_datagram(from, packet(pw::utp::Type::data, id + 1, 2, *their_seq, "hello"));
        peers.push_back(std::move(p));
        return true;
    }
};

TEST_F(UtpTable, ClosedConnectionsGiveWayToNewOnes) {
    UtpOptions o;
    o.max_connections = 4;
    auto m = manager(o);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(open(*m, "127.0.0.1"));
    for (auto& s : streams) s.close();
    EXPECT_EQ(m->connections(), 4u);  // closed, their FINs not acknowledged
    for (int i = 0; i < 6; ++i) {
        EXPECT_TRUE(open(*m, "127.0.0.1")) << i;
        streams.back().close();
    }
    EXPECT_EQ(streams.size(), 10u);
    EXPECT_EQ(m->connections(), 4u);
    m->stop();
}

TEST_F(UtpTable, LiveConnectionsAreNeverDropped) {
    UtpOptions o;
    o.max_connections = 4;
    auto m = manager(o);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(open(*m, "127.0.0.1"));
    EXPECT_FALSE(open(*m, "127.0.0.1"));
    EXPECT_EQ(streams.size(), 4u);
    for (auto& s : streams) EXPECT_TRUE(s.is_open());
    // One closed by the application makes room for exactly one more.
    streams.front().close();
    EXPECT_TRUE(open(*m, "127.0.0.1"));
    EXPECT_FALSE(open(*m, "127.0.0.1"));
    EXPECT_EQ(streams.size(), 5u);
    EXPECT_EQ(m->connections(), 4u);
    m->stop();
}

TEST_F(UtpTable, PerAddressCapCountsOnlyThatAddresssClosedOnes) {
    UtpOptions o;
    o.max_per_address = 2;
    auto m = manager(o);
    ASSERT_TRUE(open(*m, "127.0.0.9"));
    ASSERT_TRUE(open(*m, "127.0.0.9"));
    EXPECT_FALSE(open(*m, "127.0.0.9"));  // over the cap
    ASSERT_TRUE(open(*m, "127.0.0.8"));   // another address
    streams.back().close();              // 127.0.0.8's: no room for 127.0.0.9
    EXPECT_FALSE(open(*m, "127.0.0.9"));
    streams.front().close();  // 127.0.0.9's first
    EXPECT_TRUE(open(*m, "127.0.0.9"));
    EXPECT_EQ(streams.size(), 4u);
    EXPECT_EQ(m->connections(), 3u);  // 127.0.0.8's closed one still lingers
    m->stop();
}

}  // namespace
