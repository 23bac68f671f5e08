// What the session shares with its torrents: the network thread's executor, the disk
// pool, settings, our identity and the event queue.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "peer/bandwidth_limiter.hpp"
#include "peer/mse_stream.hpp"
#include "filter/parse/ip_ranges.hpp"

#include "piecewise/session.hpp"
#include "proxy/parse/proxy_url.hpp"
#include "session/counters.hpp"
#include "session/connection_limits.hpp"
#include "storage/disk_pool.hpp"
#include "wire/messages.hpp"

namespace pw::dht {
class DhtNode;
}
namespace pw::lsd {
class DiscoverySet;
}

namespace pw::session {

class BandwidthGroups;  // bandwidth_groups.hpp

struct Context {
    boost::asio::io_context& io;
    storage::DiskPool& disk;
    piecewise::Settings settings;
    wire::PeerId peer_id{};
    std::string tracker_key;               // `key` announced to trackers, stable for the session
    std::uint16_t listen_port = 0;
    boost::asio::ip::address bind_address;  // unspecified: let the OS choose
    // The second listener's (IPv6) address and whether there is one (Settings::listen2).
    boost::asio::ip::address bind_address2;
    bool second_listener = false;
    // The local address outgoing connections to `to` leave from: the listen address of
    // `to`'s family (dial() binds only to an address of the same family).
    const boost::asio::ip::address& bind_for(const boost::asio::ip::address& to) const {
        return second_listener && to.is_v6() == bind_address2.is_v6() ? bind_address2 : bind_address;
    }
    // Our listen address of one family as BEP 10's "ipv4"/"ipv6" extension handshake
    // values (4 or 16 bytes); empty when we have no specific address of that family (a
    // wildcard listener's address is unknown to us).
    std::string compact_listen_address(bool v6) const {
        for (const auto* a : {&bind_address, &bind_address2}) {
            if (a == &bind_address2 && !second_listener) break;
            if (a->is_unspecified() || a->is_v6() != v6) continue;
            if (v6) {
                auto b = a->to_v6().to_bytes();
                return std::string(b.begin(), b.end());
            }
            auto b = a->to_v4().to_bytes();
            return std::string(b.begin(), b.end());
        }
        return {};
    }
    // The source address of tracker requests: the listen address when there is one
    // specific one; with two listeners none (empty), so that a tracker is reached over
    // whichever family it has, from the system's choice of source address.
    std::string tracker_bind_ip() const {
        if (second_listener || bind_address.is_unspecified()) return {};
        return bind_address.to_string();
    }
    // The sources of an announce (tracker::announce_from, BEP 7): with two listeners and
    // no proxy, each listen address (a wildcard one standing for its family), so that the
    // tracker records both our IPv4 and our IPv6 endpoint; otherwise tracker_bind_ip().
    std::vector<std::string> tracker_sources() const {
        if (!second_listener || proxy.enabled()) return {tracker_bind_ip()};
        return {bind_address.to_string(), bind_address2.to_string()};
    }
    // True when `ep` is one of our own listen endpoints (a tracker or PEX gave us back).
    bool is_self(const boost::asio::ip::tcp::endpoint& ep) const {
        if (ep.port() != listen_port) return false;
        return ep.address() == bind_address || (second_listener && ep.address() == bind_address2);
    }
    std::string resume_dir;
    std::function<void(piecewise::Event)> emit;  // thread-safe
    dht::DhtNode* dht = nullptr;                 // null when the DHT is off
    lsd::DiscoverySet* lsd = nullptr;            // null unless local service discovery is on
    peer::EncryptionMemory encryption_memory;    // which way (MSE or not) worked per peer
    // Settings::blocklist_file, loaded before the network thread starts; null: none.
    std::shared_ptr<const filter::IpRanges> blocklist;

    // True when `a` is in the blocklist: never dial it, never let it in.
    bool blocked(const boost::asio::ip::address& a) const {
        if (!blocklist) return false;
        if (a.is_v4()) return blocklist->contains_v4(a.to_v4().to_uint());
        return blocklist->contains_v6(a.to_v6().to_bytes());
    }
    proxy::ProxyConfig proxy;                    // Settings::proxy, parsed; not enabled: none
    // The session's rate limits (global buckets; each torrent adds its own); never null.
    std::shared_ptr<peer::BandwidthLimiter> bandwidth;
    SessionCounters counters;                    // Session::session_stats()
    // The session's connection budget (global, half-open and per-IP caps); never null once
    // the Session is constructed.
    ConnectionLimits* limits = nullptr;
    peer::UtpManager* utp = nullptr;             // null when uTP is off
    peer::UtpManager* utp2 = nullptr;            // on the second listener's UDP socket; null: none
    // The uTP manager whose socket reaches `to`'s family (null: none, so TCP is used).
    // A socket bound to a specific address reaches only its family; a single IPv6
    // wildcard listener ([::], dual-stack) also reaches IPv4 peers only by TCP.
    peer::UtpManager* utp_for(const boost::asio::ip::address& to) const {
        if (second_listener && to.is_v6() == bind_address2.is_v6()) return utp2;
        return to.is_v6() == bind_address.is_v6() ? utp : nullptr;
    }
    BandwidthGroups* groups = nullptr;           // bandwidth groups; never null once constructed
    peer::UtpDial utp_dial(const boost::asio::ip::address& to) const { return {utp_for(to), settings.tcp}; }
};

}  // namespace pw::session
