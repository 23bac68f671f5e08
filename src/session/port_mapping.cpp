// The session's NAT-PMP port mapping; see port_mapping.hpp.
#include "session/port_mapping.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "nat/natpmp_client.hpp"
#include "nat/parse/default_route.hpp"

namespace pw::session {

namespace asio = boost::asio;
using udp = asio::ip::udp;

std::optional<udp::endpoint> parse_gateway(const std::string& s) {
    std::string_view host = s, port_s;
    if (auto colon = s.find(':'); colon != std::string::npos) {
        host = std::string_view(s).substr(0, colon);
        port_s = std::string_view(s).substr(colon + 1);
        if (port_s.empty()) return std::nullopt;
    }
    unsigned port = nat::natpmp_server_port;
    if (!port_s.empty()) {
        auto [p, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
        if (ec != std::errc() || p != port_s.data() + port_s.size() || port == 0 || port > 65535)
            return std::nullopt;
    }
    boost::system::error_code aec;
    auto addr = asio::ip::make_address_v4(std::string(host), aec);
    if (aec || addr.is_unspecified() || addr.is_multicast()) return std::nullopt;
    return udp::endpoint(addr, static_cast<std::uint16_t>(port));
}

std::optional<udp::endpoint> gateway_endpoint(const piecewise::Settings& s, std::string& error) {
    if (!s.natpmp_gateway.empty()) {
        auto ep = parse_gateway(s.natpmp_gateway);
        if (!ep)
            throw piecewise::SettingsError("bad NAT-PMP gateway '" + s.natpmp_gateway +
                                           "' (expected an IPv4 address, optionally :PORT)");
        return ep;
    }
    const char* path = "/proc/net/route";
    std::ifstream in(path);
    if (!in) {
        error = std::string("port mapping: cannot read ") + path + ": no default gateway to ask";
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto route = nat::parse_default_route(text.str());
    if (!route.found) {
        error = std::string("port mapping: ") +
                (route.error.empty() ? "no default IPv4 gateway in " + std::string(path) : route.error);
        return std::nullopt;
    }
    return udp::endpoint(asio::ip::address_v4(route.gateway), nat::natpmp_server_port);
}

PortMapping::PortMapping(asio::io_context& io, udp::endpoint gateway, const asio::ip::address& bind_address,
                         const std::string& device, std::uint16_t port, bool tcp, bool udp,
                         std::function<void(piecewise::Event)> emit,
                         std::function<void(const asio::ip::address&)> on_external) {
    nat::NatPmpSettings ns;
    ns.gateway = gateway;
    if (bind_address.is_v4() && !bind_address.is_unspecified()) ns.bind_address = bind_address.to_v4();
    ns.device = device;
    std::vector<nat::Mapping> mappings;
    if (tcp) mappings.push_back({nat::MapProtocol::tcp, port});
    if (udp) mappings.push_back({nat::MapProtocol::udp, port});
    client_ = std::make_unique<nat::NatPmpClient>(
        io, ns, std::move(mappings),
        [emit = std::move(emit), on_external = std::move(on_external)](const nat::NatPmpReport& r) {
            using K = nat::NatPmpReport::Kind;
            if (on_external && (r.kind == K::external_address || r.kind == K::mapped) &&
                !r.external_address.is_unspecified())
                on_external(asio::ip::address(r.external_address));
            bool bad = r.kind == K::error || r.kind == K::gateway_reset;
            emit({bad ? piecewise::EventType::port_mapping_error : piecewise::EventType::port_mapped, -1,
                  nat::describe(r)});
        });
}

PortMapping::~PortMapping() = default;

bool PortMapping::start(std::string& error) {
    return client_->start(error);
}

asio::awaitable<void> PortMapping::shutdown(std::chrono::milliseconds budget) {
    co_await client_->shutdown(budget);
}

}  // namespace pw::session
