// Who we upload to: tit-for-tat with an optimistic unchoke (BEP 3, "choking").
//
// Every rechoke the interested peers that upload to us fastest keep a regular slot
// (when seeding: the peers we upload to fastest, so the link stays full); one more
// slot rotates every third rechoke to a random other interested peer, which lets
// new peers prove themselves.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace pw::swarm {

struct ChokeCandidate {
    int id;              // caller's handle
    bool interested;     // peer is interested in us
    bool snubbed;        // has not sent us anything for a long time
    double down_rate;    // bytes/s we receive from it
    double up_rate;      // bytes/s we send to it
    bool unchoked;       // currently unchoked by us
};

class Choker {
public:
    explicit Choker(int slots, std::uint64_t seed) : slots_(slots), rng_(seed) {}
    // Returns the ids to unchoke; all others are choked.
    std::vector<int> rechoke(const std::vector<ChokeCandidate>& peers, bool seeding);
    int slots() const { return slots_; }

private:
    int slots_;
    int round_ = 0;
    int optimistic_ = -1;
    // Picks the optimistic unchoke: 8 bytes of state rather than mt19937_64's 5 KB, held
    // once per torrent.
    std::minstd_rand rng_;
};

}  // namespace pw::swarm
