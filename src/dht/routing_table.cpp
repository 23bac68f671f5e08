// Routing table (BEP 5 "Routing Table").
#include "dht/routing_table.hpp"

#include <algorithm>

namespace pw::dht {

RoutingTable::RoutingTable(const NodeId& own, Clock::time_point now) : own_(own) {
    buckets_.emplace_back();
    buckets_.back().last_changed = now;
}

RoutingTable RoutingTable::with_own_id(const NodeId& own, Clock::time_point now) const {
    RoutingTable t(own, now);
    auto reinsert = [&](const RoutingEntry& e) {
        if (t.node_responded(e.node, e.last_response) != Insert::added) return;
        if (RoutingEntry* n = t.find_mutable(e.node.id)) {
            n->last_query = e.last_query;
            n->fail_count = e.fail_count;
        }
    };
    for (const Bucket& b : buckets_)
        for (const RoutingEntry& e : b.nodes) reinsert(e);
    for (const Bucket& b : buckets_)
        for (const RoutingEntry& e : b.replacements) reinsert(e);
    return t;
}

std::size_t RoutingTable::bucket_index(const NodeId& id) const {
    auto cpl = static_cast<std::size_t>(common_prefix_bits(own_, id));
    return std::min(cpl, buckets_.size() - 1);
}

NodeStatus RoutingTable::status(const RoutingEntry& e, Clock::time_point now) const {
    if (e.fail_count >= bad_after_failures) return NodeStatus::bad;
    auto recent = [&](Clock::time_point t) {
        return t != Clock::time_point{} && now - t < good_window;
    };
    if (recent(e.last_response)) return NodeStatus::good;
    if (e.last_response != Clock::time_point{} && recent(e.last_query)) return NodeStatus::good;
    return NodeStatus::questionable;
}

bool RoutingTable::can_split(std::size_t index) const {
    return index + 1 == buckets_.size() && buckets_.size() < 160;
}

void RoutingTable::split_last() {
    Bucket& old = buckets_.back();
    Bucket fresh;
    fresh.last_changed = old.last_changed;
    std::size_t depth = buckets_.size();  // the new bucket's prefix length
    auto move_deeper = [&](std::vector<RoutingEntry>& from, std::vector<RoutingEntry>& to) {
        auto it = std::stable_partition(from.begin(), from.end(), [&](const RoutingEntry& e) {
            return static_cast<std::size_t>(common_prefix_bits(own_, e.node.id)) < depth;
        });
        to.insert(to.end(), it, from.end());
        from.erase(it, from.end());
    };
    move_deeper(old.nodes, fresh.nodes);
    move_deeper(old.replacements, fresh.replacements);
    buckets_.push_back(std::move(fresh));
}

RoutingEntry* RoutingTable::find_mutable(const NodeId& id) {
    Bucket& b = buckets_[bucket_index(id)];
    for (RoutingEntry& e : b.nodes)
        if (e.node.id == id) return &e;
    return nullptr;
}

const RoutingEntry* RoutingTable::find(const NodeId& id) const {
    return const_cast<RoutingTable*>(this)->find_mutable(id);
}

bool RoutingTable::endpoint_in_use(const Endpoint& ep) const {
    for (const Bucket& b : buckets_)
        for (const RoutingEntry& e : b.nodes)
            if (e.node.endpoint == ep) return true;
    return false;
}

bool RoutingTable::has_room_for(const NodeId& id, Clock::time_point now) const {
    if (id == own_) return false;
    std::size_t i = bucket_index(id);
    const Bucket& b = buckets_[i];
    if (b.nodes.size() < k || can_split(i)) return true;
    return std::any_of(b.nodes.begin(), b.nodes.end(),
                       [&](const RoutingEntry& e) { return status(e, now) == NodeStatus::bad; });
}

RoutingTable::Insert RoutingTable::node_responded(const NodeInfo& n, Clock::time_point now) {
    if (n.id == own_ || n.endpoint.port == 0) return Insert::rejected;
    if (RoutingEntry* e = find_mutable(n.id)) {
        // A known id answering from another address is not trusted to move.
        if (!(e->node.endpoint == n.endpoint)) return Insert::rejected;
        e->last_response = now;
        e->fail_count = 0;
        buckets_[bucket_index(n.id)].last_changed = now;
        return Insert::updated;
    }
    // One table slot per address: another id from a known address is not taken.
    if (endpoint_in_use(n.endpoint)) return Insert::rejected;

    RoutingEntry fresh{n, now, Clock::time_point{}, 0};
    for (;;) {
        std::size_t i = bucket_index(n.id);
        Bucket& b = buckets_[i];
        if (b.nodes.size() < k) {
            b.nodes.push_back(fresh);
            b.last_changed = now;
            return Insert::added;
        }
        if (can_split(i)) {
            split_last();
            continue;
        }
        auto bad = std::find_if(b.nodes.begin(), b.nodes.end(), [&](const RoutingEntry& e) {
            return status(e, now) == NodeStatus::bad;
        });
        if (bad != b.nodes.end()) {
            *bad = fresh;
            b.last_changed = now;
            return Insert::added;
        }
        auto& rep = b.replacements;
        auto same = std::find_if(rep.begin(), rep.end(), [&](const RoutingEntry& e) {
            return e.node.id == n.id || e.node.endpoint == n.endpoint;
        });
        if (same != rep.end()) {
            *same = fresh;
            return Insert::cached;
        }
        if (rep.size() >= k) {
            auto oldest = std::min_element(
                rep.begin(), rep.end(),
                [](const auto& a, const auto& c) { return a.last_response < c.last_response; });
            rep.erase(oldest);
        }
        rep.push_back(fresh);
        return Insert::cached;
    }
}

void RoutingTable::node_queried(const NodeId& id, const Endpoint& ep, Clock::time_point now) {
    if (RoutingEntry* e = find_mutable(id); e && e->node.endpoint == ep) e->last_query = now;
}

void RoutingTable::node_failed(const NodeId& id, const Endpoint& ep, Clock::time_point now) {
    Bucket& b = buckets_[bucket_index(id)];
    auto it = std::find_if(b.nodes.begin(), b.nodes.end(), [&](const RoutingEntry& e) {
        return e.node.id == id && e.node.endpoint == ep;
    });
    if (it == b.nodes.end()) {
        // A replacement that fails is simply forgotten.
        std::erase_if(b.replacements, [&](const RoutingEntry& e) {
            return e.node.id == id && e.node.endpoint == ep;
        });
        return;
    }
    ++it->fail_count;
    if (status(*it, now) != NodeStatus::bad || b.replacements.empty()) return;
    auto newest = std::max_element(
        b.replacements.begin(), b.replacements.end(),
        [](const auto& a, const auto& c) { return a.last_response < c.last_response; });
    *it = *newest;
    b.replacements.erase(newest);
    b.last_changed = now;
}

std::vector<NodeInfo> RoutingTable::closest(const NodeId& target, std::size_t n) const {
    std::vector<const RoutingEntry*> all;
    for (const Bucket& b : buckets_)
        for (const RoutingEntry& e : b.nodes)
            if (e.fail_count < bad_after_failures) all.push_back(&e);
    std::size_t m = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m), all.end(),
                      [&](const RoutingEntry* a, const RoutingEntry* b) {
                          return closer(target, a->node.id, b->node.id);
                      });
    std::vector<NodeInfo> out;
    out.reserve(m);
    for (std::size_t i = 0; i < m; ++i) out.push_back(all[i]->node);
    return out;
}

std::vector<NodeInfo> RoutingTable::nodes_to_ping(Clock::time_point now, std::size_t max) const {
    std::vector<NodeInfo> out;
    for (const Bucket& b : buckets_) {
        if (out.size() >= max) break;
        const RoutingEntry* pick = nullptr;
        for (const RoutingEntry& e : b.nodes) {
            bool due = status(e, now) == NodeStatus::questionable ||
                       (e.fail_count > 0 && e.fail_count < bad_after_failures);
            if (due && (!pick || e.last_seen() < pick->last_seen())) pick = &e;
        }
        if (pick) out.push_back(pick->node);
    }
    return out;
}

std::vector<NodeId> RoutingTable::refresh_targets(Clock::time_point now, Clock::duration interval) {
    std::vector<NodeId> out;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        Bucket& b = buckets_[i];
        if (now - b.last_changed < interval) continue;
        bool last = i + 1 == buckets_.size();
        out.push_back(random_id_with_prefix(own_, static_cast<int>(i), !last));
        b.last_changed = now;
    }
    return out;
}

std::size_t RoutingTable::size() const {
    std::size_t n = 0;
    for (const Bucket& b : buckets_) n += b.nodes.size();
    return n;
}

std::vector<NodeInfo> RoutingTable::all_nodes() const {
    std::vector<NodeInfo> out;
    for (const Bucket& b : buckets_)
        for (const RoutingEntry& e : b.nodes) out.push_back(e.node);
    return out;
}

}  // namespace pw::dht
