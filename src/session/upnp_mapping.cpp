// The session's UPnP IGD port mapping; see upnp_mapping.hpp.
#include "session/upnp_mapping.hpp"

#include "nat/upnp_client.hpp"

namespace pw::session {

namespace asio = boost::asio;

UpnpMapping::UpnpMapping(asio::io_context& io, const piecewise::Settings& s, const asio::ip::address& bind_address,
                         const std::string& device, std::uint16_t port, bool udp,
                         std::function<void(piecewise::Event)> emit,
                         std::function<void(const asio::ip::address&)> on_external) {
    nat::UpnpSettings us;
    if (!s.upnp_igd.empty()) {
        std::string why;
        if (!nat::parse_http_url(s.upnp_igd, why))
            throw piecewise::SettingsError("bad UPnP IGD description URL '" + s.upnp_igd + "': " + why);
        us.igd_url = s.upnp_igd;
    }
    if (bind_address.is_v4() && !bind_address.is_unspecified()) us.bind_address = bind_address.to_v4();
    us.device = device;
    std::vector<nat::Mapping> mappings;
    if (s.tcp) mappings.push_back({nat::MapProtocol::tcp, port});
    if (udp) mappings.push_back({nat::MapProtocol::udp, port});
    client_ = std::make_unique<nat::UpnpClient>(
        io, us, std::move(mappings),
        [emit = std::move(emit), on_external = std::move(on_external)](const nat::UpnpReport& r) {
            using K = nat::UpnpReport::Kind;
            if (on_external && (r.kind == K::external_address || r.kind == K::mapped) &&
                !r.external_address.is_unspecified())
                on_external(asio::ip::address(r.external_address));
            emit({r.kind == nat::UpnpReport::Kind::error ? piecewise::EventType::port_mapping_error
                                                         : piecewise::EventType::port_mapped,
                  -1, nat::describe(r)});
        });
}

UpnpMapping::~UpnpMapping() = default;

bool UpnpMapping::start(std::string& error) {
    return client_->start(error);
}

asio::awaitable<void> UpnpMapping::shutdown(std::chrono::milliseconds budget) {
    co_await client_->shutdown(budget);
}

}  // namespace pw::session
