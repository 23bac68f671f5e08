// Settings::natpmp end to end: a Session maps its TCP and UDP peer port on a fake NAT-PMP
// gateway (RFC 6886) on 127.0.0.1, reports it as events, and deletes both mappings when it
// stops; the gateway option's parsing.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "nat/parse/natpmp_message.hpp"
#include "session/port_mapping.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// Grants every mapping as asked, in its own thread; records (opcode, internal port, lifetime).
struct Gateway {
    struct Seen {
        int opcode;
        std::uint16_t internal_port;
        std::uint32_t lifetime;
    };
    Gateway() : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        receive();
        thread = std::thread([this] { io.run(); });
    }
    ~Gateway() {
        io.stop();
        thread.join();
    }
    void receive() {
        socket.async_receive_from(asio::buffer(buf), from, [this](boost::system::error_code ec, std::size_t n) {
            if (ec) return;
            auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(buf[i])); };
            pw::nat::Response r;
            r.epoch = 100;
            Seen s{n > 1 ? static_cast<int>(b(1)) : -1, 0, 0};
            if (n == 2 && s.opcode == 0) {
                r.kind = pw::nat::Response::Kind::external_address;
                r.external_address = {198, 51, 100, 4};
            } else if (n == 12 && (s.opcode == 1 || s.opcode == 2)) {
                s.internal_port = static_cast<std::uint16_t>(b(4) << 8 | b(5));
                s.lifetime = b(8) << 24 | b(9) << 16 | b(10) << 8 | b(11);
                r.kind = s.opcode == 1 ? pw::nat::Response::Kind::map_udp : pw::nat::Response::Kind::map_tcp;
                r.internal_port = s.internal_port;
                r.external_port = s.lifetime ? s.internal_port : 0;
                r.lifetime = s.lifetime;
            }
            {
                std::lock_guard lk(mu);
                seen.push_back(s);
            }
            std::string out = pw::nat::encode_response(r);
            socket.send_to(asio::buffer(out), from);
            receive();
        });
    }
    std::size_t count(int opcode, std::uint16_t port, bool deletion) {
        std::lock_guard lk(mu);
        std::size_t k = 0;
        for (auto& s : seen) k += s.opcode == opcode && s.internal_port == port && (s.lifetime == 0) == deletion;
        return k;
    }
    std::size_t total() {
        std::lock_guard lk(mu);
        return seen.size();
    }

    asio::io_context io;
    udp::socket socket;
    std::array<char, 1500> buf{};
    udp::endpoint from;
    std::mutex mu;
    std::vector<Seen> seen;
    std::thread thread;
};

bool has_event(const std::vector<piecewise::Event>& events, piecewise::EventType t, const std::string& text) {
    for (auto& e : events)
        if (e.type == t && e.message == text) return true;
    return false;
}

}  // namespace

TEST(PortMapping, SessionMapsItsPortsAndDeletesThemOnStop) {
    Gateway gw;
    auto dir = temp_dir("natpmp");
    auto s = loopback("127.0.0.1", dir / "resume");
    s.natpmp = true;
    s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.socket.local_endpoint().port());
    piecewise::Session session(s);
    const auto port = session.listen_port();
    std::vector<piecewise::Event> events;
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto& e : session.pop_events()) events.push_back(e);
            return gw.count(1, port, false) == 1 && gw.count(2, port, false) == 1 && events.size() >= 3;
        },
        std::chrono::seconds(10)));
    const std::string p = std::to_string(port);
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped, "port mapping: external address 198.51.100.4"));
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping: TCP " + p + " -> external 198.51.100.4:" + p + ", lifetime 7200 s"));
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping: UDP " + p + " -> external 198.51.100.4:" + p + ", lifetime 7200 s"));
    session.stop();
    EXPECT_EQ(gw.count(2, port, true), 1u);
    EXPECT_EQ(gw.count(1, port, true), 1u);
    auto after = session.pop_events();
    EXPECT_TRUE(has_event(after, piecewise::EventType::port_mapped, "port mapping: TCP " + p + " removed"));
    fs::remove_all(dir);
}

TEST(PortMapping, OffByDefaultAndBadGatewayIsASettingsError) {
    Gateway gw;
    auto dir = temp_dir("natpmp-off");
    auto s = loopback("127.0.0.1", dir / "resume");
    s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.socket.local_endpoint().port());
    {
        piecewise::Session session(s);  // natpmp off: the gateway hears nothing
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        session.stop();
    }
    EXPECT_EQ(gw.total(), 0u);
    s.natpmp = true;
    s.natpmp_gateway = "127.0.0.1:99999";
    EXPECT_THROW(piecewise::Session{s}, piecewise::SettingsError);
    fs::remove_all(dir);
}

TEST(PortMapping, ParsesTheGatewayOption) {
    using pw::session::parse_gateway;
    ASSERT_TRUE(parse_gateway("192.168.1.1"));
    EXPECT_EQ(parse_gateway("192.168.1.1")->port(), 5351);
    EXPECT_EQ(parse_gateway("10.0.0.1:6000")->port(), 6000);
    EXPECT_FALSE(parse_gateway(""));
    EXPECT_FALSE(parse_gateway("10.0.0.1:"));
    EXPECT_FALSE(parse_gateway("10.0.0.1:0"));
    EXPECT_FALSE(parse_gateway("10.0.0.1:65536"));
    EXPECT_FALSE(parse_gateway("10.0.0.1:12x"));
    EXPECT_FALSE(parse_gateway("0.0.0.0"));
    EXPECT_FALSE(parse_gateway("224.0.0.1"));
    EXPECT_FALSE(parse_gateway("::1"));
    EXPECT_FALSE(parse_gateway("gateway.local"));
}
