// UPnP IGD client (UPnP Device Architecture 1.1): SSDP discovery on UDP, the description
// and SOAP control over HTTP/1.1 (Boost.Beast), one coroutine for the rounds; see
// upnp_client.hpp.
#include "nat/upnp_client.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <set>

#include "nat/parse/upnp_xml.hpp"
#include "net/bind_device.hpp"
#include "net/deadline.hpp"

namespace pw::nat {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string describe(const UpnpReport& r) {
    const std::string head = "port mapping (UPnP): ";
    std::string what = r.internal_port ? std::string(protocol_name(r.protocol)) + " " + std::to_string(r.internal_port)
                                       : std::string();
    switch (r.kind) {
        case UpnpReport::Kind::external_address: return head + "external address " + r.external_address.to_string();
        case UpnpReport::Kind::mapped:
            return head + what + " -> external " + r.external_address.to_string() + ":" +
                   std::to_string(r.external_port) +
                   (r.lease ? ", lease " + std::to_string(r.lease) + " s" : std::string(", permanent"));
        case UpnpReport::Kind::unmapped: return head + what + " removed";
        case UpnpReport::Kind::error: return head + (what.empty() ? std::string() : what + ": ") + r.error;
    }
    return head;
}

namespace {

struct HttpReply {
    std::string error;  // non-empty: no reply (transport or framing)
    unsigned status = 0;
    std::string body;
};

}  // namespace

struct UpnpClient::State : std::enable_shared_from_this<UpnpClient::State> {
    struct Entry {
        Mapping m;
        bool active = false;  // granted and not yet deleted
        std::uint16_t external_port = 0;
        std::uint32_t lease = 0;
    };

    State(asio::io_context& io, UpnpSettings s, std::vector<Mapping> mappings, Handler h)
        : io(io), ssdp(io), wake(io), settings(std::move(s)), on_report(std::move(h)) {
        settings.ssdp_tries = std::max(settings.ssdp_tries, 1);
        settings.conflict_tries = std::max(settings.conflict_tries, 1);
        for (const Mapping& m : mappings) entries.push_back({m});
    }

    bool start(std::string& error) {
        if (running) return true;
        if (!settings.igd_url.empty()) {
            std::string why;
            if (!parse_http_url(settings.igd_url, why)) {
                error = "UPnP IGD description URL: " + why;
                return false;
            }
        } else if (!settings.ssdp_target.address().is_v4()) {
            error = "SSDP target " + settings.ssdp_target.address().to_string() + " is not IPv4";
            return false;
        }
        running = true;
        asio::co_spawn(io, run(shared_from_this()), asio::detached);
        return true;
    }

    void stop() {
        running = false;
        boost::system::error_code ignored;
        ssdp.close(ignored);
        for (beast::tcp_stream* s : streams) s->socket().close(ignored);
        wake.cancel();
    }

    void report(UpnpReport r) {
        r.external_address = external;
        if (r.kind == UpnpReport::Kind::error) ++stats.failures;
        auto keep = shared_from_this();  // the handler may destroy the owner
        if (on_report) on_report(r);
    }

    void report_error(std::string error, const Entry* e = nullptr) {
        UpnpReport r;
        r.kind = UpnpReport::Kind::error;
        if (e) {
            r.protocol = e->m.protocol;
            r.internal_port = e->m.internal_port;
        }
        r.error = std::move(error);
        report(r);
    }

    // One HTTP/1.1 exchange with `url` on a fresh connection, bounded by `deadline` and the
    // response size; `make_body` gets the connection's local address (the SOAP requests
    // name it as NewInternalClient) and returns the request body.
    asio::awaitable<HttpReply> exchange(const HttpUrl& url, http::verb verb, std::string soap_action,
                                        std::function<std::string(const asio::ip::address&)> make_body,
                                        Clock::time_point deadline) {
        HttpReply out;
        beast::tcp_stream stream(io);
        streams.insert(&stream);
        // The frame may be destroyed after the state (an io_context torn down mid-exchange).
        struct Unregister {
            std::weak_ptr<State> owner;
            beast::tcp_stream* s;
            ~Unregister() {
                if (auto o = owner.lock()) o->streams.erase(s);
            }
        } unregister{weak_from_this(), &stream};
        const std::string where = url.host_header();

        boost::system::error_code ec;
        asio::ip::address addr = asio::ip::make_address(url.host, ec);
        if (ec) {
            tcp::resolver resolver(io);
            net::Deadline d(io.get_executor());
            d.arm(deadline - Clock::now(), [&resolver] { resolver.cancel(); });
            auto [rec, results] = co_await resolver.async_resolve(url.host, std::to_string(url.port), use_tuple);
            if (!running && !shutting_down) co_return HttpReply{"stopped", 0, {}};
            if (rec || results.empty()) {
                out.error = "resolve " + url.host + ": " + (rec ? rec.message() : "no address");
                co_return out;
            }
            addr = results.begin()->endpoint().address();
        }
        if (!addr.is_v4()) {
            out.error = where + ": only IPv4 gateways are supported";
            co_return out;
        }
        stream.socket().open(tcp::v4(), ec);
        if (!ec) ec = net::bind_to_device(stream.socket(), settings.device);
        if (!ec && !settings.bind_address.is_unspecified())
            stream.socket().bind(tcp::endpoint(settings.bind_address, 0), ec);
        if (ec) {
            out.error = "socket to " + where + ": " + ec.message();
            co_return out;
        }
        stream.expires_at(deadline);
        auto [cec] = co_await stream.async_connect(tcp::endpoint(addr, url.port), use_tuple);
        if (cec) {
            out.error = "connect to " + where + ": " + (cec == beast::error::timeout ? "timed out" : cec.message());
            co_return out;
        }
        asio::ip::address local = stream.socket().local_endpoint(ec).address();
        http::request<http::string_body> req{verb, url.path, 11};
        req.set(http::field::host, url.host_header());
        req.set(http::field::user_agent, "Linux UPnP/1.1 piecewise/" PW_VERSION);
        req.set(http::field::connection, "close");
        if (!soap_action.empty()) {
            req.set(http::field::content_type, "text/xml; charset=\"utf-8\"");
            req.set("SOAPAction", soap_action);
        }
        if (make_body) req.body() = make_body(local);
        req.prepare_payload();
        auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
        (void)written;
        if (wec) {
            out.error = "send to " + where + ": " + (wec == beast::error::timeout ? "timed out" : wec.message());
            co_return out;
        }
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.header_limit(16 * 1024);
        parser.body_limit(max_xml_size);
        auto [rec, nread] = co_await http::async_read(stream, buffer, parser, use_tuple);
        (void)nread;
        if (rec) {
            out.error = "reply from " + where + ": " +
                        (rec == beast::error::timeout       ? std::string("timed out")
                         : rec == http::error::body_limit ? "body over " + std::to_string(max_xml_size) + " bytes"
                                                          : rec.message());
            co_return out;
        }
        out.status = parser.get().result_int();
        out.body = std::move(parser.get().body());
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return out;
    }

    // SSDP (UDA section 1.3): the first valid search response's LOCATION, or nullopt + why.
    asio::awaitable<std::optional<HttpUrl>> search(std::string& error) {
        boost::system::error_code ec;
        ssdp.open(udp::v4(), ec);
        if (!ec) ec = net::bind_to_device(ssdp, settings.device);
        if (!ec) ssdp.bind(udp::endpoint(settings.bind_address, 0), ec);
        if (!ec && settings.ssdp_target.address().is_multicast()) {
            ssdp.set_option(asio::ip::multicast::hops(2), ec);  // UDA 1.1 section 1.1.2: TTL 2
            if (!ec && !settings.bind_address.is_unspecified())
                ssdp.set_option(asio::ip::multicast::outbound_interface(settings.bind_address), ec);
        }
        struct Closer {
            std::weak_ptr<State> owner;
            ~Closer() {
                boost::system::error_code ignored;
                if (auto o = owner.lock()) o->ssdp.close(ignored);
            }
        } closer{weak_from_this()};
        if (ec) {
            error = "SSDP socket: " + ec.message();
            co_return std::nullopt;
        }
        const int mx = std::clamp(static_cast<int>(settings.ssdp_timeout.count() / 1000), 1, 5);
        std::array<char, max_ssdp_size + 1> buf{};
        std::string last_error;
        for (int t = 0; t < settings.ssdp_tries && running; ++t) {
            for (const char* st : igd_search_targets) {
                std::string m = encode_msearch(st, mx);
                auto [sec, n] = co_await ssdp.async_send_to(asio::buffer(m), settings.ssdp_target, use_tuple);
                (void)n;
                if (!running) co_return std::nullopt;
                if (sec) last_error = sec.message();
                else ++stats.ssdp_sent;
            }
            const auto until = Clock::now() + settings.ssdp_timeout;
            while (running && Clock::now() < until) {
                net::Deadline d(io.get_executor());
                d.arm(until - Clock::now(), [this] {
                    boost::system::error_code ignored;
                    ssdp.cancel(ignored);
                });
                udp::endpoint from;
                auto [rec, n] = co_await ssdp.async_receive_from(asio::buffer(buf), from, use_tuple);
                d.cancel();
                if (!running) co_return std::nullopt;
                if (rec == asio::error::operation_aborted) break;
                if (rec) {
                    last_error = rec.message();
                    // An ICMP error comes back on the socket: wait out the try.
                    asio::steady_timer pause(io);
                    pause.expires_at(until);
                    co_await pause.async_wait(use_tuple);
                    break;
                }
                SsdpResponse r = parse_ssdp_response(std::string_view(buf.data(), n));
                if (!r.ok) {
                    ++stats.ssdp_ignored;
                    continue;
                }
                co_return r.location_url;
            }
        }
        error = "no UPnP gateway answered the SSDP search at " + settings.ssdp_target.address().to_string() + ":" +
                std::to_string(settings.ssdp_target.port()) + " (" + std::to_string(settings.ssdp_tries) + " tries" +
                (last_error.empty() ? "" : ", last error: " + last_error) + ")";
        co_return std::nullopt;
    }

    // Finds the gateway's control URL (discovery, then its description); false + report.
    asio::awaitable<bool> discover() {
        std::string why;
        std::optional<HttpUrl> location;
        if (!settings.igd_url.empty()) location = parse_http_url(settings.igd_url, why);
        else location = co_await search(why);
        if (!running) co_return false;
        if (!location) {
            report_error(why);
            co_return false;
        }
        // Named arguments: GCC 12 destroys some temporaries of a co_await expression twice.
        const std::string no_action;
        const std::function<std::string(const asio::ip::address&)> no_body;
        HttpReply reply =
            co_await exchange(*location, http::verb::get, no_action, no_body, Clock::now() + settings.http_timeout);
        if (!running) co_return false;
        if (!reply.error.empty() || reply.status != 200) {
            report_error("device description " + location->to_string() + ": " +
                         (reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error));
            co_return false;
        }
        IgdDescription d = parse_description(reply.body, *location);
        if (!d.ok) {
            report_error(location->to_string() + ": " + d.error);
            co_return false;
        }
        ++stats.discoveries;
        control = d.control_url;
        service_type = d.service_type;
        co_return true;
    }

    struct Soap {
        bool transport_failed = false;
        SoapResponse response;
    };

    asio::awaitable<Soap> soap(const HttpUrl& url, std::string_view action,
                               std::function<SoapRequest(const asio::ip::address&)> make,
                               Clock::time_point deadline) {
        Soap out;
        ++stats.soap_requests;
        std::string soap_action = make(asio::ip::address()).soap_action;
        const std::function<std::string(const asio::ip::address&)> body = [&make](const asio::ip::address& local) {
            return make(local).body;
        };
        HttpReply reply = co_await exchange(url, http::verb::post, soap_action, body, deadline);
        if (!reply.error.empty()) {
            out.transport_failed = true;
            out.response.error = std::string(action) + ": " + reply.error;
            co_return out;
        }
        out.response = parse_soap_response(reply.status, reply.body, action);
        if (!out.response.ok) out.response.error = std::string(action) + ": " + out.response.error;
        co_return out;
    }

    // Maps one entry; false when it failed (reported). `lost` is set on a transport failure.
    asio::awaitable<bool> map(Entry& e, bool& lost) {
        std::uint16_t ext = e.external_port ? e.external_port : e.m.internal_port;
        const std::uint16_t first = ext;
        for (int tried = 0; tried < settings.conflict_tries && running;) {
            const std::uint32_t lease = permanent_only ? 0 : settings.lease;
            const std::string type = service_type;
            const Entry copy = e;
            const std::function<SoapRequest(const asio::ip::address&)> make = [&](const asio::ip::address& local) {
                return encode_add_port_mapping(type, copy.m.protocol, ext, copy.m.internal_port,
                                               local.is_v4() ? local.to_string() : std::string(), lease,
                                               settings.description);
            };
            Soap s = co_await soap(control, "AddPortMapping", make, Clock::now() + settings.http_timeout);
            if (!running) co_return false;
            if (s.transport_failed) {
                lost = true;
                e.active = false;
                report_error(s.response.error, &e);
                co_return false;
            }
            if (s.response.ok) {
                bool changed = !e.active || e.external_port != ext || e.lease != lease;
                e.active = true;
                e.external_port = ext;
                e.lease = lease;
                if (changed) {
                    UpnpReport r;
                    r.kind = UpnpReport::Kind::mapped;
                    r.protocol = e.m.protocol;
                    r.internal_port = e.m.internal_port;
                    r.external_port = ext;
                    r.lease = lease;
                    report(r);
                }
                co_return true;
            }
            if (s.response.upnp_error == upnp_only_permanent_leases && lease != 0) {
                permanent_only = true;  // WANIPConnection:1 gateways: ask again without a lease
                continue;
            }
            if (s.response.upnp_error == upnp_conflict_in_entry) {
                ++tried;
                ext = ext == 65535 ? 1024 : static_cast<std::uint16_t>(ext + 1);
                continue;
            }
            e.active = false;
            report_error(s.response.error, &e);
            co_return false;
        }
        e.active = false;
        if (running)
            report_error("external ports " + std::to_string(first) + ".." + std::to_string(ext == 1024 ? 65535 : ext - 1) +
                             " are taken (UPnP error 718, ConflictInMappingEntry)",
                         &e);
        co_return false;
    }

    // One round; true when every mapping is in place.
    asio::awaitable<bool> round() {
        ++stats.rounds;
        if (!have_control) {
            if (!co_await discover()) co_return false;
            have_control = true;
        }
        const std::function<SoapRequest(const asio::ip::address&)> make = [type = service_type](const asio::ip::address&) {
            return encode_get_external_ip(type);
        };
        Soap ip = co_await soap(control, "GetExternalIPAddress", make, Clock::now() + settings.http_timeout);
        if (!running) co_return false;
        if (ip.transport_failed) {
            have_control = false;
            for (Entry& e : entries) e.active = false;
            report_error(ip.response.error);
            co_return false;
        }
        const std::string* text = ip.response.ok ? ip.response.value("NewExternalIPAddress") : nullptr;
        auto parsed = text ? parse_ipv4(*text) : std::nullopt;
        if (parsed) {
            asio::ip::address_v4 a(*parsed);
            if (!have_external || a != external) {
                external = a;
                have_external = true;
                report({UpnpReport::Kind::external_address, MapProtocol::tcp, 0, 0, 0, {}, {}});
            }
        } else {
            report_error(!ip.response.ok ? ip.response.error
                                         : "GetExternalIPAddress: no valid NewExternalIPAddress in the response");
        }
        bool all = true;
        for (Entry& e : entries) {
            bool lost = false;
            if (!co_await map(e, lost)) all = false;
            if (!running) co_return false;
            if (lost) {
                have_control = false;
                for (Entry& x : entries) x.active = false;
                co_return false;
            }
        }
        co_return all;
    }

    Clock::duration next_round_in(bool complete) const {
        Clock::duration half = settings.lease ? std::chrono::milliseconds(std::int64_t{settings.lease} * 500)
                                              : Clock::duration(settings.retry_after);
        Clock::duration next = complete ? half : std::min<Clock::duration>(half, settings.retry_after);
        if (!complete && std::none_of(entries.begin(), entries.end(), [](const Entry& e) { return e.active; }))
            next = settings.retry_after;
        return std::max<Clock::duration>(next, settings.min_renew_interval);
    }

    static asio::awaitable<void> run(std::shared_ptr<State> self) {
        while (self->running) {
            bool complete = co_await self->round();
            if (!self->running) break;
            self->wake.expires_after(self->next_round_in(complete));
            co_await self->wake.async_wait(use_tuple);
        }
    }

    asio::awaitable<void> shutdown(std::chrono::milliseconds budget) {
        const bool was_running = running;
        stop();
        if (!was_running || !have_control) co_return;
        shutting_down = true;
        const Clock::time_point stop_at = Clock::now() + budget;
        const HttpUrl url = control;
        const std::string type = service_type;
        for (Entry& e : entries) {
            if (!e.active) continue;
            e.active = false;
            if (Clock::now() >= stop_at) {
                report_error("removing the mapping: no time left", &e);
                continue;
            }
            const Entry copy = e;
            const std::function<SoapRequest(const asio::ip::address&)> make = [&](const asio::ip::address&) {
                return encode_delete_port_mapping(type, copy.m.protocol, copy.external_port);
            };
            Soap s = co_await soap(url, "DeletePortMapping", make, std::min(stop_at, Clock::now() + settings.http_timeout));
            if (!shutting_down) break;  // stop() during the shutdown
            if (s.response.ok) {
                report({UpnpReport::Kind::unmapped, e.m.protocol, e.m.internal_port, e.external_port, 0, {}, {}});
            } else {
                report_error("removing the mapping: " + s.response.error, &e);
            }
        }
        shutting_down = false;
    }

    asio::io_context& io;
    udp::socket ssdp;
    asio::steady_timer wake;  // the next round
    UpnpSettings settings;
    Handler on_report;
    std::vector<Entry> entries;
    std::set<beast::tcp_stream*> streams;  // the HTTP exchanges in progress (stop() closes them)
    bool running = false;
    bool shutting_down = false;
    bool have_control = false;
    HttpUrl control;
    std::string service_type;
    bool permanent_only = false;  // the gateway answered 725 once
    bool have_external = false;
    asio::ip::address_v4 external;
    Stats stats;
};

UpnpClient::UpnpClient(asio::io_context& io, UpnpSettings s, std::vector<Mapping> mappings, Handler on_report)
    : state_(std::make_shared<State>(io, std::move(s), std::move(mappings), std::move(on_report))) {}

UpnpClient::~UpnpClient() {
    state_->shutting_down = false;
    state_->stop();
}

bool UpnpClient::start(std::string& error) {
    return state_->start(error);
}

asio::awaitable<void> UpnpClient::shutdown(std::chrono::milliseconds budget) {
    auto state = state_;
    co_await state->shutdown(budget);
}

void UpnpClient::stop() {
    state_->shutting_down = false;
    state_->stop();
}

UpnpClient::Stats UpnpClient::stats() const {
    return state_->stats;
}

}  // namespace pw::nat
