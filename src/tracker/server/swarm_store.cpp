// In-memory swarms of the tracker server (BEP 3 announce semantics, BEP 48 counts).
#include "tracker/server/swarm_store.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace pw::tracker {

PeerEndpoint PeerEndpoint::v4_of(const std::array<std::uint8_t, 4>& a, std::uint16_t port) {
    PeerEndpoint e;
    std::copy(a.begin(), a.end(), e.addr.begin());
    e.port = port;
    return e;
}

PeerEndpoint PeerEndpoint::v6_of(const std::array<std::uint8_t, 16>& a, std::uint16_t port) {
    PeerEndpoint e;
    e.addr = a;
    e.v6 = true;
    e.port = port;
    return e;
}

std::string PeerEndpoint::address_text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf)) return {};
    return buf;
}

std::size_t PeerEndpointHash::operator()(const PeerEndpoint& e) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, e.addr.data(), 8);
    std::memcpy(&b, e.addr.data() + 8, 8);
    std::uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL);
    h ^= (std::uint64_t(e.port) << 1 | (e.v6 ? 1 : 0)) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return static_cast<std::size_t>(h * 0xBF58476D1CE4E5B9ULL);
}

std::size_t SwarmStore::PeerList::find(const PeerEndpoint& e) const {
    if (endpoints.size() < scan_below) {
        for (std::size_t i = 0; i < endpoints.size(); ++i)
            if (endpoints[i] == e) return i;
        return peers.size();
    }
    auto it = index.find(e);
    return it == index.end() ? peers.size() : it->second;
}

void SwarmStore::PeerList::add(const PeerEndpoint& e, Peer p) {
    index.emplace(e, peers.size());
    endpoints.push_back(e);
    peers.push_back(std::move(p));
}

void SwarmStore::PeerList::remove_at(std::size_t i) {
    index.erase(endpoints[i]);
    if (i + 1 != peers.size()) {
        peers[i] = std::move(peers.back());
        endpoints[i] = endpoints.back();
        index[endpoints[i]] = i;
    }
    peers.pop_back();
    endpoints.pop_back();
}

SwarmStore::SwarmStore(StoreLimits limits, Clock::duration peer_ttl, std::uint64_t seed)
    : limits_(limits), peer_ttl_(peer_ttl), rng_(seed) {}

SwarmCounts SwarmStore::counts_of(const Swarm& s) {
    const auto total = static_cast<std::uint32_t>(s.size());
    return {s.seeders, total - s.seeders, s.downloaded};
}

void SwarmStore::remove_peer(Swarm& s, PeerList& list, std::size_t i) {
    if (list.peers[i].seed()) {
        --s.seeders;
        --total_seeders_;
    }
    --total_peers_;
    list.remove_at(i);
}

// Visits the list in a random order (a random start and a random stride coprime with
// its size, which visits every index once) and takes up to `want` peers that are not
// the requester. O(want), no allocation beyond `out`.
void SwarmStore::pick(const PeerList& list, const PeerEndpoint& self, std::size_t want,
                      bool peer_ids, std::vector<ReplyPeer>& out) {
    const std::size_t n = list.endpoints.size();
    if (n == 0 || want == 0) return;
    std::size_t start = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    std::size_t stride =
        std::uniform_int_distribution<std::size_t>(1, std::max<std::size_t>(1, n - 1))(rng_);
    while (std::gcd(stride, n) != 1) ++stride;
    std::size_t taken = 0;
    if (stride >= n) stride %= n;  // n == 1: stride 1 becomes 0, and one visit is all
    for (std::size_t k = 0, i = start; k < n && taken < want; ++k) {
        const PeerEndpoint& e = list.endpoints[i];
        if (!(e == self)) {
            out.push_back({e, peer_ids ? list.peers[i].peer_id : wire::PeerId{}});
            ++taken;
        }
        i += stride;  // i + stride < 2n: one subtraction instead of a division
        if (i >= n) i -= n;
    }
}

StoreReply SwarmStore::announce(const StoreAnnounce& a, Clock::time_point now) {
    StoreReply reply;
    announce(a, now, reply);
    return reply;
}

void SwarmStore::announce(const StoreAnnounce& a, Clock::time_point now, StoreReply& reply) {
    reply.failure.clear();
    reply.counts = {};
    reply.peers.clear();
    auto it = swarms_.find(a.info_hash);
    if (it == swarms_.end()) {
        if (a.event == Event::stopped) return;  // nothing to remove, nothing to create
        if (swarms_.size() >= limits_.max_torrents) {
            reply.failure = "tracker is full: too many torrents";
            return;
        }
        it = swarms_.emplace(a.info_hash, Swarm{}).first;
    }
    Swarm& s = it->second;
    PeerList& mine = a.endpoint.v6 ? s.v6 : s.v4;
    const std::size_t found = mine.find(a.endpoint);
    const bool known = found != mine.peers.size();

    if (a.event == Event::stopped) {
        if (known) remove_peer(s, mine, found);
        reply.counts = counts_of(s);
        return;
    }
    if (a.event == Event::completed) ++s.downloaded;

    if (known) {
        Peer& p = mine.peers[found];
        const bool was_seed = p.seed();
        p.peer_id = a.peer_id;
        p.left = a.left;
        p.last_seen = now;
        if (was_seed != p.seed()) {
            const int d = p.seed() ? 1 : -1;
            s.seeders += d;
            total_seeders_ += d;
        }
    } else if (s.size() < limits_.max_peers_per_torrent && total_peers_ < limits_.max_peers) {
        mine.add(a.endpoint, Peer{a.peer_id, a.left, now});
        ++total_peers_;
        if (a.left == 0) {
            ++s.seeders;
            ++total_seeders_;
        }
    }
    reply.counts = counts_of(s);

    int want = a.numwant < 0 ? limits_.default_numwant : a.numwant;
    want = std::clamp(want, 0, limits_.max_numwant);
    const PeerList& other = a.endpoint.v6 ? s.v4 : s.v6;
    pick(mine, a.endpoint, static_cast<std::size_t>(want), a.peer_ids, reply.peers);
    if (a.both_families) {
        const std::size_t left = static_cast<std::size_t>(want) - reply.peers.size();
        pick(other, a.endpoint, left, a.peer_ids, reply.peers);
    }
}

SwarmCounts SwarmStore::scrape(const Sha1Digest& info_hash) const {
    auto it = swarms_.find(info_hash);
    return it == swarms_.end() ? SwarmCounts{} : counts_of(it->second);
}

std::vector<std::pair<Sha1Digest, SwarmCounts>> SwarmStore::scrape_all(std::size_t max) const {
    std::vector<std::pair<Sha1Digest, SwarmCounts>> out;
    for (const auto& [h, s] : swarms_) {
        if (out.size() >= max) break;
        out.emplace_back(h, counts_of(s));
    }
    return out;
}

std::size_t SwarmStore::sweep(Clock::time_point now) {
    std::size_t dropped = 0;
    for (auto it = swarms_.begin(); it != swarms_.end();) {
        Swarm& s = it->second;
        for (PeerList* list : {&s.v4, &s.v6}) {
            for (std::size_t i = 0; i < list->peers.size();) {
                if (now - list->peers[i].last_seen > peer_ttl_) {
                    remove_peer(s, *list, i);  // the last peer moved to i: look at i again
                    ++dropped;
                } else {
                    ++i;
                }
            }
        }
        if (s.size() == 0)
            it = swarms_.erase(it);
        else
            ++it;
    }
    return dropped;
}

StoreTotals SwarmStore::totals() const {
    return {swarms_.size(), total_seeders_, total_peers_ - total_seeders_};
}

}  // namespace pw::tracker
