// Internal state of DhtNode, shared by dht_node.cpp (transport, transactions,
// maintenance, persistence), dht_server.cpp (answering queries) and dht_search.cpp
// (iterative lookups). Asynchronous handlers hold a weak_ptr to it, so they do nothing
// once the DhtNode is gone.
//
// One Impl is one address family's DHT (BEP 32: the IPv4 and the IPv6 DHT are
// independent, each with its own routing table, peer store and lookups). A dual-stack
// DhtNode has two, with the same node id, each knowing the other as `sibling`: a query's
// "want" may ask for the other family's nodes, and nodes6/nodes of the other family in
// replies are handed to the sibling to ping.
#pragma once

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <set>
#include <unordered_map>

#include "dht/dht_node.hpp"
#include "dht/ip_voter.hpp"
#include "dht/lookup.hpp"
#include "dht/peer_store.hpp"
#include "dht/rate_limiter.hpp"
#include "dht/routing_table.hpp"
#include "dht/state_file.hpp"
#include "dht/token.hpp"

namespace pw::dht {

// Endpoint <-> asio endpoint. to_endpoint turns IPv4-mapped IPv6 addresses into IPv4.
Endpoint to_endpoint(const boost::asio::ip::udp::endpoint& ep);
boost::asio::ip::udp::endpoint to_udp(const Endpoint& ep);

// One running lookup: get_peers for the caller, or find_node for bootstrap and refresh.
struct Search {
    Search(const NodeId& target, const NodeId& own, bool peers)
        : lookup(target, own), get_peers(peers) {}
    Lookup lookup;
    bool get_peers;
    std::uint16_t announce_port = 0;
    std::function<void(std::vector<boost::asio::ip::udp::endpoint>)> on_peers;
    std::function<void(const LookupStats&)> done;
    std::set<Endpoint> peers_seen;
    Clock::time_point started, deadline;
    bool finished = false;  // no further get_peers/find_node queries
    std::size_t announces_pending = 0;
    int first_peer_hops = -1;
    int max_hops = 0;
    bool is_refresh = false;
    LookupStats stats;
};

struct DhtNode::Impl : std::enable_shared_from_this<DhtNode::Impl> {
    // A reply to one of our queries (nullptr: it timed out).
    using ReplyHandler = std::function<void(const Message*)>;

    struct Pending {
        Endpoint to;
        std::optional<NodeId> expected_id;  // the id we believe answers at `to`
        Clock::time_point deadline;
        ReplyHandler on_reply;
    };

    // state: the state file's contents, read by DhtNode's constructor.
    // v6: the family this Impl serves over `socket`.
    Impl(boost::asio::io_context& io, udp::socket& socket, bool v6, DhtSettings s,
         const std::optional<std::string>& state);

    // dht_node.cpp
    void start();
    void stop();
    void on_packet(const udp::endpoint& from, std::string_view data);
    void send(const Endpoint& to, const Message& m);
    // Sends a query (id, "v", "ro" and the transaction filled in here).
    void query(const Endpoint& to, std::optional<NodeId> expected_id, Message m,
               ReplyHandler on_reply);
    void ping(const Endpoint& to, std::optional<NodeId> expected_id);
    void handle_reply(const Endpoint& from, const Message& m);
    void arm_sweep();
    void sweep();
    void maintenance();
    void arm_maintenance();
    void run_refresh_queue();  // starts queued bucket refreshes, two at a time
    void resolve_bootstrap();
    void save_state_file();  // hands a snapshot to the writer thread
    void finish_writes();    // blocks until the writer thread wrote every snapshot
    void load_state(const std::string& data);
    std::string encode_state() const;
    void log(const std::string& line) const;
    // BEP 42: whether a node with this id at this address may enter the table.
    bool admits(const NodeId& node, const Endpoint& at) const;
    // Our external address (its 4 or 16 bytes) is `ip`, learnt from `source`: a new id
    // derived from it unless ours already passes the check.
    void on_external_address(std::string_view ip, const std::string& source);

    // dht_server.cpp
    void handle_query(const Endpoint& from, const Message& m);
    void reply_error(const Endpoint& from, const std::string& transaction, int code,
                     const std::string& text);

    // The nodes of `family` (v6 or not) closest to target, from this table or the
    // sibling's; empty if neither serves that family.
    std::vector<NodeInfo> closest_of_family(bool family_v6, const NodeId& target) const;
    // The "want" our find_node/get_peers queries carry: our own family, plus the other
    // one while the sibling's table is not yet a full bucket (BEP 32 "Bootstrapping").
    std::uint8_t want_for_queries() const;
    // Nodes of our family named in a reply over the sibling's: pinged, at most a few at a
    // time and only while our table is small.
    void learn_nodes(const std::vector<NodeInfo>& nodes);

    // One get_peers lookup in this family (DhtNode::get_peers_with_stats).
    void get_peers(const Sha1Digest& info_hash, std::uint16_t announce_port,
                   std::function<void(std::vector<udp::endpoint>)> on_peers,
                   std::function<void(const LookupStats&)> done);

    // dht_search.cpp
    std::shared_ptr<Search> start_search(const NodeId& target, bool get_peers);
    void step(std::shared_ptr<Search> s);
    void finish(std::shared_ptr<Search> s);
    void announce(std::shared_ptr<Search> s);
    void complete(std::shared_ptr<Search> s);
    void bootstrap();
    void queue_join_refresh();

    boost::asio::io_context& io;
    udp::socket& socket;
    bool v6;                 // the family of this DHT
    bool socket_v6 = false;  // the socket's family (an IPv6 socket may carry IPv4 too)
    std::weak_ptr<Impl> sibling;
    bool saves_state = true;  // false for the IPv6 half of a dual-stack node
    DhtSettings settings;
    NodeId id;
    RoutingTable table;
    TokenIssuer tokens;
    PeerStore store;
    RateLimiter limiter;
    IpVoter voter;
    boost::asio::steady_timer sweep_timer;
    boost::asio::steady_timer maintenance_timer;
    udp::resolver resolver;
    bool running = false;
    bool sweep_armed = false;

    std::uint16_t next_transaction = 0;
    std::unordered_map<std::uint16_t, Pending> pending;
    std::set<Endpoint> verifying;  // queriers we pinged to check before inserting

    std::vector<Endpoint> bootstrap_endpoints;  // resolved settings.bootstrap
    std::vector<NodeInfo> saved_nodes;          // from the state file
    std::vector<std::shared_ptr<Search>> searches;
    std::shared_ptr<Search> bootstrap_search;
    std::size_t refresh_searches = 0;
    std::vector<NodeId> refresh_queue;  // find_node targets of buckets due for refresh
    bool refreshed_after_bootstrap = false;
    Clock::time_point next_bootstrap{};
    Clock::duration bootstrap_backoff{};
    Clock::time_point next_save{};
    std::unique_ptr<StateFileWriter> writer;  // created by the first save

    DhtStats counters;
};

}  // namespace pw::dht
