// A mainline DHT node (BEP 5) with the read-only mode of BEP 43 and the IPv6 DHT of
// BEP 32, as a component that lives on the caller's io_context and shares the caller's
// UDP socket(s).
//
// The owner binds the socket, reads it, and hands every datagram that is a KRPC message
// (first byte 'd') to on_packet(); the node sends through the same socket. Everything
// runs on the io_context's thread: call every member from there.
//
// Contract:
// - The routing table only takes nodes that answered one of our queries (RoutingTable).
//   Nodes named in replies are lookup candidates only, and replies are matched to our
//   queries by transaction id and source address; anything else is dropped. So the node
//   sends only to: bootstrap addresses, add_node() addresses, nodes named in genuine
//   replies, and the source of a query it answers (or pings back to verify).
// - Incoming queries are rate-limited per source IP (token bucket, drop beyond); tokens
//   are HMAC-SHA1(secret, IP) with the secret rotated every 5 minutes; the peer store
//   and every table are bounded.
// - IPv6 (BEP 32): the IPv4 and the IPv6 DHT are separate, each with its own routing
//   table, peer store and lookups, under one node id. A node serves the family of its
//   socket (a dual-stack [::] socket that is not IPv6-only: both), or both with two
//   sockets. Queries carry "want" (our family; both while the other table is small),
//   replies honour the querier's "want" ("nodes"/"nodes6"), get_peers "values" hold
//   peers of the query's family, and a lookup runs in every family served. Datagrams of
//   a family the node does not serve are dropped.
// - BEP 42: our replies (and errors) carry "ip", the querier's address as we see it.
//   The "ip" of replies to our queries are votes on our external address (IpVoter:
//   external_ip_votes distinct addresses must agree); the winner, or an address given
//   to set_external_address() (e.g. by the NAT mapper), gives that family's DHT a new
//   id derived from it unless the current one already passes BEP 42's check for it
//   (which every id does for local-network addresses). A new id rebuilds the routing
//   table around it and looks it up again. The two families start with one id; a
//   derived id belongs to its family only (saved as "id6" for the IPv6 DHT).
//   With enforce_node_id, a node whose id fails the check for its address (local
//   networks and loopback exempt) never enters the routing table; it is still queried
//   and answered, the nodes it names are followed, but its get_peers token is ignored
//   and its reply does not count toward a lookup's end (BEP 42 "Enforcement").
// - read_only (BEP 43): queries are never answered and our queries carry ro=1.
// - After stop() (and in the destructor) no callback is called again; only `log` may
//   still report a failed save of the state file, on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"

namespace pw::dht {

struct DhtSettings {
    std::vector<std::string> bootstrap;  // "host:port"; host names are resolved asynchronously
    bool read_only = false;              // BEP 43
    int max_queries_per_second_per_ip = 50;
    std::size_t max_peers_per_hash = 1000, max_hashes = 10000;
    // The routing table (our id and compact nodes) is saved here on stop() and every
    // save_interval, and reloaded by the constructor. Empty: not saved. The constructor
    // reads it synchronously (construct the node before the io_context runs); writes
    // happen on a thread of the node's own, and the destructor waits for the last one.
    std::string state_file;

    std::optional<Sha1Digest> node_id;              // our id; default: from state_file, else random
    bool enforce_node_id = true;                    // BEP 42: only conforming ids in the table
    std::size_t external_ip_votes = 4;              // BEP 42 "ip" votes that decide our address
    std::chrono::milliseconds query_timeout{2000};  // one KRPC query
    std::chrono::milliseconds lookup_timeout{
        30000};  // one lookup (announces add <= 1 query_timeout)
    std::chrono::milliseconds maintenance_interval{5000};
    std::chrono::milliseconds refresh_interval{15 * 60 * 1000};  // BEP 5: 15 minutes
    std::chrono::milliseconds save_interval{10 * 60 * 1000};
    std::chrono::milliseconds bootstrap_retry{
        10000};  // while the table has < 8 nodes; doubles to 5 min
    std::size_t max_outstanding_queries = 1024;
    std::string version = std::string("PW\0\1", 4);  // KRPC "v"
    std::function<void(std::string_view)> log;       // diagnostics, may be empty
};

struct DhtStats {
    std::uint64_t queries_served = 0;  // queries answered (errors included)
    std::uint64_t queries_sent = 0;
    std::uint64_t responses = 0;  // replies matched to our queries
    std::uint64_t timeouts = 0;
    std::uint64_t rate_limited = 0;   // incoming queries dropped by the rate limit
    std::uint64_t malformed = 0;      // datagrams that were not valid KRPC
    std::uint64_t unsolicited = 0;    // replies matching no query of ours
    std::uint64_t dropped_sends = 0;  // queries not sent: too many outstanding
    std::uint64_t nonconforming = 0;  // replies whose id failed BEP 42's check (enforced)
    std::uint64_t id_changes = 0;     // new ids derived from our external address
    std::size_t peers_stored = 0, hashes_stored = 0;
};

// How a get_peers lookup went.
struct LookupStats {
    int hops = 0;             // depth of the reply that first gave peers (else deepest reply)
    std::size_t queries = 0;  // get_peers queries sent
    std::size_t responses = 0;
    std::size_t peers = 0;      // distinct peers reported
    std::size_t announced = 0;  // announce_peer acknowledged
    std::chrono::milliseconds elapsed{0};
};

class DhtNode {
  public:
    using udp = boost::asio::ip::udp;

    // The socket must be bound: its family (see above) decides what the node serves.
    DhtNode(boost::asio::io_context& io, udp::socket& socket, DhtSettings s);
    // Dual-stack with two sockets (either may be null, not both): the IPv4 DHT on
    // socket4, the IPv6 DHT on socket6. Packets are routed by their source's family.
    DhtNode(boost::asio::io_context& io, udp::socket* socket4, udp::socket* socket6, DhtSettings s);
    ~DhtNode();  // stops, then waits until the state file is written
    DhtNode(const DhtNode&) = delete;
    DhtNode& operator=(const DhtNode&) = delete;

    void start();  // bootstrap + periodic maintenance (bucket refresh, token rotation, expiry)
    void stop();   // queues the state file's save; pending lookups end without callbacks
    // Blocks until every save queued so far (stop()'s included) is in the state file. Any
    // thread; the destructor does it too.
    void finish_writes();
    void on_packet(const udp::endpoint& from, std::string_view data);

    // Iterative get_peers lookup (alpha = 3, k = 8), in each family served. on_peers gets
    // each batch of new peers as it arrives; done is called once, when every lookup
    // converged or lookup_timeout passed. If announce_port != 0, announce_peer goes to
    // the 8 closest nodes that gave tokens (per family) before done is called.
    void get_peers(const Sha1Digest& info_hash, std::uint16_t announce_port,
                   std::function<void(std::vector<udp::endpoint>)> on_peers,
                   std::function<void()> done);
    // The same, with the lookup's figures.
    void get_peers_with_stats(const Sha1Digest& info_hash, std::uint16_t announce_port,
                              std::function<void(std::vector<udp::endpoint>)> on_peers,
                              std::function<void(const LookupStats&)> done);
    // Pings the node (e.g. from a peer's PORT message); it joins the table if it answers.
    void add_node(const udp::endpoint& ep);
    // Our external address of that family, known for certain (a port mapping's report):
    // the family's DHT takes an id derived from it (BEP 42) unless its id already fits.
    void set_external_address(const boost::asio::ip::address& a);

    std::size_t routing_table_size() const;  // both families
    std::size_t routing_table_size(bool v6) const;
    bool serves(bool v6) const;  // whether the node runs that family's DHT
    std::uint64_t queries_served() const;
    const Sha1Digest& id() const;  // the IPv4 DHT's id (the IPv6 one's without IPv4)
    const Sha1Digest& id(bool v6) const;  // that family's; requires serves(v6)
    DhtStats stats() const;
    std::vector<udp::endpoint> routing_table_endpoints() const;
    // The state file's contents: bencoded {"id": our id, "nodes": compact node info,
    // "nodes6": the IPv6 table's, "id6": the IPv6 DHT's id when it differs}.
    std::string save_state() const;

    struct Impl;

  private:
    void init(boost::asio::io_context& io, udp::socket* socket4, udp::socket* socket6,
              DhtSettings s);
    Impl* family(const udp::endpoint& ep) const;  // the half serving ep's family, or null
    std::shared_ptr<Impl> impl_;                  // the IPv4 DHT, or null
    std::shared_ptr<Impl> impl6_;                 // the IPv6 DHT, or null
};

}  // namespace pw::dht
