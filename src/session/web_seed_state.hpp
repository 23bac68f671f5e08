// Web seeds (BEP 19) of one torrent: what the torrent remembers about each url-list entry.
// A web seed is a permanently unchoked seed reached over HTTP: it fetches runs of whole
// pieces that no peer has started (see torrent_web_seed.cpp), and stands in PartialPiece
// senders and in the known-peer table under a key no real peer can have (an address in
// 100::/64, the IPv6 discard-only prefix of RFC 6666, port 0), so that hash-failure blame
// and smart-ban treat it exactly like a peer: a piece it alone sent that fails gets it
// banned (BEP 19: "that URL should be discarded"), and in a piece that mixed its blocks
// with peers' the block hashes of the re-download decide who lied.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "peer/web_seed_client.hpp"

namespace pw::session {

struct WebSeedState {
    std::string url;
    boost::asio::ip::tcp::endpoint key;
    int index = 0;
    int active = 0;    // connections running
    int failures = 0;  // in a row, for the back-off
    std::chrono::steady_clock::time_point retry_at{};
    std::string last_error;
    std::int64_t downloaded = 0;
    std::vector<std::shared_ptr<peer::WebSeedClient>> clients;  // open, for close on shutdown
};

// The key standing for web seed `index` (see above), and whether an endpoint is one.
inline boost::asio::ip::tcp::endpoint web_seed_key(int index) {
    boost::asio::ip::address_v6::bytes_type b{};
    b[0] = 0x01;
    b[14] = static_cast<unsigned char>((index >> 8) & 0xff);
    b[15] = static_cast<unsigned char>(index & 0xff);
    return {boost::asio::ip::address_v6(b), 0};
}
inline bool is_web_seed_key(const boost::asio::ip::tcp::endpoint& ep) {
    if (ep.port() != 0 || !ep.address().is_v6()) return false;
    auto b = ep.address().to_v6().to_bytes();
    for (int i = 1; i < 14; ++i)
        if (b[static_cast<std::size_t>(i)] != 0) return false;
    return b[0] == 0x01;
}

}  // namespace pw::session
