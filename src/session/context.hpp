// What the session shares with its torrents: the network thread's executor, the disk
// pool, settings, our identity and the event queue.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <functional>
#include <string>

#include "piecewise/session.hpp"
#include "proxy/parse/proxy_url.hpp"
#include "storage/disk_pool.hpp"
#include "wire/messages.hpp"

namespace pw::dht {
class DhtNode;
}
namespace pw::lsd {
class LocalDiscovery;
}

namespace pw::session {

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
    proxy::ProxyConfig proxy;                    // Settings::proxy, parsed; not enabled: none
};

}  // namespace pw::session
