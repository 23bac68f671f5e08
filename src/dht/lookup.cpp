// Iterative lookup (BEP 5 "Overview"; Kademlia's node lookup with alpha = 3, k = 8).
#include "dht/lookup.hpp"

#include <algorithm>

namespace pw::dht {

Lookup::Lookup(const NodeId& target, const NodeId& own_id, std::size_t k, std::size_t alpha,
               std::size_t max_candidates, std::size_t max_queries)
    : target_(target),
      own_(own_id),
      k_(k),
      alpha_(alpha),
      max_candidates_(std::max(max_candidates, k)),
      max_queries_(max_queries) {}

Lookup::Candidate* Lookup::find(const Endpoint& ep) {
    for (Candidate& c : cands_)
        if (c.node.endpoint == ep) return &c;
    return nullptr;
}

bool Lookup::has_id(const NodeId& id) const {
    return std::any_of(cands_.begin(), cands_.end(),
                       [&](const Candidate& c) { return c.id_known && c.node.id == id; });
}

void Lookup::sort_and_trim() {
    std::stable_sort(cands_.begin(), cands_.end(), [&](const Candidate& a, const Candidate& b) {
        if (a.id_known != b.id_known) return !a.id_known;
        return a.id_known && closer(target_, a.node.id, b.node.id);
    });
    // Drop the farthest candidates that are not in flight or answered.
    for (std::size_t i = cands_.size(); i-- > 0 && cands_.size() > max_candidates_;) {
        if (cands_[i].state == State::fresh || cands_[i].state == State::failed ||
            cands_[i].state == State::noncompliant)
            cands_.erase(cands_.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

void Lookup::insert(Candidate c) {
    if (c.node.endpoint.port == 0 || find(c.node.endpoint)) return;
    if (c.id_known && (c.node.id == own_ || has_id(c.node.id))) return;
    cands_.push_back(std::move(c));
}

void Lookup::add_seed(const NodeInfo& n) {
    insert(Candidate{n, true, State::fresh, {}, 0});
    sort_and_trim();
}

void Lookup::add_seed_endpoint(const Endpoint& ep) {
    insert(Candidate{NodeInfo{NodeId{}, ep}, false, State::fresh, {}, 0});
    sort_and_trim();
}

void Lookup::add_nodes(const Endpoint& from, const std::vector<NodeInfo>& nodes) {
    int h = hops(from);
    for (const NodeInfo& n : nodes) insert(Candidate{n, true, State::fresh, {}, h + 1});
    sort_and_trim();
}

std::vector<Lookup::Candidate> Lookup::next() {
    std::vector<Candidate> out;
    std::size_t window = 0;
    for (Candidate& c : cands_) {
        if (in_flight_ >= alpha_ || queries_ >= max_queries_ || window >= k_) break;
        if (c.state == State::failed || c.state == State::noncompliant) continue;
        ++window;
        if (c.state != State::fresh) continue;
        c.state = State::in_flight;
        ++in_flight_;
        ++queries_;
        out.push_back(c);
    }
    return out;
}

void Lookup::on_response(const Endpoint& ep, const NodeId& id, const std::string& token,
                         bool compliant) {
    Candidate* c = find(ep);
    if (!c || c->state != State::in_flight) return;
    --in_flight_;
    if (c->id_known && c->node.id != id) {
        c->state = State::failed;
        return;
    }
    if (!c->id_known && (id == own_ || has_id(id))) {
        c->state = State::failed;
        return;
    }
    c->node.id = id;
    c->id_known = true;
    c->state = compliant ? State::responded : State::noncompliant;
    if (compliant) c->token = token;
    sort_and_trim();
}

void Lookup::on_failure(const Endpoint& ep) {
    Candidate* c = find(ep);
    if (!c || c->state != State::in_flight) return;
    --in_flight_;
    c->state = State::failed;
}

bool Lookup::done() const {
    if (in_flight_ > 0) return false;
    if (queries_ >= max_queries_) return true;
    std::size_t window = 0;
    for (const Candidate& c : cands_) {
        if (window >= k_) break;
        if (c.state == State::failed || c.state == State::noncompliant) continue;
        ++window;
        if (c.state == State::fresh) return false;
    }
    return true;
}

bool Lookup::answered(const Endpoint& ep) const {
    for (const Candidate& c : cands_)
        if (c.node.endpoint == ep)
            return c.state == State::responded || c.state == State::noncompliant;
    return false;
}

int Lookup::hops(const Endpoint& ep) const {
    for (const Candidate& c : cands_)
        if (c.node.endpoint == ep) return c.hops;
    return -1;
}

std::vector<Lookup::Candidate> Lookup::closest_responded(std::size_t n, bool with_token) const {
    std::vector<Candidate> out;
    for (const Candidate& c : cands_) {
        if (out.size() >= n) break;
        if (c.state != State::responded || !c.id_known) continue;
        if (with_token && c.token.empty()) continue;
        out.push_back(c);
    }
    return out;
}

}  // namespace pw::dht
