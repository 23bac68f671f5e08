// DhtNode: iterative lookups (BEP 5): get_peers with announce_peer, and find_node for
// bootstrap and bucket refresh.
#include <algorithm>

#include "dht/dht_node_impl.hpp"

namespace pw::dht {

namespace {
constexpr std::size_t max_peers_per_search = 5000;
}

std::shared_ptr<Search> DhtNode::Impl::start_search(const NodeId& target, bool get_peers) {
    auto s = std::make_shared<Search>(target, id, get_peers);
    s->started = Clock::now();
    s->deadline = s->started + settings.lookup_timeout;
    for (const NodeInfo& n : table.closest(target, 2 * RoutingTable::k)) s->lookup.add_seed(n);
    if (table.size() < RoutingTable::k) {
        for (const NodeInfo& n : saved_nodes) s->lookup.add_seed(n);
        for (const Endpoint& ep : bootstrap_endpoints) s->lookup.add_seed_endpoint(ep);
    }
    searches.push_back(s);
    return s;
}

void DhtNode::Impl::bootstrap() {
    if (!running || bootstrap_search) return;
    bootstrap_search = start_search(id, false);
    if (std::size_t n = bootstrap_search->lookup.candidates().size(); n > 0)
        log("bootstrapping from " + std::to_string(n) + " nodes");
    step(bootstrap_search);
}

void DhtNode::Impl::step(std::shared_ptr<Search> s) {
    if (!running || s->finished) return;
    if (Clock::now() >= s->deadline || s->lookup.done()) return finish(s);
    for (const Lookup::Candidate& c : s->lookup.next()) {
        Message m;
        m.method = s->get_peers ? Method::get_peers : Method::find_node;
        m.target = s->lookup.target();
        m.want = want_for_queries();
        std::optional<NodeId> expected;
        if (c.id_known) expected = c.node.id;
        if (s->get_peers) ++s->stats.queries;
        Endpoint ep = c.node.endpoint;
        query(ep, expected, std::move(m), [weak = weak_from_this(), s, ep](const Message* r) {
            auto self = weak.lock();
            if (!self || !self->running || s->finished) return;
            if (!r || r->type != MessageType::response) {
                s->lookup.on_failure(ep);
            } else {
                int hop = s->lookup.hops(ep) + 1;
                // BEP 42: a nonconforming node's token is ignored and its reply does not
                // end the lookup; the nodes and peers it names are still used.
                s->lookup.on_response(ep, r->id, r->token, self->admits(r->id, ep));
                bool accepted = s->lookup.answered(ep);
                if (accepted) {
                    ++s->stats.responses;
                    s->max_hops = std::max(s->max_hops, hop);
                    s->lookup.add_nodes(ep, self->v6 ? r->nodes6 : r->nodes);
                    if (auto other = self->sibling.lock())
                        other->learn_nodes(other->v6 ? r->nodes6 : r->nodes);
                    if (s->get_peers && !r->values.empty()) {
                        std::vector<boost::asio::ip::udp::endpoint> fresh;
                        for (const Endpoint& v : r->values)
                            if (s->peers_seen.size() < max_peers_per_search &&
                                s->peers_seen.insert(v).second)
                                fresh.push_back(to_udp(v));
                        if (!fresh.empty()) {
                            if (s->first_peer_hops < 0) s->first_peer_hops = hop;
                            s->stats.peers += fresh.size();
                            if (s->on_peers) s->on_peers(std::move(fresh));
                            if (!self->running || s->finished) return;
                        }
                    }
                }
            }
            self->step(s);
        });
        if (!running || s->finished) return;
    }
    // Nothing in flight and nothing to ask (e.g. every send was refused): converge now.
    if (s->lookup.in_flight() == 0 && s->lookup.done()) finish(s);
}

// Kademlia's join: after the lookup of our own id, refresh every bucket range farther
// than our closest neighbour (one random target per shared-prefix length), then look our
// own id up once more, so that the nodes of our neighbourhood that the first lookup
// could not reach yet (the network may have been forming too) hear of us.
void DhtNode::Impl::queue_join_refresh() {
    auto closest = table.closest(id, 1);
    int depth = closest.empty() ? 0 : std::min(common_prefix_bits(id, closest.front().id), 159);
    for (int bits = 0; bits <= depth; ++bits)
        refresh_queue.push_back(random_id_with_prefix(id, bits, true));
    refresh_queue.push_back(id);
    run_refresh_queue();
}

void DhtNode::Impl::finish(std::shared_ptr<Search> s) {
    if (s->finished) return;
    s->finished = true;
    if (s->get_peers && s->announce_port != 0)
        announce(s);
    else
        complete(s);
}

void DhtNode::Impl::announce(std::shared_ptr<Search> s) {
    auto targets = s->lookup.closest_responded(RoutingTable::k, true);
    if (targets.empty()) return complete(s);
    s->announces_pending = targets.size();
    for (const Lookup::Candidate& c : targets) {
        Message m;
        m.method = Method::announce_peer;
        m.target = s->lookup.target();
        m.port = s->announce_port;
        m.token = c.token;
        query(c.node.endpoint, c.node.id, std::move(m),
              [weak = weak_from_this(), s](const Message* r) {
                  auto self = weak.lock();
                  if (!self || !self->running) return;
                  if (r && r->type == MessageType::response) ++s->stats.announced;
                  if (--s->announces_pending == 0) self->complete(s);
              });
        if (!running) return;
    }
}

void DhtNode::Impl::complete(std::shared_ptr<Search> s) {
    std::erase(searches, s);
    if (s->is_refresh && refresh_searches > 0) {
        --refresh_searches;
        run_refresh_queue();
    }
    if (s == bootstrap_search) {
        bootstrap_search.reset();
        if (s->lookup.queries_sent() > 0)
            log("bootstrap done: " + std::to_string(table.size()) + " nodes in the routing table");
        // The first bootstrap that reached someone is followed by the join refresh, so
        // that the far buckets fill too, not only our neighbourhood.
        if (table.size() > 0 && !refreshed_after_bootstrap) {
            refreshed_after_bootstrap = true;
            queue_join_refresh();
        }
    }
    s->stats.hops = s->first_peer_hops >= 0 ? s->first_peer_hops : s->max_hops;
    s->stats.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - s->started);
    if (auto done = std::move(s->done)) done(s->stats);
}

}  // namespace pw::dht
