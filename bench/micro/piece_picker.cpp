// Micro-benchmarks of the rarest-first piece picker (src/swarm/piece_picker.hpp; BEP 3
// leaves the strategy to the client) in a large swarm.
//
// The swarm: 100,000 pieces and 200 peers, 20 of them seeds (counted with add_seed)
// and 180 with random bitfields whose densities are spread evenly over 2%..98%. All
// randomness comes from fixed seeds, so every run sees the same swarm and the same
// sequence of events.
//
//   BM_pick_and_update   per iteration: a random peer's pick(), remove() of the picked
//                        piece, one `have` (inc) and one lost piece (dec, a stand-in for
//                        peers leaving) at random. When half the pieces are gone the
//                        picker is rebuilt outside the timing, so the measured work is a
//                        download's first half. items/s = rounds per second.
//   BM_pick_sparse_peer  pick() alone for a peer holding the given per-mille of pieces.
//   BM_pick_no_match     pick() for a peer whose pieces are all already started: the
//                        picker walks every candidate and returns -1.
//   BM_inc_all_dec_all   a peer connecting (inc_all) then leaving (dec_all) with a bitfield
//                        of the given per-mille density; items/s = bitfield bits walked.
#include "swarm/piece_picker.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "swarm/bitfield.hpp"

namespace {

using pw::swarm::Bitfield;
using pw::swarm::PiecePicker;

constexpr int kPieces = 100'000;
constexpr int kPeers = 200;
constexpr int kSeeds = 20;

// splitmix64: cheap and deterministic, so the generator costs little next to the picker.
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

Bitfield random_bitfield(Rng& rng, int size, int per_mille) {
    Bitfield b(size);
    for (int i = 0; i < size; ++i)
        if (rng.below(1000) < per_mille) b.set(i);
    return b;
}

struct Swarm {
    std::vector<Bitfield> has;  // peers [0, kSeeds) are seeds
    Swarm() {
        Rng rng{0x5eed0101};
        has.reserve(kPeers);
        for (int p = 0; p < kSeeds; ++p) has.emplace_back(kPieces, true);
        for (int p = kSeeds; p < kPeers; ++p) {
            int density = 20 + (960 * (p - kSeeds)) / (kPeers - kSeeds - 1);
            has.push_back(random_bitfield(rng, kPieces, density));
        }
    }
    bool seed(int p) const { return p < kSeeds; }
    void fill(PiecePicker& picker) const {
        for (int p = 0; p < kPeers; ++p) {
            if (seed(p))
                picker.add_seed();
            else
                picker.inc_all(has[static_cast<std::size_t>(p)]);
        }
    }
};

const Swarm& swarm() {
    static const Swarm s;
    return s;
}

void BM_pick_and_update(benchmark::State& state) {
    Swarm s = swarm();  // a copy: the events below change the bitfields
    Rng rng{0x5eed0202};
    auto picker = std::make_unique<PiecePicker>(kPieces, 42);
    s.fill(*picker);
    std::int64_t picked = 0, rebuilds = 0;
    for (auto _ : state) {
        if (picker->num_candidates() < kPieces / 2) {
            state.PauseTiming();
            picker =
                std::make_unique<PiecePicker>(kPieces, 42 + static_cast<std::uint64_t>(++rebuilds));
            s.fill(*picker);
            state.ResumeTiming();
        }
        int p = rng.below(kPeers);
        int piece = picker->pick(s.has[static_cast<std::size_t>(p)], s.seed(p));
        if (piece >= 0) {
            picker->remove(piece);
            ++picked;
        }
        // A `have` from a random non-seed peer.
        int a = kSeeds + rng.below(kPeers - kSeeds);
        int x = rng.below(kPieces);
        auto& ha = s.has[static_cast<std::size_t>(a)];
        if (!ha.get(x)) {
            ha.set(x);
            picker->inc(x);
        }
        // A piece that goes away with a leaving peer.
        int b = kSeeds + rng.below(kPeers - kSeeds);
        int y = rng.below(kPieces);
        auto& hb = s.has[static_cast<std::size_t>(b)];
        if (hb.get(y)) {
            hb.clear(y);
            picker->dec(y);
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["picked%"] = 100.0 * static_cast<double>(picked) /
                                static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
    state.counters["rebuilds"] = static_cast<double>(rebuilds);
}
BENCHMARK(BM_pick_and_update);

void BM_pick_sparse_peer(benchmark::State& state) {
    const Swarm& s = swarm();
    PiecePicker picker(kPieces, 42);
    s.fill(picker);
    Rng rng{0x5eed0303};
    Bitfield peer = random_bitfield(rng, kPieces, static_cast<int>(state.range(0)));
    int piece = -1;
    for (auto _ : state) {
        piece = picker.pick(peer, false);
        benchmark::DoNotOptimize(piece);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["peer_pieces"] = static_cast<double>(peer.count());
    state.counters["pick_avail"] = piece >= 0 ? picker.availability(piece) : -1;
}
BENCHMARK(BM_pick_sparse_peer)->ArgName("permille")->Arg(1)->Arg(10)->Arg(100)->Arg(500);

void BM_pick_no_match(benchmark::State& state) {
    const Swarm& s = swarm();
    PiecePicker picker(kPieces, 42);
    s.fill(picker);
    // The peer holds exactly the pieces already started: every one of them is removed.
    Rng rng{0x5eed0404};
    Bitfield peer = random_bitfield(rng, kPieces, static_cast<int>(state.range(0)));
    for (int i = 0; i < kPieces; ++i)
        if (peer.get(i)) picker.remove(i);
    for (auto _ : state) {
        int piece = picker.pick(peer, false);
        benchmark::DoNotOptimize(piece);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["candidates"] = static_cast<double>(picker.num_candidates());
}
BENCHMARK(BM_pick_no_match)->ArgName("permille")->Arg(10)->Arg(500);

void BM_inc_all_dec_all(benchmark::State& state) {
    const Swarm& s = swarm();
    PiecePicker picker(kPieces, 42);
    s.fill(picker);
    Rng rng{0x5eed0505};
    Bitfield peer = random_bitfield(rng, kPieces, static_cast<int>(state.range(0)));
    // inc_all and dec_all alternate so the picker stays the same size; both are timed
    // and reported per call.
    for (auto _ : state) {
        picker.inc_all(peer);
        picker.dec_all(peer);
    }
    state.SetItemsProcessed(2 * state.iterations() * kPieces);
    state.counters["calls/s"] =
        benchmark::Counter(2.0, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["set_bits"] = static_cast<double>(peer.count());
}
BENCHMARK(BM_inc_all_dec_all)
    ->ArgName("permille")
    ->Arg(10)
    ->Arg(500)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
