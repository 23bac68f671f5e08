// UPnP IGD client (UPnP Device Architecture 1.1) against an in-process fake gateway on
// 127.0.0.1: SSDP search answered by unicast, the description and SOAP control over HTTP;
// mapping TCP and UDP, the external address, error 725 (permanent leases only), error 718
// (conflict: another external port), renewal, a gateway that never answers, a bad
// description, and deletion at shutdown (bounded when the gateway hangs).
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nat/parse/upnp_xml.hpp"
#include "nat/upnp_client.hpp"

using namespace pw::nat;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

const char* service = "urn:schemas-upnp-org:service:WANIPConnection:1";

std::string description() {
    return std::string("<?xml version=\"1.0\"?><root><device><deviceType>urn:schemas-upnp-org:device:"
                       "InternetGatewayDevice:1</deviceType><friendlyName>fake</friendlyName><deviceList><device>"
                       "<deviceList><device><serviceList><service><serviceType>") +
           service + "</serviceType><controlURL>/ctl</controlURL></service></serviceList></device></deviceList>"
                     "</device></deviceList></device></root>";
}

struct SoapCall {
    std::string action;  // from the SOAPAction header, after '#'
    std::map<std::string, std::string> args;
};

struct Reply {
    unsigned status = 200;
    std::string body;
};

Reply ok_response(const std::string& action, const std::string& inner = {}) {
    return {200, "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                 "<u:" + action + "Response xmlns:u=\"" + service + "\">" + inner + "</u:" + action +
                     "Response></s:Body></s:Envelope>"};
}

Reply upnp_error(int code, const std::string& text) {
    return {500, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
                 "<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError "
                 "xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>" + std::to_string(code) +
                     "</errorCode><errorDescription>" + text + "</errorDescription></UPnPError></detail></s:Fault>"
                     "</s:Body></s:Envelope>"};
}

// A fake IGD: SSDP on a UDP socket (answers every M-SEARCH with its LOCATION), and an HTTP
// server for /desc.xml and /ctl. `answer` decides each SOAP reply (default: grant).
struct FakeIgd {
    explicit FakeIgd(asio::io_context& io)
        : io(io),
          ssdp(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        receive();
        asio::co_spawn(io, accept(), asio::detached);
    }
    ~FakeIgd() {
        boost::system::error_code ignored;
        ssdp.close(ignored);
        acceptor.close(ignored);
    }
    std::string location() const {
        return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/desc.xml";
    }
    void receive() {
        ssdp.async_receive_from(asio::buffer(buf), from, [this](boost::system::error_code ec, std::size_t n) {
            if (ec) return;
            std::string d(buf.data(), n);
            searches.push_back(d);
            if (answer_ssdp) {
                std::string r = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nLOCATION: " + location() +
                                "\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:fake\r\n\r\n";
                ssdp.send_to(asio::buffer(r), from);
            }
            receive();
        });
    }
    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(io, serve(std::move(sock)), asio::detached);
        }
    }
    asio::awaitable<void> serve(tcp::socket sock) {
        beast::tcp_stream stream(std::move(sock));
        beast::flat_buffer b;
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(stream, b, req, use_tuple);
        if (ec) co_return;
        Reply reply;
        if (req.method() == http::verb::get && req.target() == "/desc.xml") {
            ++description_gets;
            reply.body = desc;
        } else if (req.method() == http::verb::post && req.target() == "/ctl") {
            SoapCall call;
            std::string action(req["SOAPAction"]);
            if (auto h = action.find('#'); h != std::string::npos) call.action = action.substr(h + 1);
            if (!call.action.empty() && call.action.back() == '"') call.action.pop_back();
            XmlScan x = scan_xml(req.body());
            for (auto& e : x.elements)
                if (e.depth == 3) call.args[e.name] = e.text;
            calls.push_back(call);
            if (hang && hang(call)) {
                asio::steady_timer t(io);
                t.expires_after(10s);
                co_await t.async_wait(use_tuple);
                co_return;
            }
            reply = answer ? answer(call) : default_answer(call);
        } else {
            reply = {404, ""};
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
        res.set(http::field::content_type, "text/xml");
        res.body() = reply.body;
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    static Reply default_answer(const SoapCall& c) {
        if (c.action == "GetExternalIPAddress")
            return ok_response(c.action, "<NewExternalIPAddress>203.0.113.7</NewExternalIPAddress>");
        return ok_response(c.action);
    }
    std::vector<SoapCall> of(const std::string& action) const {
        std::vector<SoapCall> out;
        for (auto& c : calls)
            if (c.action == action) out.push_back(c);
        return out;
    }

    asio::io_context& io;
    udp::socket ssdp;
    tcp::acceptor acceptor;
    std::array<char, 2048> buf{};
    udp::endpoint from;
    bool answer_ssdp = true;
    std::string desc = description();
    int description_gets = 0;
    std::vector<std::string> searches;
    std::vector<SoapCall> calls;
    std::function<Reply(const SoapCall&)> answer;
    std::function<bool(const SoapCall&)> hang;  // true: never answer this call
};

UpnpSettings fast(const FakeIgd& g) {
    UpnpSettings s;
    s.ssdp_target = g.ssdp.local_endpoint();
    s.ssdp_timeout = 300ms;
    s.ssdp_tries = 2;
    s.http_timeout = 1000ms;
    s.retry_after = 60s;
    return s;
}

struct Harness {
    asio::io_context io;
    std::vector<UpnpReport> reports;
    std::vector<std::string> lines;

    std::unique_ptr<UpnpClient> make(UpnpSettings s, std::vector<Mapping> m) {
        return std::make_unique<UpnpClient>(io, std::move(s), std::move(m), [this](const UpnpReport& r) {
            reports.push_back(r);
            lines.push_back(describe(r));
        });
    }
    // Runs until `done` (checked every 10 ms) or `limit`; true when done.
    bool until(std::function<bool()> done, std::chrono::milliseconds limit = 5s) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < end) io.run_for(10ms);
        return done();
    }
    std::size_t count(UpnpReport::Kind k) const {
        std::size_t n = 0;
        for (auto& r : reports) n += r.kind == k;
        return n;
    }
    void shutdown(UpnpClient& c, std::chrono::milliseconds budget, bool& done) {
        asio::co_spawn(io, [&c, budget, &done]() -> asio::awaitable<void> {
            co_await c.shutdown(budget);
            done = true;
        }, asio::detached);
    }
};

}  // namespace

TEST(UpnpClient, DiscoversMapsTcpAndUdpAndDeletesThemOnShutdown) {
    Harness run;
    FakeIgd igd(run.io);
    auto client = run.make(fast(igd), {{MapProtocol::tcp, 6881}, {MapProtocol::udp, 6881}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    ASSERT_TRUE(run.until([&] { return run.count(UpnpReport::Kind::mapped) == 2; }));
    ASSERT_FALSE(igd.searches.empty());
    EXPECT_NE(igd.searches[0].find("M-SEARCH * HTTP/1.1\r\n"), std::string::npos);
    EXPECT_NE(igd.searches[0].find("ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"), std::string::npos);
    EXPECT_EQ(igd.description_gets, 1);
    ASSERT_EQ(igd.of("GetExternalIPAddress").size(), 1u);
    auto adds = igd.of("AddPortMapping");
    ASSERT_EQ(adds.size(), 2u);
    EXPECT_EQ(adds[0].args["NewProtocol"], "TCP");
    EXPECT_EQ(adds[1].args["NewProtocol"], "UDP");
    for (auto& a : adds) {
        EXPECT_EQ(a.args["NewExternalPort"], "6881");
        EXPECT_EQ(a.args["NewInternalPort"], "6881");
        EXPECT_EQ(a.args["NewInternalClient"], "127.0.0.1");
        EXPECT_EQ(a.args["NewLeaseDuration"], "3600");
        EXPECT_EQ(a.args["NewEnabled"], "1");
    }
    ASSERT_GE(run.lines.size(), 3u);
    EXPECT_EQ(run.lines[0], "port mapping (UPnP): external address 203.0.113.7");
    EXPECT_EQ(run.lines[1], "port mapping (UPnP): TCP 6881 -> external 203.0.113.7:6881, lease 3600 s");
    EXPECT_EQ(run.lines[2], "port mapping (UPnP): UDP 6881 -> external 203.0.113.7:6881, lease 3600 s");

    bool done = false;
    run.shutdown(*client, 2000ms, done);
    ASSERT_TRUE(run.until([&] { return done; }));
    auto dels = igd.of("DeletePortMapping");
    ASSERT_EQ(dels.size(), 2u);
    EXPECT_EQ(dels[0].args["NewProtocol"], "TCP");
    EXPECT_EQ(dels[0].args["NewExternalPort"], "6881");
    EXPECT_EQ(dels[1].args["NewProtocol"], "UDP");
    EXPECT_EQ(run.count(UpnpReport::Kind::unmapped), 2u);
    EXPECT_EQ(run.lines.back(), "port mapping (UPnP): UDP 6881 removed");
    EXPECT_EQ(run.count(UpnpReport::Kind::error), 0u);
}

TEST(UpnpClient, IgdUrlSkipsSsdpAndRenewsAtHalfTheLease) {
    Harness run;
    FakeIgd igd(run.io);
    auto s = fast(igd);
    s.igd_url = igd.location();
    s.lease = 1;
    s.min_renew_interval = 200ms;
    auto client = run.make(s, {{MapProtocol::tcp, 7000}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    ASSERT_TRUE(run.until([&] { return igd.of("AddPortMapping").size() >= 3; }));
    EXPECT_TRUE(igd.searches.empty());  // no SSDP with --upnp-igd
    EXPECT_EQ(igd.description_gets, 1);  // the control URL is kept
    EXPECT_EQ(run.count(UpnpReport::Kind::mapped), 1u);  // renewals of the same mapping are quiet
    client->stop();
}

TEST(UpnpClient, AsksForAPermanentMappingAfterError725) {
    Harness run;
    FakeIgd igd(run.io);
    igd.answer = [](const SoapCall& c) {
        if (c.action == "AddPortMapping" && c.args.at("NewLeaseDuration") != "0")
            return upnp_error(725, "OnlyPermanentLeasesSupported");
        return FakeIgd::default_answer(c);
    };
    auto client = run.make(fast(igd), {{MapProtocol::tcp, 6881}, {MapProtocol::udp, 6881}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    ASSERT_TRUE(run.until([&] { return run.count(UpnpReport::Kind::mapped) == 2; }));
    auto adds = igd.of("AddPortMapping");
    ASSERT_EQ(adds.size(), 3u);  // the UDP one asks without a lease at once
    EXPECT_EQ(adds[0].args["NewLeaseDuration"], "3600");
    EXPECT_EQ(adds[1].args["NewLeaseDuration"], "0");
    EXPECT_EQ(adds[2].args["NewLeaseDuration"], "0");
    EXPECT_EQ(run.lines.back(), "port mapping (UPnP): UDP 6881 -> external 203.0.113.7:6881, permanent");
    EXPECT_EQ(run.count(UpnpReport::Kind::error), 0u);
    client->stop();
}

TEST(UpnpClient, TriesOtherExternalPortsOnConflict) {
    Harness run;
    FakeIgd igd(run.io);
    igd.answer = [](const SoapCall& c) {
        if (c.action == "AddPortMapping" && c.args.at("NewProtocol") == "TCP" &&
            (c.args.at("NewExternalPort") == "6881" || c.args.at("NewExternalPort") == "6882"))
            return upnp_error(718, "ConflictInMappingEntry");
        if (c.action == "AddPortMapping" && c.args.at("NewProtocol") == "UDP") return upnp_error(718, "Conflict");
        return FakeIgd::default_answer(c);
    };
    auto s = fast(igd);
    s.conflict_tries = 3;
    auto client = run.make(s, {{MapProtocol::tcp, 6881}, {MapProtocol::udp, 6881}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    ASSERT_TRUE(run.until([&] { return run.count(UpnpReport::Kind::error) == 1; }));
    EXPECT_NE(std::find(run.lines.begin(), run.lines.end(),
                        "port mapping (UPnP): TCP 6881 -> external 203.0.113.7:6883, lease 3600 s"),
              run.lines.end());
    EXPECT_EQ(run.lines.back(),
              "port mapping (UPnP): UDP 6881: external ports 6881..6883 are taken (UPnP error 718, "
              "ConflictInMappingEntry)");
    EXPECT_EQ(igd.of("AddPortMapping").size(), 6u);  // 3 for TCP, 3 for UDP: bounded

    bool done = false;
    run.shutdown(*client, 2000ms, done);
    ASSERT_TRUE(run.until([&] { return done; }));
    auto dels = igd.of("DeletePortMapping");
    ASSERT_EQ(dels.size(), 1u);  // only the granted one, by its external port
    EXPECT_EQ(dels[0].args["NewExternalPort"], "6883");
}

TEST(UpnpClient, OtherErrorsAreReportedWithTheGatewaysReason) {
    Harness run;
    FakeIgd igd(run.io);
    igd.answer = [](const SoapCall& c) {
        if (c.action == "AddPortMapping") return upnp_error(606, "Action not authorized");
        if (c.action == "GetExternalIPAddress") return ok_response(c.action, "<NewExternalIPAddress>bogus</NewExternalIPAddress>");
        return FakeIgd::default_answer(c);
    };
    auto client = run.make(fast(igd), {{MapProtocol::tcp, 6881}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    ASSERT_TRUE(run.until([&] { return run.count(UpnpReport::Kind::error) == 2; }));
    EXPECT_EQ(run.lines[0],
              "port mapping (UPnP): GetExternalIPAddress: no valid NewExternalIPAddress in the response");
    EXPECT_EQ(run.lines[1], "port mapping (UPnP): TCP 6881: AddPortMapping: UPnP error 606 (Action not authorized)");
    EXPECT_EQ(igd.of("AddPortMapping").size(), 1u);
    client->stop();
}

TEST(UpnpClient, SilentSsdpTargetAndBadDescriptionAreBoundedErrors) {
    Harness run;
    FakeIgd igd(run.io);
    igd.answer_ssdp = false;
    auto client = run.make(fast(igd), {{MapProtocol::tcp, 6881}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(run.until([&] { return run.count(UpnpReport::Kind::error) == 1; }));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(igd.searches.size(), 2u * igd_search_targets.size());  // 2 tries of every target
    EXPECT_NE(run.lines[0].find("no UPnP gateway answered the SSDP search"), std::string::npos) << run.lines[0];
    client->stop();

    Harness run2;
    FakeIgd igd2(run2.io);
    igd2.desc = "<!DOCTYPE x [<!ENTITY a \"b\">]><root>&a;</root>";
    auto s = fast(igd2);
    s.igd_url = igd2.location();
    auto client2 = run2.make(s, {{MapProtocol::tcp, 6881}});
    ASSERT_TRUE(client2->start(err)) << err;
    ASSERT_TRUE(run2.until([&] { return run2.count(UpnpReport::Kind::error) == 1; }));
    EXPECT_NE(run2.lines[0].find("DOCTYPE"), std::string::npos) << run2.lines[0];
    EXPECT_TRUE(igd2.calls.empty());

    s.igd_url = "ftp://127.0.0.1/desc.xml";
    auto client3 = run2.make(s, {{MapProtocol::tcp, 6881}});
    EXPECT_FALSE(client3->start(err));
    EXPECT_NE(err.find("not an http:// URL"), std::string::npos) << err;
}

TEST(UpnpClient, ShutdownIsBoundedWhenTheGatewayHangs) {
    Harness run;
    FakeIgd igd(run.io);
    igd.hang = [](const SoapCall& c) { return c.action == "DeletePortMapping"; };
    auto client = run.make(fast(igd), {{MapProtocol::tcp, 6881}, {MapProtocol::udp, 6881}});
    std::string err;
    ASSERT_TRUE(client->start(err)) << err;
    ASSERT_TRUE(run.until([&] { return run.count(UpnpReport::Kind::mapped) == 2; }));
    bool done = false;
    auto t0 = std::chrono::steady_clock::now();
    run.shutdown(*client, 500ms, done);
    ASSERT_TRUE(run.until([&] { return done; }, 3s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_EQ(run.count(UpnpReport::Kind::unmapped), 0u);
    EXPECT_EQ(run.count(UpnpReport::Kind::error), 2u);  // each deletion reported as failed
}
