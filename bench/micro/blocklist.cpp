// Micro-benchmarks of blocklist loading (filter/parse/blocklist.hpp) and lookups.
//
// The lists are generated in-process from a fixed seed, shaped like the popular level-1
// lists: N lines (default 300,000) of random IPv4 ranges of 1 to 4,096 addresses, in
// random order, some overlapping, each with an organisation-like name:
//   - "p2p":  `Some Org 123:1.2.3.4-1.2.3.255` (PeerGuardian plaintext, about 14 MB)
//   - "dat":  `001.002.003.004 - 001.002.003.255 , 000 , Some Org 123` (eMule)
//   - "gzip": the P2P list compressed with gzip -6 (inflated while parsing)
// Parsing includes sorting and merging the ranges, i.e. the whole load after the file is
// read. items/s is input lines (ranges) per second. "lookup" measures blocked() on random
// addresses against the merged 300,000-line list.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>

#include "filter/parse/blocklist.hpp"

namespace {

std::string ip(std::uint32_t a, bool dat) {
    char buf[24];
    std::snprintf(buf, sizeof buf, dat ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", a >> 24,
                  (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
    return buf;
}

std::string make_list(int lines, bool dat) {
    std::mt19937 rng(0xb10c);
    std::string out;
    out.reserve(static_cast<std::size_t>(lines) * 56);
    out += "# generated blocklist\n";
    for (int i = 0; i < lines; ++i) {
        std::uint32_t first = rng();
        std::uint32_t len = rng() % 4096;
        std::uint32_t last = first > 0xffffffffu - len ? 0xffffffffu : first + len;
        std::string name = "Some Organisation " + std::to_string(rng() % 100000);
        if (dat)
            out += ip(first, true) + " - " + ip(last, true) + " , 000 , " + name + "\n";
        else
            out += name + ":" + ip(first, false) + "-" + ip(last, false) + "\n";
    }
    return out;
}

std::string gzip(const std::string& text) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, text.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

void run_parse(benchmark::State& state, const std::string& input) {
    std::size_t ranges = 0;
    for (auto _ : state) {
        auto r = pw::filter::parse_blocklist(input);
        if (!r.error.empty() || r.skipped != 0 ||
            r.lines != static_cast<std::size_t>(state.range(0)))
            state.SkipWithError("unexpected parse result");
        ranges = r.ranges.size();
        benchmark::DoNotOptimize(ranges);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
    state.counters["MB"] = static_cast<double>(input.size()) / 1e6;
    state.counters["merged"] = static_cast<double>(ranges);
}

void BM_blocklist_p2p(benchmark::State& state) {
    run_parse(state, make_list(static_cast<int>(state.range(0)), false));
}
BENCHMARK(BM_blocklist_p2p)->Arg(300000)->Unit(benchmark::kMillisecond);

void BM_blocklist_dat(benchmark::State& state) {
    run_parse(state, make_list(static_cast<int>(state.range(0)), true));
}
BENCHMARK(BM_blocklist_dat)->Arg(300000)->Unit(benchmark::kMillisecond);

void BM_blocklist_gzip(benchmark::State& state) {
    run_parse(state, gzip(make_list(static_cast<int>(state.range(0)), false)));
}
BENCHMARK(BM_blocklist_gzip)->Arg(300000)->Unit(benchmark::kMillisecond);

void BM_blocklist_lookup(benchmark::State& state) {
    auto r = pw::filter::parse_blocklist(make_list(static_cast<int>(state.range(0)), false));
    std::mt19937 rng(7);
    std::vector<std::uint32_t> probes(4096);
    for (auto& p : probes) p = rng();
    std::size_t i = 0, hits = 0;
    for (auto _ : state) {
        hits += r.ranges.contains_v4(probes[i++ & 4095]);
        benchmark::DoNotOptimize(hits);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_blocklist_lookup)->Arg(300000);

}  // namespace

BENCHMARK_MAIN();
