// Settings::natpmp and Settings::upnp end to end: a Session maps its TCP and UDP peer port
// on a fake NAT-PMP gateway (RFC 6886) and a fake UPnP IGD (UPnP Device Architecture 1.1),
// both on 127.0.0.1, reports it as events, and deletes the mappings when it stops; the
// gateway options' parsing.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "nat/parse/natpmp_message.hpp"
#include "nat/parse/pcp_message.hpp"
#include "nat/parse/upnp_xml.hpp"
#include "session/port_mapping.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

// Grants every mapping as asked, in its own thread; records (opcode, internal port, lifetime).
// A NAT-PMP-only gateway answers a request of another version (PCP's, sent first) with
// NAT-PMP's "unsupported version"; with `pcp` it grants PCP MAP requests too (recorded with
// the NAT-PMP opcode of their protocol: UDP 1, TCP 2) at the same external address.
struct Gateway {
    struct Seen {
        int opcode;
        std::uint16_t internal_port;
        std::uint32_t lifetime;
        bool pcp = false;
    };
    explicit Gateway(bool pcp = false) : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), pcp(pcp) {
        receive();
        thread = std::thread([this] { io.run(); });
    }
    ~Gateway() {
        io.stop();
        thread.join();
    }
    // The answer to a datagram of another version than 0.
    std::string answer_other_version(std::string_view d) {
        pw::nat::pcp::RequestDecodeResult q = pw::nat::pcp::decode_map_request(d);
        if (!pcp || !q.ok) {
            pw::nat::Response r;
            r.kind = pw::nat::Response::Kind::map_udp;  // 128 + the request's opcode byte (1)
            r.result = 1;
            r.epoch = 100;
            ++other_versions;
            return pw::nat::encode_response(r, true);
        }
        {
            std::lock_guard lk(mu);
            seen.push_back({q.request.protocol == 17 ? 1 : 2, q.request.internal_port, q.request.lifetime, true});
        }
        pw::nat::pcp::Response r;
        r.opcode = pw::nat::pcp::opcode_map;
        r.lifetime = q.request.lifetime;
        r.epoch = 100;
        r.has_map = true;
        r.nonce = q.request.nonce;
        r.protocol = q.request.protocol;
        r.internal_port = q.request.internal_port;
        r.external_port = q.request.lifetime ? q.request.internal_port : 0;
        r.external_address = pw::nat::pcp::v4_mapped({198, 51, 100, 4});
        return pw::nat::pcp::encode_response(r);
    }
    void receive() {
        socket.async_receive_from(asio::buffer(buf), from, [this](boost::system::error_code ec, std::size_t n) {
            if (ec) return;
            if (n > 0 && buf[0] != 0) {
                std::string out = answer_other_version(std::string_view(buf.data(), n));
                socket.send_to(asio::buffer(out), from);
                receive();
                return;
            }
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
    bool pcp = false;
    std::atomic<int> other_versions{0};  // requests answered "unsupported version"
};

// A UPnP IGD on 127.0.0.1 serving /desc.xml and SOAP on /ctl in its own thread: grants
// every AddPortMapping; records each SOAP action with its arguments, and each description
// fetch as "(description)".
struct Igd {
    struct Call {
        std::string action;
        std::map<std::string, std::string> args;
    };
    Igd() : acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        asio::co_spawn(io, accept(), asio::detached);
        thread = std::thread([this] { io.run(); });
    }
    ~Igd() {
        io.stop();
        thread.join();
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/desc.xml";
    }
    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(io, serve(std::move(sock)), asio::detached);
        }
    }
    asio::awaitable<void> serve(asio::ip::tcp::socket sock) {
        namespace http = boost::beast::http;
        boost::beast::tcp_stream stream(std::move(sock));
        boost::beast::flat_buffer b;
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(stream, b, req, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        http::response<http::string_body> res{http::status::ok, 11};
        const std::string type = "urn:schemas-upnp-org:service:WANIPConnection:1";
        if (req.target() == "/desc.xml") {
            res.body() = "<?xml version=\"1.0\"?><root><device><serviceList><service><serviceType>" + type +
                         "</serviceType><controlURL>/ctl</controlURL></service></serviceList></device></root>";
            std::lock_guard lk(mu);
            calls.push_back({"(description)", {}});
        } else {
            Call c;
            std::string h(req["SOAPAction"]);
            if (auto k = h.find('#'); k != std::string::npos) c.action = h.substr(k + 1, h.size() - k - 2);
            for (auto& e : pw::nat::scan_xml(req.body()).elements)
                if (e.depth == 3) c.args[e.name] = e.text;
            std::string inner = c.action == "GetExternalIPAddress"
                                    ? "<NewExternalIPAddress>192.0.2.9</NewExternalIPAddress>"
                                    : "";
            res.body() = "<s:Envelope><s:Body><u:" + c.action + "Response xmlns:u=\"" + type + "\">" + inner +
                         "</u:" + c.action + "Response></s:Body></s:Envelope>";
            std::lock_guard lk(mu);
            calls.push_back(std::move(c));
        }
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    }
    std::size_t count(const std::string& action, const std::string& protocol = {}) {
        std::lock_guard lk(mu);
        std::size_t k = 0;
        for (auto& c : calls) k += c.action == action && (protocol.empty() || c.args["NewProtocol"] == protocol);
        return k;
    }
    std::vector<Call> snapshot() {
        std::lock_guard lk(mu);
        return calls;
    }

    asio::io_context io;
    asio::ip::tcp::acceptor acceptor;
    std::mutex mu;
    std::vector<Call> calls;
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
    EXPECT_EQ(gw.other_versions, 1);  // PCP was asked first, and not again
    session.stop();
    EXPECT_EQ(gw.count(2, port, true), 1u);
    EXPECT_EQ(gw.count(1, port, true), 1u);
    auto after = session.pop_events();
    EXPECT_TRUE(has_event(after, piecewise::EventType::port_mapped, "port mapping: TCP " + p + " removed"));
    fs::remove_all(dir);
}

// With the DHT and uTP off there is no UDP socket, so only TCP is mapped; uTP turned on
// later opens one, and the mappings are made again with the UDP port.
TEST(PortMapping, UdpIsMappedWhenUtpComesOnLater) {
    Gateway gw;
    auto dir = temp_dir("natpmp-later");
    auto s = loopback("127.0.0.1", dir / "resume");
    s.natpmp = true;
    s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.socket.local_endpoint().port());
    s.dht = false;
    s.utp = false;
    piecewise::Session session(s);
    const auto port = session.listen_port();
    ASSERT_TRUE(wait_for([&] { return gw.count(2, port, false) == 1; }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(gw.count(1, port, false), 0u);  // no UDP socket, no UDP mapping
    ASSERT_TRUE(session.set_utp(true));
    EXPECT_TRUE(wait_for([&] { return gw.count(1, port, false) == 1; }, std::chrono::seconds(10)));
    EXPECT_GE(gw.count(2, port, false), 1u);
    session.stop();
    EXPECT_EQ(gw.count(1, port, true), 1u);  // the UDP mapping is deleted on stop
    fs::remove_all(dir);
}

TEST(PortMapping, SessionMapsByPcpWhenTheGatewaySpeaksIt) {
    Gateway gw(true);
    auto dir = temp_dir("pcp");
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
                          "port mapping: TCP " + p + " -> external 198.51.100.4:" + p + ", lifetime 7200 s (PCP)"));
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping: UDP " + p + " -> external 198.51.100.4:" + p + ", lifetime 7200 s (PCP)"));
    session.stop();
    EXPECT_EQ(gw.count(2, port, true), 1u);
    EXPECT_EQ(gw.count(1, port, true), 1u);
    {
        std::lock_guard lk(gw.mu);
        for (auto& seen : gw.seen) EXPECT_TRUE(seen.pcp);  // nothing by NAT-PMP
    }
    EXPECT_EQ(gw.other_versions, 0);
    auto after = session.pop_events();
    EXPECT_TRUE(has_event(after, piecewise::EventType::port_mapped, "port mapping: UDP " + p + " removed"));
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

TEST(PortMapping, SessionMapsByUpnpAndNatPmpTogetherAndDeletesOnStop) {
    Gateway gw;
    Igd igd;
    auto dir = temp_dir("upnp");
    auto s = loopback("127.0.0.1", dir / "resume");
    s.natpmp = true;
    s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.socket.local_endpoint().port());
    s.upnp = true;
    s.upnp_igd = igd.url();
    piecewise::Session session(s);
    const auto port = session.listen_port();
    const std::string p = std::to_string(port);
    std::vector<piecewise::Event> events;
    ASSERT_TRUE(wait_for(
        [&] {
            for (auto& e : session.pop_events()) events.push_back(e);
            return igd.count("AddPortMapping", "TCP") == 1 && igd.count("AddPortMapping", "UDP") == 1 &&
                   gw.count(1, port, false) == 1 && gw.count(2, port, false) == 1 && events.size() >= 6;
        },
        std::chrono::seconds(10)));
    for (auto& c : igd.snapshot()) {
        if (c.action != "AddPortMapping") continue;
        EXPECT_EQ(c.args["NewInternalPort"], p);
        EXPECT_EQ(c.args["NewExternalPort"], p);
        EXPECT_EQ(c.args["NewInternalClient"], "127.0.0.1");
        EXPECT_EQ(c.args["NewLeaseDuration"], "3600");
    }
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping (UPnP): external address 192.0.2.9"));
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping (UPnP): TCP " + p + " -> external 192.0.2.9:" + p + ", lease 3600 s"));
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping (UPnP): UDP " + p + " -> external 192.0.2.9:" + p + ", lease 3600 s"));
    EXPECT_TRUE(has_event(events, piecewise::EventType::port_mapped,
                          "port mapping: TCP " + p + " -> external 198.51.100.4:" + p + ", lifetime 7200 s"));
    session.stop();
    EXPECT_EQ(igd.count("DeletePortMapping", "TCP"), 1u);
    EXPECT_EQ(igd.count("DeletePortMapping", "UDP"), 1u);
    EXPECT_EQ(gw.count(2, port, true), 1u);
    auto after = session.pop_events();
    EXPECT_TRUE(has_event(after, piecewise::EventType::port_mapped, "port mapping (UPnP): TCP " + p + " removed"));
    EXPECT_TRUE(has_event(after, piecewise::EventType::port_mapped, "port mapping (UPnP): UDP " + p + " removed"));
    fs::remove_all(dir);
}

TEST(PortMapping, UpnpOffByDefaultAndBadIgdUrlIsASettingsError) {
    Igd igd;
    auto dir = temp_dir("upnp-off");
    auto s = loopback("127.0.0.1", dir / "resume");
    s.upnp_igd = igd.url();
    {
        piecewise::Session session(s);  // upnp off: the IGD hears nothing
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        session.stop();
    }
    EXPECT_TRUE(igd.snapshot().empty());
    s.upnp = true;
    s.upnp_igd = "https://127.0.0.1/desc.xml";
    EXPECT_THROW(piecewise::Session{s}, piecewise::SettingsError);
    fs::remove_all(dir);
}
