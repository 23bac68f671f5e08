// What the session shares with its torrents: the network thread's executor, the disk
// pool, settings, our identity and the event queue.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <functional>
#include <memory>
#include <string>

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
class LocalDiscovery;
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
    std::string resume_dir;
    std::function<void(piecewise::Event)> emit;  // thread-safe
    dht::DhtNode* dht = nullptr;                 // null when the DHT is off
    lsd::LocalDiscovery* lsd = nullptr;          // null unless local service discovery is on
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
    BandwidthGroups* groups = nullptr;           // bandwidth groups; never null once constructed
    peer::UtpDial utp_dial() const { return {utp, settings.tcp}; }
};

}  // namespace pw::session
