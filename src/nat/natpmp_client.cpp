// NAT-PMP (RFC 6886) and PCP (RFC 6887) client: one coroutine runs the rounds (PCP: a MAP
// request per mapping; NAT-PMP: the external address, then each mapping) on a UDP socket
// connected to the gateway; see natpmp_client.hpp.
#include "nat/natpmp_client.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <random>

#include "net/bind_device.hpp"

namespace pw::nat {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string describe(const NatPmpReport& r) {
    std::string what = r.internal_port ? std::string(protocol_name(r.protocol)) + " " +
                                             std::to_string(r.internal_port)
                                       : std::string();
    switch (r.kind) {
        case NatPmpReport::Kind::external_address:
            return "port mapping: external address " + r.external_address.to_string();
        case NatPmpReport::Kind::mapped:
            return "port mapping: " + what + " -> external " + r.external_address.to_string() + ":" +
                   std::to_string(r.external_port) + ", lifetime " + std::to_string(r.lifetime) + " s" +
                   (r.pcp ? " (PCP)" : "");
        case NatPmpReport::Kind::unmapped: return "port mapping: " + what + " removed";
        case NatPmpReport::Kind::gateway_reset: return "port mapping: " + r.error;
        case NatPmpReport::Kind::error:
            return "port mapping: " + (what.empty() ? std::string() : what + ": ") + r.error;
    }
    return "port mapping";
}

struct NatPmpClient::State : std::enable_shared_from_this<NatPmpClient::State> {
    struct Entry {
        Mapping m;
        bool active = false;  // granted and not yet expired or deleted
        std::uint16_t external_port = 0;
        std::uint32_t lifetime = 0;
        Clock::time_point expires{};
        pcp::Nonce nonce{};   // PCP: this mapping's, for its whole life (RFC 6887 section 11.1)
        bool by_pcp = false;  // granted by PCP (deleted by PCP)
    };

    // What a PCP MAP request got: a PCP response, or word that the gateway does not speak
    // PCP version 2 (a NAT-PMP "unsupported version" reply, or PCP's UNSUPP_VERSION).
    struct PcpAnswer {
        bool unsupported = false;
        pcp::Response response;
    };

    State(asio::io_context& io, NatPmpSettings s, std::vector<Mapping> mappings, Handler h)
        : io(io), socket(io), timer(io), wake(io), settings(std::move(s)), on_report(std::move(h)) {
        settings.max_tries = std::max(settings.max_tries, 1);
        std::random_device rd;
        for (const Mapping& m : mappings) {
            Entry e{m};
            for (auto& b : e.nonce) b = static_cast<std::uint8_t>(rd());
            entries.push_back(e);
        }
    }

    // Opens a socket connected to the gateway, bound as the settings say.
    boost::system::error_code open(udp::socket& s) {
        boost::system::error_code ec;
        s.open(udp::v4(), ec);
        if (!ec) ec = net::bind_to_device(s, settings.device);
        if (!ec) s.bind(udp::endpoint(settings.bind_address, 0), ec);
        if (!ec) s.connect(settings.gateway, ec);
        if (ec) {
            boost::system::error_code ignored;
            s.close(ignored);
        }
        return ec;
    }

    bool start(std::string& error) {
        if (running) return true;
        if (!settings.gateway.address().is_v4()) {
            error = "NAT-PMP gateway " + settings.gateway.address().to_string() + " is not IPv4";
            return false;
        }
        if (auto ec = open(socket)) {
            error = "NAT-PMP socket to " + gateway_name() + ": " + ec.message();
            return false;
        }
        running = true;
        asio::co_spawn(io, run(shared_from_this()), asio::detached);
        return true;
    }

    void stop() {
        running = false;
        boost::system::error_code ignored;
        socket.close(ignored);
        timer.cancel();
        wake.cancel();
    }

    std::string gateway_name() const {
        return settings.gateway.address().to_string() + ":" + std::to_string(settings.gateway.port());
    }

    void report(NatPmpReport r) {
        r.external_address = external;
        if (r.kind == NatPmpReport::Kind::error) ++stats.failures;
        auto keep = shared_from_this();  // the handler may destroy the owner
        if (on_report) on_report(r);
    }

    // A reply named `addr` as the gateway's external address: reported when it is new.
    void saw_external(const asio::ip::address_v4& addr, bool by_pcp) {
        if (have_external && addr == external) return;
        external = addr;
        have_external = true;
        report({NatPmpReport::Kind::external_address, MapProtocol::tcp, 0, 0, 0, {}, {}, by_pcp});
    }

    // The gateway granted mapping `e` (by PCP or NAT-PMP; a lifetime of 0: it deleted it):
    // recorded, and reported as `r` (that mapping's report) when anything changed.
    void granted(Entry& e, bool by_pcp, std::uint16_t external_port, std::uint32_t lifetime,
                 NatPmpReport r) {
        const bool changed = !e.active || e.by_pcp != by_pcp || external_port != e.external_port ||
                             lifetime != e.lifetime;
        e.active = lifetime > 0;
        e.by_pcp = by_pcp;
        e.external_port = external_port;
        e.lifetime = lifetime;
        e.expires = Clock::now() + std::chrono::seconds(lifetime);
        if (!changed) return;
        r.kind = NatPmpReport::Kind::mapped;
        r.external_port = external_port;
        r.lifetime = lifetime;
        report(r);
    }

    // RFC 6886 section 3.6: the gateway lost its mappings when its epoch is more than 2 s
    // below what it should be by now.
    bool epoch_reset(std::uint32_t epoch) {
        Clock::time_point now = Clock::now();
        bool reset = false;
        if (have_epoch) {
            auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - epoch_at).count();
            std::int64_t expected_ms = std::int64_t{last_epoch} * 1000 + elapsed * 7 / 8;
            reset = std::int64_t{epoch} * 1000 + 2000 < expected_ms;
        }
        have_epoch = true;
        last_epoch = epoch;
        epoch_at = now;
        return reset;
    }

    // Receives one datagram on `s` before `until`: its size, or nullopt when the time ran
    // out or the socket failed (`err` set for the latter).
    asio::awaitable<std::optional<std::size_t>> receive_until(udp::socket& s, asio::steady_timer& t,
                                                              Clock::time_point until,
                                                              boost::system::error_code& err) {
        const std::uint64_t gen = ++timer_generation;
        t.expires_at(until);
        t.async_wait([weak = weak_from_this(), &s, gen](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!ec && self && self->timer_generation == gen) {
                boost::system::error_code ignored;
                s.cancel(ignored);
            }
        });
        auto [ec, n] = co_await s.async_receive(asio::buffer(buffer), use_tuple);
        ++timer_generation;
        t.cancel();
        if (ec == asio::error::operation_aborted) co_return std::nullopt;
        if (ec) {
            err = ec;
            co_return std::nullopt;
        }
        co_return n;
    }

    template <class T>
    struct Exchange {
        std::optional<T> response;
        std::string error;  // when no response
        bool reset = false;  // the response's epoch says the gateway lost its state
    };

    static std::optional<std::uint32_t> epoch_of(const Response& r) { return r.epoch; }
    static std::optional<std::uint32_t> epoch_of(const PcpAnswer& a) {
        if (a.unsupported) return std::nullopt;
        return a.response.epoch;
    }

    // Sends `request` on `s` and retransmits it (initial_timeout, doubling) until a datagram
    // that `parse` turns into a T arrives, for at most `tries` sends and never past `stop_at`.
    template <class T, class Parse>
    asio::awaitable<Exchange<T>> exchange(udp::socket& s, asio::steady_timer& t, const std::string& request,
                                          Parse parse, int tries, Clock::time_point stop_at) {
        Exchange<T> out;
        std::string last_error;
        for (int i = 0; i < tries && Clock::now() < stop_at; ++i) {
            if (!s.is_open()) co_return out;
            auto [sec, sent] = co_await s.async_send(asio::buffer(request), use_tuple);
            (void)sent;
            if (!s.is_open()) co_return out;
            if (!sec) ++stats.requests_sent;
            else last_error = sec.message();
            const auto until = std::min(stop_at, Clock::now() + settings.initial_timeout * (1 << std::min(i, 16)));
            while (Clock::now() < until) {
                boost::system::error_code rec;
                auto n = co_await receive_until(s, t, until, rec);
                if (!s.is_open()) co_return out;
                if (rec) {
                    // An ICMP error (nothing listens on the gateway's port) comes back on
                    // the connected socket: the try ends, its time is waited out.
                    last_error = rec.message();
                    t.expires_at(until);
                    co_await t.async_wait(use_tuple);
                    break;
                }
                if (!n) break;
                std::optional<T> got = parse(std::string_view(buffer.data(), *n));
                if (!got) {
                    ++stats.malformed;
                    continue;
                }
                ++stats.responses;
                if (auto epoch = epoch_of(*got)) out.reset = epoch_reset(*epoch);
                out.response = std::move(got);
                co_return out;
            }
        }
        out.error = "no answer from the gateway " + gateway_name() + " (" + std::to_string(tries) +
                    " tries" + (last_error.empty() ? "" : ", last error: " + last_error) + ")";
        co_return out;
    }

    // A NAT-PMP response that `matches`.
    template <class Match>
    static auto natpmp_reply(Match matches) {
        return [matches](std::string_view d) -> std::optional<Response> {
            DecodeResult r = decode_response(d);
            if (!r.ok || !matches(r.response)) return std::nullopt;
            return r.response;
        };
    }

    // The answer to a PCP MAP request of `e`: a MAP response with e's nonce, protocol and
    // internal port (an error response without the payload too), or "unsupported version"
    // in either protocol.
    auto pcp_reply(const Entry& e) {
        return [this, nonce = e.nonce, proto = pcp::protocol_number(e.m.protocol),
                port = e.m.internal_port](std::string_view d) -> std::optional<PcpAnswer> {
            if (!d.empty() && d[0] == 0) {  // NAT-PMP
                DecodeResult n = decode_response(d);
                if (n.ok && n.response.result == static_cast<std::uint16_t>(ResultCode::unsupported_version))
                    return PcpAnswer{true, {}};
                return std::nullopt;
            }
            pcp::DecodeResult r = pcp::decode_response(d);
            if (!r.ok || r.response.opcode != pcp::opcode_map) return std::nullopt;
            const pcp::Response& g = r.response;
            if (g.result == static_cast<std::uint8_t>(pcp::ResultCode::unsupp_version)) return PcpAnswer{true, g};
            if (g.has_map && (g.nonce != nonce || g.protocol != proto || g.internal_port != port))
                return std::nullopt;
            ++stats.pcp_responses;
            return PcpAnswer{false, g};
        };
    }

    static auto map_kind(MapProtocol p) {
        return p == MapProtocol::udp ? Response::Kind::map_udp : Response::Kind::map_tcp;
    }

    static auto matches_map(const Mapping& m) {
        return [m](const Response& r) {
            return r.kind == map_kind(m.protocol) && (r.result != 0 || r.internal_port == m.internal_port);
        };
    }

    void gateway_was_reset(std::uint32_t epoch) {
        ++stats.gateway_resets;
        for (Entry& e : entries) e.active = false;
        NatPmpReport r;
        r.kind = NatPmpReport::Kind::gateway_reset;
        r.error = "the gateway " + gateway_name() + " lost its mappings (epoch " + std::to_string(epoch) +
                  " s); mapping again";
        report(r);
    }

    enum class PcpRound { complete, reset, unsupported };

    // The client's address in PCP requests: the socket's source address (RFC 6887 section
    // 8.1), IPv4-mapped.
    pcp::Address client_address(const udp::socket& s) const {
        boost::system::error_code ec;
        auto local = s.local_endpoint(ec);
        if (ec) return pcp::v4_mapped(settings.bind_address.to_bytes());
        if (local.address().is_v6()) return local.address().to_v6().to_bytes();
        return pcp::v4_mapped(local.address().to_v4().to_bytes());
    }

    // A PCP round: one MAP request per mapping. `reset` when the gateway was found reset
    // after the round's first response; `unsupported` when it does not speak PCP.
    asio::awaitable<PcpRound> pcp_round() {
        const auto forever = Clock::time_point::max();
        const pcp::Address client = client_address(socket);
        bool first = true;
        for (Entry& e : entries) {
            pcp::MapRequest q;
            q.lifetime = settings.lifetime;
            q.client_address = client;
            q.nonce = e.nonce;
            q.protocol = pcp::protocol_number(e.m.protocol);
            q.internal_port = e.m.internal_port;
            q.suggested_external_port = e.external_port ? e.external_port : e.m.internal_port;
            q.suggested_external_address = pcp::v4_mapped(have_external ? external.to_bytes()
                                                                        : std::array<std::uint8_t, 4>{});
            const std::string request = pcp::encode_map_request(q);
            auto parse = pcp_reply(e);
            Exchange<PcpAnswer> mx =
                co_await exchange<PcpAnswer>(socket, timer, request, parse, settings.max_tries, forever);
            if (!running) co_return PcpRound::complete;
            if (mx.response && mx.response->unsupported) {
                ++stats.natpmp_fallbacks;
                natpmp_until = Clock::now() + settings.pcp_retry_after;
                co_return PcpRound::unsupported;
            }
            if (mx.reset) {
                gateway_was_reset(mx.response->response.epoch);
                if (!first) co_return PcpRound::reset;
            }
            if (!mx.response && first) {
                // Nothing answered the round's first request: the gateway is not there (as
                // with NAT-PMP's external address request, the round ends here).
                for (Entry& x : entries) x.active = x.active && Clock::now() < x.expires;
                report({NatPmpReport::Kind::error, MapProtocol::tcp, 0, 0, 0, {}, mx.error, true});
                co_return PcpRound::complete;
            }
            first = false;
            NatPmpReport r{NatPmpReport::Kind::error, e.m.protocol, e.m.internal_port, 0, 0, {}, {}, true};
            if (!mx.response) {
                e.active = e.active && Clock::now() < e.expires;
                r.error = mx.error;
                report(r);
                continue;
            }
            const pcp::Response& g = mx.response->response;
            if (g.result != 0) {
                e.active = false;
                r.error = pcp::result_message(g.result);
                report(r);
                continue;
            }
            if (!pcp::is_v4_mapped(g.external_address)) {
                e.active = false;
                r.error = "the gateway assigned an external address that is not IPv4 (" +
                          asio::ip::address_v6(g.external_address).to_string() + ")";
                report(r);
                continue;
            }
            saw_external(asio::ip::address_v4({g.external_address[12], g.external_address[13],
                                               g.external_address[14], g.external_address[15]}),
                         true);
            granted(e, true, g.external_port, g.lifetime, r);
        }
        co_return PcpRound::complete;
    }

    // One round: by PCP while the gateway is not known to speak NAT-PMP only, else (or when
    // PCP turns out unsupported) by NAT-PMP: the external address, then every mapping. False
    // when the gateway was found reset after the round's first response (the mappings made
    // before are gone).
    asio::awaitable<bool> round() {
        ++stats.rounds;
        if (settings.pcp && Clock::now() >= natpmp_until) {
            PcpRound p = co_await pcp_round();
            if (p != PcpRound::unsupported || !running) co_return p != PcpRound::reset;
        }
        const auto forever = Clock::time_point::max();
        auto is_address = [](const Response& r) { return r.kind == Response::Kind::external_address; };
        const std::string address_request = encode_external_address_request();
        auto parse_address = natpmp_reply(is_address);
        Exchange<Response> ex = co_await exchange<Response>(socket, timer, address_request, parse_address,
                                                            settings.max_tries, forever);
        if (!running) co_return true;
        if (!ex.response) {
            for (Entry& e : entries) e.active = e.active && Clock::now() < e.expires;
            report({NatPmpReport::Kind::error, MapProtocol::tcp, 0, 0, 0, {}, ex.error});
            co_return true;
        }
        if (ex.reset) gateway_was_reset(ex.response->epoch);
        if (ex.response->result != 0) {
            report({NatPmpReport::Kind::error, MapProtocol::tcp, 0, 0, 0, {},
                    "external address: " + result_message(ex.response->result)});
            co_return true;
        }
        saw_external(asio::ip::address_v4(ex.response->external_address), false);
        for (Entry& e : entries) {
            const std::uint16_t suggested = e.external_port ? e.external_port : e.m.internal_port;
            const std::string request =
                encode_map_request(e.m.protocol, e.m.internal_port, suggested, settings.lifetime);
            auto parse = natpmp_reply(matches_map(e.m));
            Exchange<Response> mx =
                co_await exchange<Response>(socket, timer, request, parse, settings.max_tries, forever);
            if (!running) co_return true;
            if (mx.reset) {
                gateway_was_reset(mx.response->epoch);
                co_return false;
            }
            NatPmpReport r{NatPmpReport::Kind::error, e.m.protocol, e.m.internal_port, 0, 0, {}, {}};
            if (!mx.response) {
                e.active = e.active && Clock::now() < e.expires;
                r.error = mx.error;
                report(r);
                continue;
            }
            if (mx.response->result != 0) {
                e.active = false;
                r.error = result_message(mx.response->result);
                report(r);
                continue;
            }
            granted(e, false, mx.response->external_port, mx.response->lifetime, r);
        }
        co_return true;
    }

    // When the next round is due: half the shortest lifetime granted, or retry_after when
    // a mapping is missing.
    Clock::duration next_round_in() const {
        std::optional<Clock::duration> half;  // of the shortest lifetime granted
        bool missing = false;
        for (const Entry& e : entries) {
            if (!e.active) {
                missing = true;
                continue;
            }
            Clock::duration h = std::chrono::milliseconds(std::int64_t{e.lifetime} * 500);
            if (!half || h < *half) half = h;
        }
        Clock::duration next = settings.retry_after;
        if (half) next = missing ? std::min(next, *half) : *half;
        return std::max<Clock::duration>(next, settings.min_renew_interval);
    }

    static asio::awaitable<void> run(std::shared_ptr<State> self) {
        bool again_at_once = false;
        while (self->running) {
            bool complete = co_await self->round();
            if (!self->running) break;
            // A reset found in the middle of a round: map again now, but not in a loop.
            if (!complete && !again_at_once) {
                again_at_once = true;
                continue;
            }
            again_at_once = false;
            self->wake.expires_after(self->next_round_in());
            co_await self->wake.async_wait(use_tuple);
        }
    }

    asio::awaitable<void> shutdown(std::chrono::milliseconds budget) {
        const bool was_running = running;
        stop();
        if (!was_running) co_return;
        const Clock::time_point stop_at = Clock::now() + budget;
        udp::socket s(io);
        asio::steady_timer t(io);
        if (open(s)) co_return;
        for (Entry& e : entries) {
            if (!e.active || Clock::now() >= e.expires) continue;
            e.active = false;
            NatPmpReport r{NatPmpReport::Kind::unmapped, e.m.protocol, e.m.internal_port, 0, 0, {}, {}, e.by_pcp};
            std::string why;
            if (e.by_pcp) {
                // RFC 6887 section 15: the mapping's nonce, protocol and internal port with
                // lifetime 0 delete it.
                pcp::MapRequest q;
                q.client_address = client_address(s);
                q.nonce = e.nonce;
                q.protocol = pcp::protocol_number(e.m.protocol);
                q.internal_port = e.m.internal_port;
                q.suggested_external_address = pcp::v4_mapped({});
                const std::string request = pcp::encode_map_request(q);
                auto parse = pcp_reply(e);
                Exchange<PcpAnswer> ex =
                    co_await exchange<PcpAnswer>(s, t, request, parse, settings.max_tries, stop_at);
                if (!ex.response)
                    why = ex.error;
                else if (ex.response->unsupported)
                    why = "the gateway no longer speaks PCP";
                else if (ex.response->response.result != 0)
                    why = pcp::result_message(ex.response->response.result);
            } else {
                // RFC 6886 section 3.4: lifetime 0 and suggested external port 0 delete it.
                const std::string request = encode_map_request(e.m.protocol, e.m.internal_port, 0, 0);
                auto parse = natpmp_reply(matches_map(e.m));
                Exchange<Response> ex =
                    co_await exchange<Response>(s, t, request, parse, settings.max_tries, stop_at);
                if (!ex.response)
                    why = ex.error;
                else if (ex.response->result != 0)
                    why = result_message(ex.response->result);
            }
            if (!why.empty()) {
                r.kind = NatPmpReport::Kind::error;
                r.error = "removing the mapping: " + why;
            }
            report(r);
        }
        boost::system::error_code ignored;
        s.close(ignored);
    }

    asio::io_context& io;
    udp::socket socket;
    asio::steady_timer timer;  // receive timeouts
    asio::steady_timer wake;   // the next round
    NatPmpSettings settings;
    Handler on_report;
    std::vector<Entry> entries;
    std::array<char, max_datagram_size + 1> buffer{};  // one more: a longer datagram is refused
    bool running = false;
    bool have_epoch = false;
    std::uint32_t last_epoch = 0;
    Clock::time_point epoch_at{};
    bool have_external = false;
    asio::ip::address_v4 external;
    // Until then the gateway is taken to speak NAT-PMP only (it answered PCP so).
    Clock::time_point natpmp_until = Clock::time_point::min();
    std::uint64_t timer_generation = 0;
    Stats stats;
};

NatPmpClient::NatPmpClient(asio::io_context& io, NatPmpSettings s, std::vector<Mapping> mappings,
                           Handler on_report)
    : state_(std::make_shared<State>(io, std::move(s), std::move(mappings), std::move(on_report))) {}

NatPmpClient::~NatPmpClient() {
    state_->stop();
}

bool NatPmpClient::start(std::string& error) {
    return state_->start(error);
}

asio::awaitable<void> NatPmpClient::shutdown(std::chrono::milliseconds budget) {
    auto state = state_;
    co_await state->shutdown(budget);
}

void NatPmpClient::stop() {
    state_->stop();
}

NatPmpClient::Stats NatPmpClient::stats() const {
    return state_->stats;
}

}  // namespace pw::nat
