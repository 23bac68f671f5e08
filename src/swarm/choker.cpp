#include "swarm/choker.hpp"

#include <algorithm>

namespace pw::swarm {

std::vector<int> Choker::rechoke(const std::vector<ChokeCandidate>& peers, bool seeding) {
    std::vector<const ChokeCandidate*> interested;
    for (const auto& p : peers)
        if (p.interested) interested.push_back(&p);

    // Regular slots: best rate first; snubbed peers last.
    std::stable_sort(interested.begin(), interested.end(), [&](auto* a, auto* b) {
        if (a->snubbed != b->snubbed) return !a->snubbed;
        double ra = seeding ? a->up_rate : a->down_rate;
        double rb = seeding ? b->up_rate : b->down_rate;
        return ra > rb;
    });

    std::vector<int> out;
    int regular = std::max(0, slots_ - 1);
    for (auto* p : interested) {
        if (static_cast<int>(out.size()) >= regular) break;
        out.push_back(p->id);
    }

    // The optimistic slot: keep the current one for three rounds, then rotate.
    std::vector<int> rest;
    for (auto* p : interested)
        if (std::find(out.begin(), out.end(), p->id) == out.end()) rest.push_back(p->id);
    bool keep = optimistic_ >= 0 && round_ % 3 != 0 &&
                std::find(rest.begin(), rest.end(), optimistic_) != rest.end();
    if (!keep) {
        optimistic_ = -1;
        if (!rest.empty()) {
            std::uniform_int_distribution<std::size_t> d(0, rest.size() - 1);
            optimistic_ = rest[d(rng_)];
        }
    }
    if (optimistic_ >= 0 && slots_ > 0) out.push_back(optimistic_);
    ++round_;
    return out;
}

}  // namespace pw::swarm
