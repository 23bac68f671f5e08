// NAT-PMP (RFC 6886) and PCP (RFC 6887) client against a fake gateway on 127.0.0.1:
// mapping, renewal at half the lifetime, retransmission, result codes, a gateway that loses
// its state, deletion at shutdown (bounded when the gateway is silent); by NAT-PMP from a
// gateway that answers PCP with "unsupported version" (the fake's default, as a NAT-PMP-only
// gateway does), and by PCP from one that speaks it.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nat/natpmp_client.hpp"
#include "nat/parse/natpmp_message.hpp"
#include "nat/parse/pcp_message.hpp"

using namespace pw::nat;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

struct Request {
    int opcode = 0;
    std::uint16_t internal_port = 0, suggested_port = 0;
    std::uint32_t lifetime = 0;
    std::chrono::steady_clock::time_point at;
};

Request parse_request(const std::string& d) {
    Request r;
    r.at = std::chrono::steady_clock::now();
    r.opcode = d.size() > 1 ? static_cast<std::uint8_t>(d[1]) : -1;
    if (d.size() == 12) {
        auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(d[i])); };
        r.internal_port = static_cast<std::uint16_t>(b(4) << 8 | b(5));
        r.suggested_port = static_cast<std::uint16_t>(b(6) << 8 | b(7));
        r.lifetime = b(8) << 24 | b(9) << 16 | b(10) << 8 | b(11);
    }
    return r;
}

struct PcpRequest {
    pcp::MapRequest q;
    std::chrono::steady_clock::time_point at;
};

// NAT-PMP's "unsupported version" reply to a request of another version (RFC 6886 section
// 3.5): the 8-byte header, result 1.
std::optional<std::string> natpmp_unsupported_version(std::uint32_t epoch = 10) {
    Response r;
    r.kind = Response::Kind::map_udp;  // 128 + the request's opcode byte (PCP MAP: 1)
    r.result = 1;
    r.epoch = epoch;
    return encode_response(r, true);
}

// Answers each NAT-PMP request with what `answer` returns, each PCP MAP request with what
// `pcp_answer` returns (nothing: silence). By default it speaks NAT-PMP only.
struct FakeGateway {
    explicit FakeGateway(asio::io_context& io) : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        pcp_answer = [](const PcpRequest&, std::size_t) { return natpmp_unsupported_version(); };
        receive();
    }
    void receive() {
        socket.async_receive_from(asio::buffer(buf), from, [this](boost::system::error_code ec, std::size_t n) {
            if (ec) return;
            std::string d(buf.data(), n);
            if (!d.empty() && d[0] == 2) {
                pcp::RequestDecodeResult pr = pcp::decode_map_request(d);
                EXPECT_TRUE(pr.ok) << pr.error;
                if (pr.ok) {
                    pcp_requests.push_back({pr.request, std::chrono::steady_clock::now()});
                    if (auto reply = pcp_answer(pcp_requests.back(), pcp_requests.size() - 1))
                        socket.send_to(asio::buffer(*reply), from);
                }
                receive();
                return;
            }
            requests.push_back(parse_request(d));
            if (auto reply = answer(requests.back(), requests.size() - 1)) socket.send_to(asio::buffer(*reply), from);
            receive();
        });
    }
    udp::endpoint endpoint() const { return socket.local_endpoint(); }
    std::size_t count(int opcode, std::uint32_t lifetime_min = 0) const {
        std::size_t n = 0;
        for (auto& r : requests) n += r.opcode == opcode && r.lifetime >= lifetime_min;
        return n;
    }

    udp::socket socket;
    std::array<char, 1500> buf{};
    udp::endpoint from;
    std::vector<Request> requests;
    std::vector<PcpRequest> pcp_requests;
    std::function<std::optional<std::string>(const Request&, std::size_t)> answer;
    std::function<std::optional<std::string>(const PcpRequest&, std::size_t)> pcp_answer;
};

// A PCP gateway's answer to `q`: granted for at most `lifetime` seconds (the external port
// is the internal one + 1000) at `external`, or the error `result` with the payload echoed.
std::optional<std::string> pcp_grant(const PcpRequest& req, std::uint32_t epoch, std::uint32_t lifetime,
                                     std::uint8_t result = 0,
                                     pcp::Address external = pcp::v4_mapped({203, 0, 113, 9})) {
    const pcp::MapRequest& q = req.q;
    pcp::Response r;
    r.opcode = pcp::opcode_map;
    r.result = result;
    r.epoch = epoch;
    r.lifetime = result == 0 ? std::min(q.lifetime, lifetime) : 30;
    r.has_map = true;
    r.nonce = q.nonce;
    r.protocol = q.protocol;
    r.internal_port = q.internal_port;
    r.external_port = result == 0 && q.lifetime ? static_cast<std::uint16_t>(q.internal_port + 1000) : 0;
    r.external_address = result == 0 ? external : pcp::Address{};
    return pcp::encode_response(r);
}

// A gateway that grants what is asked, for `lifetime` seconds, in epoch `epoch`.
std::optional<std::string> grant(const Request& q, std::uint32_t epoch, std::uint32_t lifetime,
                                 std::uint16_t result = 0) {
    Response r;
    r.epoch = epoch;
    r.result = result;
    if (q.opcode == 0) {
        r.kind = Response::Kind::external_address;
        r.external_address = {203, 0, 113, 7};
    } else {
        r.kind = q.opcode == 1 ? Response::Kind::map_udp : Response::Kind::map_tcp;
        r.internal_port = q.internal_port;
        r.external_port = q.lifetime ? static_cast<std::uint16_t>(q.internal_port + 1000) : 0;
        r.lifetime = q.lifetime ? std::min(q.lifetime, lifetime) : 0;
    }
    return encode_response(r);
}

template <class Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        if (io.stopped()) io.restart();
        io.run_for(10ms);
    }
    return done();
}

NatPmpSettings fast_settings(const FakeGateway& g) {
    NatPmpSettings s;
    s.gateway = g.endpoint();
    s.bind_address = asio::ip::make_address_v4("127.0.0.1");
    s.initial_timeout = 50ms;
    s.max_tries = 4;
    s.retry_after = 60s;
    s.min_renew_interval = 0ms;
    return s;
}

std::vector<Mapping> both(std::uint16_t port) {
    return {{MapProtocol::tcp, port}, {MapProtocol::udp, port}};
}

}  // namespace

TEST(NatPmpClient, MapsBothPortsAndReportsTheExternalAddress) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 100, 7200); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    EXPECT_EQ(reports[0].kind, NatPmpReport::Kind::external_address);
    EXPECT_EQ(describe(reports[0]), "port mapping: external address 203.0.113.7");
    EXPECT_EQ(reports[1].kind, NatPmpReport::Kind::mapped);
    EXPECT_EQ(describe(reports[1]), "port mapping: TCP 6881 -> external 203.0.113.7:7881, lifetime 7200 s");
    EXPECT_EQ(describe(reports[2]), "port mapping: UDP 6881 -> external 203.0.113.7:7881, lifetime 7200 s");
    ASSERT_EQ(gw.requests.size(), 3u);
    EXPECT_EQ(gw.requests[1].opcode, 2);
    EXPECT_EQ(gw.requests[1].internal_port, 6881);
    EXPECT_EQ(gw.requests[1].suggested_port, 6881);
    EXPECT_EQ(gw.requests[1].lifetime, 7200u);
    EXPECT_EQ(gw.requests[2].opcode, 1);
    c.stop();
}

TEST(NatPmpClient, RenewsAtHalfTheLifetimeSuggestingTheGrantedPort) {
    asio::io_context io;
    FakeGateway gw(io);
    auto start = std::chrono::steady_clock::now();
    gw.answer = [&](const Request& q, std::size_t) {
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
        return grant(q, 50 + static_cast<std::uint32_t>(secs.count()), 2);  // 2 s: renew after 1 s
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(7000), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return gw.count(2) >= 3; }, 5000ms));
    // Rounds 1 s apart (half of 2 s), never sooner.
    std::vector<std::chrono::steady_clock::time_point> tcp;
    for (auto& r : gw.requests)
        if (r.opcode == 2) tcp.push_back(r.at);
    EXPECT_GE(tcp[1] - tcp[0], 900ms);
    EXPECT_LE(tcp[1] - tcp[0], 1600ms);
    // The renewal suggests the external port granted the first time.
    std::vector<std::uint16_t> suggested;
    for (auto& r : gw.requests)
        if (r.opcode == 2) suggested.push_back(r.suggested_port);
    EXPECT_EQ(suggested[0], 7000);
    EXPECT_EQ(suggested[1], 8000);
    // The same grant again is not reported again; the epoch grows as it should.
    std::size_t mapped = 0;
    for (auto& r : reports) mapped += r.kind == NatPmpReport::Kind::mapped;
    EXPECT_EQ(mapped, 2u);
    EXPECT_EQ(c.stats().gateway_resets, 0u);
    c.stop();
}

TEST(NatPmpClient, RetransmitsWithDoublingTimeouts) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request& q, std::size_t i) -> std::optional<std::string> {
        if (i < 2) return std::nullopt;  // the first two copies are lost
        return grant(q, 10, 3600);
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    ASSERT_GE(gw.requests.size(), 3u);
    EXPECT_EQ(gw.requests[0].opcode, 0);
    EXPECT_EQ(gw.requests[2].opcode, 0);
    auto first_gap = gw.requests[1].at - gw.requests[0].at, second_gap = gw.requests[2].at - gw.requests[1].at;
    EXPECT_GE(first_gap, 45ms);
    EXPECT_GE(second_gap, 95ms);  // 50 ms, then 100 ms
    EXPECT_EQ(c.stats().requests_sent, 6u);  // the PCP request that was refused, then 5
    c.stop();
}

TEST(NatPmpClient, GivesUpAfterMaxTriesAndSaysSo) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request&, std::size_t) { return std::nullopt; };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    // 50 + 100 + 200 + 400 ms.
    ASSERT_TRUE(run_until(io, [&] { return !reports.empty(); }, 3000ms));
    EXPECT_EQ(reports[0].kind, NatPmpReport::Kind::error);
    EXPECT_NE(describe(reports[0]).find("no answer from the gateway 127.0.0.1:"), std::string::npos)
        << describe(reports[0]);
    EXPECT_EQ(gw.requests.size(), 4u);
    run_until(io, [] { return false; }, 300ms);
    EXPECT_EQ(gw.requests.size(), 4u);  // the next round is retry_after (60 s) away
    c.stop();
}

TEST(NatPmpClient, ReportsResultCodes) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 10, 3600, q.opcode == 2 ? 2 : 0); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    EXPECT_EQ(reports[1].kind, NatPmpReport::Kind::error);
    EXPECT_EQ(describe(reports[1]),
              "port mapping: TCP 6881: the gateway refused (not authorized; port mapping may be switched off on it)");
    EXPECT_EQ(reports[2].kind, NatPmpReport::Kind::mapped);  // UDP was granted
    c.stop();
}

TEST(NatPmpClient, IgnoresMalformedAndUnrelatedDatagrams) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [&](const Request& q, std::size_t) -> std::optional<std::string> {
        // Garbage, and an answer to another port, before the real answer.
        gw.socket.send_to(asio::buffer(std::string("\0\x80\0", 3)), gw.from);
        if (q.opcode == 2) {
            Request other = q;
            other.internal_port = 1;
            gw.socket.send_to(asio::buffer(*grant(other, 10, 60)), gw.from);
        }
        return grant(q, 10, 3600);
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), {{MapProtocol::tcp, 6881}}, [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 2; }, 3000ms));
    EXPECT_EQ(reports[1].kind, NatPmpReport::Kind::mapped);
    EXPECT_EQ(reports[1].lifetime, 3600u);
    EXPECT_EQ(c.stats().malformed, 3u);
    EXPECT_EQ(gw.requests.size(), 2u);  // no retransmission was needed
    c.stop();
}

TEST(NatPmpClient, MapsAgainWhenTheGatewayLosesItsState) {
    asio::io_context io;
    FakeGateway gw(io);
    // The epoch drops from 1000 to 3 in the middle of the first round (a reboot).
    gw.answer = [](const Request& q, std::size_t i) { return grant(q, i == 0 ? 1000 : 3, 3600); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    // A second round at once, not after half of 3600 s.
    ASSERT_TRUE(run_until(io, [&] { return gw.count(0) >= 2 && gw.count(1) >= 1; }, 3000ms));
    EXPECT_EQ(c.stats().gateway_resets, 1u);
    bool said = false;
    for (auto& r : reports)
        said = said || (r.kind == NatPmpReport::Kind::gateway_reset &&
                        describe(r).find("lost its mappings") != std::string::npos);
    EXPECT_TRUE(said);
    ASSERT_TRUE(run_until(io, [&] { return reports.back().kind == NatPmpReport::Kind::mapped &&
                                           reports.back().protocol == MapProtocol::udp; },
                          2000ms));
    run_until(io, [] { return false; }, 200ms);
    EXPECT_EQ(gw.count(0), 2u);  // and no loop
    c.stop();
}

TEST(NatPmpClient, ShutdownDeletesTheMappings) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 10, 3600); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    bool done = false;
    asio::co_spawn(io, c.shutdown(2000ms), [&](std::exception_ptr) { done = true; });
    ASSERT_TRUE(run_until(io, [&] { return done; }, 3000ms));
    ASSERT_EQ(gw.requests.size(), 5u);
    EXPECT_EQ(gw.requests[3].opcode, 2);
    EXPECT_EQ(gw.requests[3].lifetime, 0u);
    EXPECT_EQ(gw.requests[3].suggested_port, 0);
    EXPECT_EQ(gw.requests[3].internal_port, 6881);
    EXPECT_EQ(gw.requests[4].opcode, 1);
    EXPECT_EQ(gw.requests[4].lifetime, 0u);
    EXPECT_EQ(describe(reports[3]), "port mapping: TCP 6881 removed");
    EXPECT_EQ(describe(reports[4]), "port mapping: UDP 6881 removed");
}

TEST(NatPmpClient, ShutdownIsBoundedWhenTheGatewayFallsSilent) {
    asio::io_context io;
    FakeGateway gw(io);
    bool silent = false;
    gw.answer = [&](const Request& q, std::size_t) -> std::optional<std::string> {
        if (silent) return std::nullopt;
        return grant(q, 10, 3600);
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    silent = true;
    bool done = false;
    auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(io, c.shutdown(300ms), [&](std::exception_ptr) { done = true; });
    ASSERT_TRUE(run_until(io, [&] { return done; }, 3000ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 600ms);
    EXPECT_EQ(reports.back().kind, NatPmpReport::Kind::error);
}

TEST(NatPmpClient, NothingIsSentBeforeStart) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 10, 3600); };
    {
        NatPmpClient c(io, fast_settings(gw), both(6881), {});
        run_until(io, [] { return false; }, 200ms);
    }
    run_until(io, [] { return false; }, 100ms);
    EXPECT_TRUE(gw.requests.empty());
    EXPECT_TRUE(gw.pcp_requests.empty());
}

TEST(NatPmpClient, NothingListeningOnTheGatewayIsAnErrorNotABusyLoop) {
    asio::io_context io;
    udp::endpoint closed;
    {
        FakeGateway gone(io);
        closed = gone.endpoint();
    }
    NatPmpSettings s;
    s.gateway = closed;
    s.bind_address = asio::ip::make_address_v4("127.0.0.1");
    s.initial_timeout = 50ms;
    s.max_tries = 3;
    s.retry_after = 60s;
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, s, both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(io, [&] { return !reports.empty(); }, 3000ms));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);  // 50 + 100 + 200 ms waited out
    EXPECT_EQ(c.stats().requests_sent, 3u);
    EXPECT_NE(reports[0].error.find("Connection refused"), std::string::npos) << reports[0].error;
    c.stop();
}

// ---- PCP (RFC 6887) --------------------------------------------------------------------

TEST(NatPmpClientPcp, MapsBothPortsByPcpAndReportsTheExternalAddress) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [](const PcpRequest& q, std::size_t) { return pcp_grant(q, 100, 7200); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    EXPECT_EQ(describe(reports[0]), "port mapping: external address 203.0.113.9");
    EXPECT_EQ(describe(reports[1]), "port mapping: TCP 6881 -> external 203.0.113.9:7881, lifetime 7200 s (PCP)");
    EXPECT_EQ(describe(reports[2]), "port mapping: UDP 6881 -> external 203.0.113.9:7881, lifetime 7200 s (PCP)");
    EXPECT_TRUE(reports[1].pcp);
    EXPECT_TRUE(gw.requests.empty());  // no NAT-PMP at all
    ASSERT_EQ(gw.pcp_requests.size(), 2u);
    const pcp::MapRequest& tcp = gw.pcp_requests[0].q;
    const pcp::MapRequest& udp_q = gw.pcp_requests[1].q;
    EXPECT_EQ(tcp.protocol, 6);
    EXPECT_EQ(udp_q.protocol, 17);
    EXPECT_EQ(tcp.internal_port, 6881);
    EXPECT_EQ(tcp.suggested_external_port, 6881);
    EXPECT_EQ(tcp.lifetime, 7200u);
    EXPECT_EQ(tcp.client_address, pcp::v4_mapped({127, 0, 0, 1}));
    EXPECT_EQ(tcp.suggested_external_address, pcp::v4_mapped({0, 0, 0, 0}));
    EXPECT_NE(tcp.nonce, pcp::Nonce{});
    EXPECT_NE(tcp.nonce, udp_q.nonce);  // one nonce per mapping
    EXPECT_EQ(c.stats().natpmp_fallbacks, 0u);
    EXPECT_EQ(c.stats().pcp_responses, 2u);
    c.stop();
}

TEST(NatPmpClientPcp, RenewsAtHalfTheLifetimeWithTheSameNonceAndTheGrantedPortAndAddress) {
    asio::io_context io;
    FakeGateway gw(io);
    auto start = std::chrono::steady_clock::now();
    gw.pcp_answer = [&](const PcpRequest& q, std::size_t) {
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
        return pcp_grant(q, 50 + static_cast<std::uint32_t>(secs.count()), 2);  // renew after 1 s
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), {{MapProtocol::tcp, 7000}},
                   [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return gw.pcp_requests.size() >= 3; }, 5000ms));
    const auto& r = gw.pcp_requests;
    EXPECT_GE(r[1].at - r[0].at, 900ms);  // half of 2 s, never sooner
    EXPECT_EQ(r[1].q.nonce, r[0].q.nonce);
    EXPECT_EQ(r[2].q.nonce, r[0].q.nonce);
    EXPECT_EQ(r[0].q.suggested_external_port, 7000);
    EXPECT_EQ(r[1].q.suggested_external_port, 8000);
    EXPECT_EQ(r[1].q.suggested_external_address, pcp::v4_mapped({203, 0, 113, 9}));
    std::size_t mapped = 0, addresses = 0;
    for (auto& x : reports) {
        mapped += x.kind == NatPmpReport::Kind::mapped;
        addresses += x.kind == NatPmpReport::Kind::external_address;
    }
    EXPECT_EQ(mapped, 1u);  // the same grant again is not reported again
    EXPECT_EQ(addresses, 1u);
    EXPECT_EQ(c.stats().gateway_resets, 0u);
    EXPECT_TRUE(gw.requests.empty());
    c.stop();
}

TEST(NatPmpClientPcp, ShutdownDeletesWithLifetimeZeroAndTheMappingsNonce) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [](const PcpRequest& q, std::size_t) { return pcp_grant(q, 10, 3600); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    bool done = false;
    asio::co_spawn(io, c.shutdown(2000ms), [&](std::exception_ptr) { done = true; });
    ASSERT_TRUE(run_until(io, [&] { return done; }, 3000ms));
    ASSERT_EQ(gw.pcp_requests.size(), 4u);
    for (std::size_t i : {2u, 3u}) {
        const pcp::MapRequest& del = gw.pcp_requests[i].q;
        EXPECT_EQ(del.lifetime, 0u);
        EXPECT_EQ(del.nonce, gw.pcp_requests[i - 2].q.nonce);
        EXPECT_EQ(del.protocol, gw.pcp_requests[i - 2].q.protocol);
        EXPECT_EQ(del.internal_port, 6881);
        EXPECT_EQ(del.client_address, pcp::v4_mapped({127, 0, 0, 1}));
    }
    EXPECT_EQ(describe(reports[3]), "port mapping: TCP 6881 removed");
    EXPECT_EQ(describe(reports[4]), "port mapping: UDP 6881 removed");
    EXPECT_TRUE(gw.requests.empty());
}

TEST(NatPmpClientPcp, IgnoresAnswersWithAnotherNonceProtocolOrPortAndMalformedOnes) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [&](const PcpRequest& q, std::size_t) {
        PcpRequest other = q;
        other.q.nonce[0] ^= 1;
        gw.socket.send_to(asio::buffer(*pcp_grant(other, 10, 60)), gw.from);
        other = q;
        other.q.protocol = 17;
        gw.socket.send_to(asio::buffer(*pcp_grant(other, 10, 60)), gw.from);
        other = q;
        other.q.internal_port = 1;
        gw.socket.send_to(asio::buffer(*pcp_grant(other, 10, 60)), gw.from);
        std::string bad = *pcp_grant(q, 10, 60);
        gw.socket.send_to(asio::buffer(bad.substr(0, 58)), gw.from);  // not a multiple of 4
        gw.socket.send_to(asio::buffer(bad.substr(0, 56)), gw.from);  // success without the payload
        return pcp_grant(q, 10, 3600);
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), {{MapProtocol::tcp, 6881}},
                   [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 2; }, 3000ms));
    EXPECT_EQ(reports[1].kind, NatPmpReport::Kind::mapped);
    EXPECT_EQ(reports[1].lifetime, 3600u);
    EXPECT_EQ(c.stats().malformed, 5u);
    EXPECT_EQ(gw.pcp_requests.size(), 1u);  // no retransmission was needed
    c.stop();
}

TEST(NatPmpClientPcp, ReportsResultCodesAndAnExternalAddressThatIsNotIpv4) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [](const PcpRequest& q, std::size_t) {
        if (q.q.protocol == 6) return pcp_grant(q, 10, 3600, 2);  // NOT_AUTHORIZED
        pcp::Address v6{};
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 1;
        return pcp_grant(q, 10, 3600, 0, v6);
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 2; }, 3000ms));
    EXPECT_EQ(describe(reports[0]),
              "port mapping: TCP 6881: the gateway refused (not authorized; port mapping may be switched off on it)");
    EXPECT_EQ(describe(reports[1]),
              "port mapping: UDP 6881: the gateway assigned an external address that is not IPv4 (2001:db8::1)");
    EXPECT_TRUE(gw.requests.empty());
    c.stop();
}

TEST(NatPmpClientPcp, NatPmpOnlyGatewayIsAskedByNatPmpAndNotByPcpAgainUntilTheRetryTime) {
    asio::io_context io;
    FakeGateway gw(io);  // answers PCP with NAT-PMP's "unsupported version"
    auto start = std::chrono::steady_clock::now();
    gw.answer = [&](const Request& q, std::size_t) {
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
        return grant(q, 20 + static_cast<std::uint32_t>(secs.count()), 2);  // renew after 1 s
    };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return gw.count(2) >= 2; }, 4000ms));
    EXPECT_EQ(gw.pcp_requests.size(), 1u);  // the first round's only, renewals by NAT-PMP
    EXPECT_EQ(gw.pcp_requests[0].q.protocol, 6);
    ASSERT_GE(gw.requests.size(), 3u);
    EXPECT_EQ(gw.requests[0].opcode, 0);  // the same round went on by NAT-PMP
    EXPECT_EQ(describe(reports[1]), "port mapping: TCP 6881 -> external 203.0.113.7:7881, lifetime 2 s");
    EXPECT_FALSE(reports[1].pcp);
    EXPECT_EQ(c.stats().natpmp_fallbacks, 1u);
    EXPECT_EQ(c.stats().gateway_resets, 0u);
    c.stop();
}

TEST(NatPmpClientPcp, PcpIsTriedAgainAfterTheRetryTime) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 20, 2); };
    NatPmpSettings s = fast_settings(gw);
    s.pcp_retry_after = 0s;
    NatPmpClient c(io, s, {{MapProtocol::tcp, 6881}}, {});
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return gw.pcp_requests.size() >= 2 && gw.count(2) >= 2; }, 4000ms));
    EXPECT_GE(c.stats().natpmp_fallbacks, 2u);
    c.stop();
}

TEST(NatPmpClientPcp, PcpUnsuppVersionAlsoFallsBackToNatPmp) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [](const PcpRequest&, std::size_t) {
        pcp::Response r;  // header only: a server that cannot read the request echoes nothing
        r.opcode = pcp::opcode_map;
        r.result = 1;
        r.lifetime = 1800;
        r.epoch = 5;
        return std::optional<std::string>(pcp::encode_response(r));
    };
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 10, 3600); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), {{MapProtocol::udp, 6881}},
                   [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 2; }, 3000ms));
    EXPECT_EQ(describe(reports[1]), "port mapping: UDP 6881 -> external 203.0.113.7:7881, lifetime 3600 s");
    EXPECT_EQ(c.stats().natpmp_fallbacks, 1u);
    c.stop();
}

TEST(NatPmpClientPcp, MapsAgainWhenThePcpEpochSaysTheGatewayLostItsState) {
    asio::io_context io;
    FakeGateway gw(io);
    // The epoch drops from 1000 to 3 between the first round's two answers (a reboot).
    gw.pcp_answer = [](const PcpRequest& q, std::size_t i) { return pcp_grant(q, i == 0 ? 1000 : 3, 3600); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return gw.pcp_requests.size() >= 4; }, 3000ms));
    run_until(io, [] { return false; }, 200ms);
    EXPECT_EQ(gw.pcp_requests.size(), 4u);  // one round again at once, and no loop
    EXPECT_EQ(c.stats().gateway_resets, 1u);
    EXPECT_EQ(gw.pcp_requests[2].q.nonce, gw.pcp_requests[0].q.nonce);
    EXPECT_EQ(reports.back().kind, NatPmpReport::Kind::mapped);
    EXPECT_EQ(reports.back().protocol, MapProtocol::udp);
    c.stop();
}

TEST(NatPmpClientPcp, SilentGatewayEndsTheRoundAfterTheFirstRequest) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [](const PcpRequest&, std::size_t) { return std::optional<std::string>(); };
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, fast_settings(gw), both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return !reports.empty(); }, 3000ms));
    EXPECT_NE(describe(reports[0]).find("no answer from the gateway 127.0.0.1:"), std::string::npos);
    EXPECT_EQ(reports[0].internal_port, 0);
    run_until(io, [] { return false; }, 300ms);
    EXPECT_EQ(gw.pcp_requests.size(), 4u);  // max_tries of the TCP request, nothing for UDP
    EXPECT_TRUE(gw.requests.empty());
    c.stop();
}

TEST(NatPmpClientPcp, OffMeansNatPmpOnly) {
    asio::io_context io;
    FakeGateway gw(io);
    gw.pcp_answer = [](const PcpRequest& q, std::size_t) { return pcp_grant(q, 10, 3600); };
    gw.answer = [](const Request& q, std::size_t) { return grant(q, 10, 3600); };
    NatPmpSettings s = fast_settings(gw);
    s.pcp = false;
    std::vector<NatPmpReport> reports;
    NatPmpClient c(io, s, both(6881), [&](const NatPmpReport& r) { reports.push_back(r); });
    std::string error;
    ASSERT_TRUE(c.start(error)) << error;
    ASSERT_TRUE(run_until(io, [&] { return reports.size() >= 3; }, 3000ms));
    EXPECT_TRUE(gw.pcp_requests.empty());
    EXPECT_EQ(gw.requests.size(), 3u);
    c.stop();
}
