// The session's UPnP IGD port mapping (Settings::upnp): asks the gateway by UPnP
// (UPnP Device Architecture 1.1, WANIPConnection / WANPPPConnection; nat/upnp_client.hpp)
// to forward the peer ports, and turns the client's reports into session events
// (port_mapped, port_mapping_error), as PortMapping does for NAT-PMP.
//
// Contract:
// - The constructor throws piecewise::SettingsError for a Settings::upnp_igd that is not an
//   absolute http:// URL. Nothing is sent before start(), and the session creates this only
//   when Settings::upnp is on.
// - Maps TCP `port` when Settings::tcp, UDP `port` when `udp`; SSDP and HTTP leave from
//   `bind_address` (the listen address when it is IPv4 and not a wildcard) and `device`.
// - shutdown() deletes the mappings within `budget` (on the network thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "piecewise/session.hpp"

namespace pw::nat {
class UpnpClient;
}

namespace pw::session {

class UpnpMapping {
  public:
    // on_external (may be empty) gets the gateway's external address each time it reports
    // one (the DHT derives its BEP 42 node id from it).
    UpnpMapping(boost::asio::io_context& io, const piecewise::Settings& s, const boost::asio::ip::address& bind_address,
                const std::string& device, std::uint16_t port, bool udp, std::function<void(piecewise::Event)> emit,
                std::function<void(const boost::asio::ip::address&)> on_external = {});
    ~UpnpMapping();
    UpnpMapping(const UpnpMapping&) = delete;
    UpnpMapping& operator=(const UpnpMapping&) = delete;

    bool start(std::string& error);
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds budget);

  private:
    std::unique_ptr<nat::UpnpClient> client_;
};

}  // namespace pw::session
