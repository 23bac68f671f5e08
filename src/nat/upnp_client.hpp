// A UPnP Internet Gateway Device client (UPnP Device Architecture 1.1; WANIPConnection:1/2
// and WANPPPConnection:1): finds the gateway by SSDP, asks it to forward ports to this
// host, learns the external address, keeps the mappings alive and removes them at the end.
//
// Contract:
// - Nothing is sent before start(). Then one coroutine runs rounds:
//   1. Discovery, unless a control URL is known: with `igd_url` set, that description URL
//      is used as is (no SSDP); else an M-SEARCH for each of igd_search_targets is sent to
//      `ssdp_target` (239.255.255.250:1900, multicast TTL 2; a unicast address for tests)
//      from a UDP socket bound to `bind_address` and `device`, up to `ssdp_tries` times,
//      each waiting `ssdp_timeout` for the first valid response with a LOCATION.
//   2. The description is fetched by HTTP GET (at most max_xml_size bytes, `http_timeout`)
//      and parsed (nat/parse/upnp_message.hpp) for the control URL and service type.
//   3. GetExternalIPAddress, then AddPortMapping for every Mapping in order: the external
//      port asked is the one granted before, or the internal port at first;
//      NewInternalClient is the local address of the TCP connection to the control URL
//      (the address on the route to the gateway); the lease is `lease`, and after UPnP
//      error 725 (OnlyPermanentLeasesSupported) 0 from then on; after error 718
//      (ConflictInEntry) the next external port is tried, at most `conflict_tries` ports.
//   Each HTTP exchange is one connection (Connection: close) bounded by `http_timeout` and
//   max_xml_size bytes of response. A transport failure forgets the control URL, so the
//   next round discovers again.
// - Rounds repeat at half the lease (at least min_renew_interval; a permanent mapping is
//   refreshed at half `lease` too), or after `retry_after` when discovery or a mapping
//   failed.
// - Reports go to the handler: the external address when first learnt or changed, each
//   mapping when granted or when its external port or lease changes, errors, and each
//   deletion at shutdown.
// - shutdown(budget) stops the rounds and sends DeletePortMapping for every granted mapping,
//   completing within `budget`. stop() ends everything at once without deletions. Call every
//   member on the io_context's thread; the handler runs there too. IPv4 only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nat/natpmp_client.hpp"  // Mapping
#include "nat/parse/upnp_message.hpp"

namespace pw::nat {

struct UpnpSettings {
    std::string igd_url;  // the description URL; empty: SSDP discovery
    boost::asio::ip::udp::endpoint ssdp_target{boost::asio::ip::make_address_v4(ssdp_multicast_address), ssdp_port};
    boost::asio::ip::address_v4 bind_address;  // unspecified: the kernel picks the source
    std::string device;                        // SO_BINDTODEVICE; empty: any
    std::uint32_t lease = 3600;                // seconds; 0 = permanent
    std::string description = "piecewise";     // NewPortMappingDescription
    std::chrono::milliseconds ssdp_timeout{1500};
    int ssdp_tries = 3;
    std::chrono::milliseconds http_timeout{5000};
    int conflict_tries = 4;
    std::chrono::seconds retry_after{300};
    std::chrono::milliseconds min_renew_interval{10'000};
};

struct UpnpReport {
    enum class Kind { external_address, mapped, unmapped, error } kind{};
    MapProtocol protocol = MapProtocol::tcp;  // mapped, unmapped, and errors about a mapping
    std::uint16_t internal_port = 0;          // 0 when not about a mapping
    std::uint16_t external_port = 0;
    std::uint32_t lease = 0;                       // 0: permanent
    boost::asio::ip::address_v4 external_address;  // the last one learnt
    std::string error;
};

// One line for a report, e.g. "port mapping (UPnP): TCP 6881 -> external 203.0.113.7:6881,
// lease 3600 s" or "port mapping (UPnP): TCP 6881: UPnP error 718 (ConflictInMappingEntry)".
std::string describe(const UpnpReport& r);

class UpnpClient {
  public:
    using Handler = std::function<void(const UpnpReport&)>;

    struct Stats {
        std::uint64_t ssdp_sent = 0;
        std::uint64_t ssdp_ignored = 0;  // datagrams that were no valid search response
        std::uint64_t discoveries = 0;   // descriptions parsed
        std::uint64_t soap_requests = 0;
        std::uint64_t rounds = 0;
        std::uint64_t failures = 0;
    };

    UpnpClient(boost::asio::io_context& io, UpnpSettings s, std::vector<Mapping> mappings, Handler on_report);
    ~UpnpClient();
    UpnpClient(const UpnpClient&) = delete;
    UpnpClient& operator=(const UpnpClient&) = delete;

    bool start(std::string& error);  // false + reason for an unusable igd_url
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds budget);
    void stop();

    Stats stats() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace pw::nat
