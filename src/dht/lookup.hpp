// The iterative lookup of Kademlia as BEP 5 uses it for find_node and get_peers: keep
// the candidates sorted by XOR distance to the target, query up to alpha = 3 of the k = 8
// closest not yet queried at a time, add the nodes each reply names, and stop when the
// k closest candidates that did not fail have all answered.
//
// Pure state machine: the caller sends the queries next() hands out and reports each
// outcome with on_response() / on_failure(). Candidates are keyed by endpoint (what a
// query goes to); an id can be unknown for seeds such as bootstrap routers. Memory is
// bounded: at most max_candidates are kept (the farthest unqueried ones are dropped)
// and at most max_queries are ever handed out.
//
// BEP 42 "Enforcement": a reply reported as not compliant (its id does not match its
// address) counts for nothing but the nodes it names: its token is dropped (never a
// storage target) and it does not count toward the termination condition.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dht/node_id.hpp"

namespace pw::dht {

class Lookup {
  public:
    // noncompliant: answered, but with an id its address does not allow (BEP 42).
    enum class State { fresh, in_flight, responded, failed, noncompliant };
    struct Candidate {
        NodeInfo node;
        bool id_known = true;
        State state = State::fresh;
        std::string token;  // get_peers write token from its reply
        int hops = 0;       // 0 for seeds, 1 + the hops of the node that named it
    };

    Lookup(const NodeId& target, const NodeId& own_id, std::size_t k = 8, std::size_t alpha = 3,
           std::size_t max_candidates = 128, std::size_t max_queries = 256);

    const NodeId& target() const { return target_; }

    // Seeds: nodes from our table (id known) or bootstrap addresses (id unknown).
    void add_seed(const NodeInfo& n);
    void add_seed_endpoint(const Endpoint& ep);
    // Nodes named in the reply of `from`.
    void add_nodes(const Endpoint& from, const std::vector<NodeInfo>& nodes);

    // Candidates to query now; they become in flight.
    std::vector<Candidate> next();
    // `id` is the id the node answered with; a known id that differs counts as failure.
    // compliant = false: the id failed BEP 42's check; the candidate becomes
    // noncompliant (see above).
    void on_response(const Endpoint& ep, const NodeId& id, const std::string& token,
                     bool compliant = true);
    void on_failure(const Endpoint& ep);

    bool done() const;
    std::size_t in_flight() const { return in_flight_; }
    std::size_t queries_sent() const { return queries_; }
    // Whether the candidate at ep answered (compliant or not): its nodes are usable.
    bool answered(const Endpoint& ep) const;
    // Hops of the candidate at ep (-1 if unknown).
    int hops(const Endpoint& ep) const;
    // Up to n answered candidates, closest first; with_token: only those that gave a token.
    std::vector<Candidate> closest_responded(std::size_t n, bool with_token) const;
    const std::vector<Candidate>& candidates() const { return cands_; }

  private:
    Candidate* find(const Endpoint& ep);
    bool has_id(const NodeId& id) const;
    void insert(Candidate c);
    void sort_and_trim();

    NodeId target_;
    NodeId own_;
    std::size_t k_, alpha_, max_candidates_, max_queries_;
    std::vector<Candidate> cands_;  // unknown ids first, then by distance
    std::size_t in_flight_ = 0;
    std::size_t queries_ = 0;
};

}  // namespace pw::dht
