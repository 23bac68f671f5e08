// The session's port mapping (Settings::natpmp): finds the gateway, asks it by PCP (RFC
// 6887) or NAT-PMP (RFC 6886; nat/natpmp_client.hpp) to forward the peer ports, and turns the client's
// reports into session events (port_mapped, port_mapping_error), so that session code only
// creates it and shuts it down.
//
// Contract:
// - gateway_endpoint() runs on the caller's thread before the network thread starts (it may
//   read /proc/net/route): Settings::natpmp_gateway ("IP" or "IP:PORT", IPv4) when given,
//   else the default IPv4 gateway of /proc/net/route, port 5351. A malformed natpmp_gateway
//   is a SettingsError; no default route is an error string (the session goes on without
//   mapping). Nothing is read or sent unless Settings::natpmp is on.
// - PortMapping maps TCP `port` when `tcp`, UDP `port` when `udp`, bound to `bind_address`
//   (the listen address when it is IPv4 and not a wildcard) and `device`.
// - shutdown() deletes the mappings within `budget` (on the network thread).
// - on_external (may be empty) gets the gateway's external address each time it reports
//   one (the DHT derives its BEP 42 node id from it).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "piecewise/session.hpp"

namespace pw::nat {
class NatPmpClient;
}

namespace pw::session {

// The gateway's NAT-PMP endpoint, or nullopt with `error` set. Throws piecewise::SettingsError
// for a malformed Settings::natpmp_gateway.
std::optional<boost::asio::ip::udp::endpoint> gateway_endpoint(const piecewise::Settings& s, std::string& error);

// "IP" or "IP:PORT" (IPv4; port 5351 when left out); nullopt when malformed.
std::optional<boost::asio::ip::udp::endpoint> parse_gateway(const std::string& s);

// How long Session::stop waits for the gateway to acknowledge the deletions.
inline constexpr std::chrono::milliseconds port_unmap_budget{2000};

class PortMapping {
  public:
    PortMapping(boost::asio::io_context& io, boost::asio::ip::udp::endpoint gateway,
                const boost::asio::ip::address& bind_address, const std::string& device, std::uint16_t port,
                bool tcp, bool udp, std::function<void(piecewise::Event)> emit,
                std::function<void(const boost::asio::ip::address&)> on_external = {});
    ~PortMapping();
    PortMapping(const PortMapping&) = delete;
    PortMapping& operator=(const PortMapping&) = delete;

    bool start(std::string& error);
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds budget);

  private:
    std::unique_ptr<nat::NatPmpClient> client_;
};

}  // namespace pw::session
