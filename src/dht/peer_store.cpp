// Announced peers (BEP 5 announce_peer).
#include "dht/peer_store.hpp"

#include <algorithm>
#include <random>

namespace pw::dht {

bool PeerStore::add(const Sha1Digest& info_hash, const Endpoint& peer, Clock::time_point now) {
    auto it = peers_.find(info_hash);
    if (it == peers_.end()) {
        if (peers_.size() >= max_hashes_ || max_peers_ == 0) return false;
        it = peers_.emplace(info_hash, std::vector<Entry>{}).first;
    }
    auto& list = it->second;
    for (Entry& e : list)
        if (e.peer == peer) {
            e.added = now;
            return true;
        }
    if (list.size() >= max_peers_) {
        auto oldest =
            std::min_element(list.begin(), list.end(),
                             [](const Entry& a, const Entry& b) { return a.added < b.added; });
        *oldest = Entry{peer, now};
        return true;
    }
    list.push_back(Entry{peer, now});
    return true;
}

std::vector<Endpoint> PeerStore::get(const Sha1Digest& info_hash, std::size_t max,
                                         Clock::time_point now) const {
    std::vector<Endpoint> out;
    auto it = peers_.find(info_hash);
    if (it == peers_.end()) return out;
    for (const Entry& e : it->second)
        if (now - e.added < lifetime) out.push_back(e.peer);
    if (out.size() > max) {
        static thread_local std::minstd_rand rng{std::random_device{}()};
        std::shuffle(out.begin(), out.end(), rng);
        out.resize(max);
    }
    return out;
}

void PeerStore::expire(Clock::time_point now) {
    for (auto it = peers_.begin(); it != peers_.end();) {
        std::erase_if(it->second, [&](const Entry& e) { return now - e.added >= lifetime; });
        it = it->second.empty() ? peers_.erase(it) : std::next(it);
    }
}

std::size_t PeerStore::peer_count() const {
    std::size_t n = 0;
    for (const auto& [h, list] : peers_) n += list.size();
    return n;
}

}  // namespace pw::dht
