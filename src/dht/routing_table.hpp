// The routing table of a mainline DHT node (BEP 5): k-buckets over the 160-bit XOR space.
//
// Bucket i (i < last) holds nodes whose id shares exactly i leading bits with ours; the
// last bucket holds the rest, the ones closest to us. Only the last bucket, the one that
// covers our own id, splits when full, which is BEP 5's "split only if our id falls in
// the range". Each bucket holds k = 8 nodes and a replacement cache of up to 8 more.
//
// Contract: only nodes that answered one of our queries are inserted (node_responded);
// an unsolicited node list never reaches the table. A node is good if it answered us in
// the last 15 minutes, or answered us once and queried us in the last 15 minutes; bad
// after 2 unanswered queries in a row; questionable otherwise. A full bucket takes a new
// node only in place of a bad one; otherwise the newcomer waits in the replacement cache
// and nodes_to_ping() names the bucket's least recently seen questionable node, whose
// failure to answer (twice) lets the newest replacement in.
//
// Pure logic: time is passed in, nothing is sent.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "dht/node_id.hpp"

namespace pw::dht {

using Clock = std::chrono::steady_clock;

enum class NodeStatus { good, questionable, bad };

struct RoutingEntry {
    NodeInfo node;
    Clock::time_point last_response{};  // last answer to one of our queries
    Clock::time_point last_query{};     // last query it sent us
    int fail_count = 0;                 // our queries it left unanswered, in a row
    Clock::time_point last_seen() const { return std::max(last_response, last_query); }
};

struct Bucket {
    std::vector<RoutingEntry> nodes;         // at most k
    std::vector<RoutingEntry> replacements;  // at most k, nodes that answered us
    Clock::time_point last_changed{};
};

class RoutingTable {
  public:
    static constexpr std::size_t k = 8;
    static constexpr std::chrono::minutes good_window{15};
    static constexpr int bad_after_failures = 2;

    enum class Insert { added, updated, cached, rejected };

    explicit RoutingTable(const NodeId& own, Clock::time_point now = Clock::now());

    const NodeId& own_id() const { return own_; }

    // The same nodes in a table around another own id (a new BEP 42 id): every node and
    // replacement is inserted again as by node_responded at its last response, keeping
    // its last query and failure count; those that no longer fit are dropped.
    RoutingTable with_own_id(const NodeId& own, Clock::time_point now) const;

    // The node answered one of our queries.
    Insert node_responded(const NodeInfo& n, Clock::time_point now);
    // The node sent us a query: refreshes a node already in the table, inserts nothing.
    void node_queried(const NodeId& id, const Endpoint& ep, Clock::time_point now);
    // A query of ours to this node timed out. A node that turns bad is replaced by the
    // newest replacement of its bucket, if there is one.
    void node_failed(const NodeId& id, const Endpoint& ep, Clock::time_point now);

    // Whether node_responded for this id would land in the table itself (room, a bad
    // node to replace, or a split), as opposed to the replacement cache.
    bool has_room_for(const NodeId& id, Clock::time_point now) const;

    const RoutingEntry* find(const NodeId& id) const;
    NodeStatus status(const RoutingEntry& e, Clock::time_point now) const;

    // Up to n non-bad nodes, closest to target first.
    std::vector<NodeInfo> closest(const NodeId& target, std::size_t n) const;
    // Per bucket, the least recently seen questionable node (or one that failed once):
    // these should be pinged. At most `max`.
    std::vector<NodeInfo> nodes_to_ping(Clock::time_point now, std::size_t max) const;
    // Random targets in buckets unchanged for `interval`; marks those buckets changed
    // now, so each is refreshed once per interval.
    std::vector<NodeId> refresh_targets(Clock::time_point now, Clock::duration interval);

    std::size_t size() const;
    std::size_t bucket_count() const { return buckets_.size(); }
    const Bucket& bucket(std::size_t i) const { return buckets_[i]; }
    std::size_t bucket_index(const NodeId& id) const;
    std::vector<NodeInfo> all_nodes() const;

  private:
    bool can_split(std::size_t index) const;
    void split_last();
    RoutingEntry* find_mutable(const NodeId& id);
    bool endpoint_in_use(const Endpoint& ep) const;

    NodeId own_;
    std::vector<Bucket> buckets_;
};

}  // namespace pw::dht
