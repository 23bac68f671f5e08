// Local Service Discovery (BEP 14): announces the info-hashes we take part in to the local
// network by multicast, IPv4 (239.192.152.143:6771) or IPv6 ([ff15::efc0:988f]:6771), and
// reports the neighbours that announce the same info-hashes.
//
// Contract:
// - One instance per local interface and address family, the family of `interface_addr`.
//   It joins the group on that interface, sends from `interface_addr` on it (IPv4:
//   IP_MULTICAST_IF by address; IPv6: IPV6_MULTICAST_IF by interface index, the interface
//   of Settings::device when set, else the one that has `interface_addr`, else, for `::`,
//   the one the routing table picks for the group) with a hop limit of 1, so announces
//   never leave the local link, and keeps multicast loopback on so that other clients on
//   this host see them; its own announces come back and are recognised by their cookie
//   and ignored. The IPv6 receive socket is IPv6-only.
// - announce(h) sends h now (within the current io_context turn, together with every other
//   hash due then, several Infohash headers per datagram of at most 1400 bytes) unless h
//   was sent less than `min_interval` ago, in which case it is sent when that time is up.
//   While wanted, h is re-announced every `interval`. remove(h) stops announcing it.
// - `on_peer(h, endpoint)` is called only for info-hashes currently announced, with the
//   datagram's source address (of the instance's family; an IPv6 link-local one keeps its
//   scope) and the announced Port; a (source, hash) pair is reported at most once per
//   `report_interval` for each port (see ReportLimiter). Messages that do not decode
//   (lsd/parse/lsd_message.hpp), and those from an unspecified, multicast or other-family
//   source, are dropped.
// - Everything runs on the io_context's thread: call every member there (or before the
//   io_context runs). on_peer may call announce, remove and stop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/sha1.hpp"

namespace pw::lsd {

struct LsdSettings {
    std::string group_v4 = "239.192.152.143";
    std::string group_v6 = "ff15::efc0:988f";
    std::uint16_t port = 6771;
    std::chrono::seconds interval{300};     // re-announce period (BEP 14: 5 minutes)
    std::chrono::seconds min_interval{60};  // no hash is sent more often (BEP 14: 1 minute)
    // Reports of one (source address, info-hash, port) at most this often.
    std::chrono::seconds report_interval{60};
    // Our announces' cookie; empty picks a random one. Instances of one session on several
    // interfaces may share one so that each ignores the others' announces too.
    std::string cookie;
    // Keep both sockets on this network interface (SO_BINDTODEVICE; empty: any), so that
    // announces never leave by another one (Settings::bind_interface).
    std::string device;
};

class LocalDiscovery {
  public:
    using PeerHandler =
        std::function<void(const Sha1Digest&, const boost::asio::ip::tcp::endpoint&)>;

    struct Stats {
        std::uint64_t datagrams_received = 0;
        std::uint64_t malformed = 0;  // refused by the decoder
        std::uint64_t own = 0;        // carrying our cookie
        std::uint64_t peers_reported = 0;
        std::uint64_t reports_limited = 0;  // wanted hash, but held back by the report limit
        std::uint64_t datagrams_sent = 0;
        std::uint64_t send_errors = 0;
        std::uint64_t receive_errors = 0;
    };

    // `on_peer` is called (on the io_context thread) with an info-hash we announced and the
    // address (sender's IP + its announced Port) of a peer in the local network.
    LocalDiscovery(boost::asio::io_context& io, boost::asio::ip::address interface_addr,
                   std::uint16_t listen_port, LsdSettings s, PeerHandler on_peer);
    ~LocalDiscovery();
    LocalDiscovery(const LocalDiscovery&) = delete;
    LocalDiscovery& operator=(const LocalDiscovery&) = delete;

    bool start(std::string& error);  // join the group, start receiving; false + reason on failure
    void stop();                     // leaves the group; announce() still records wishes
    void announce(const Sha1Digest& info_hash);
    void remove(const Sha1Digest& info_hash);

    // What the receive loop does with each datagram; public so tests can feed it directly.
    void handle_datagram(const boost::asio::ip::udp::endpoint& from, std::string_view data);

    const std::string& cookie() const;
    bool is_v6() const;
    Stats stats() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace pw::lsd
