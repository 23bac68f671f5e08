// Micro-benchmarks of SHA-1 (BEP 3 piece hashes) through pw::crypto (OpenSSL EVP;
// src/crypto/sha1.hpp), over 16 KiB (one block) and 1 MiB (one large piece) buffers.
// bench/micro/run prints `openssl speed -evp sha1` for the same sizes beside them.
//
//   BM_sha1_reused   one Sha1 object: update(buffer) + finish() per iteration
//   BM_sha1_oneshot  pw::crypto::sha1(buffer): a new EVP context per call, as the
//                    engine hashes pieces and blocks
//   BM_sha1_blocks   a 1 MiB piece fed as 64 updates of 16 KiB, then finish()
//
// The buffer is filled from a fixed pattern; reports bytes/s.
#include "crypto/sha1.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

std::string buffer(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 0x12345678;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

void BM_sha1_reused(benchmark::State& state) {
    const std::string data = buffer(static_cast<std::size_t>(state.range(0)));
    pw::crypto::Sha1 h;
    for (auto _ : state) {
        h.update(data);
        pw::Sha1Digest d = h.finish();
        benchmark::DoNotOptimize(d);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_sha1_reused)->ArgName("bytes")->Arg(16 << 10)->Arg(1 << 20);

void BM_sha1_oneshot(benchmark::State& state) {
    const std::string data = buffer(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        pw::Sha1Digest d = pw::crypto::sha1(data);
        benchmark::DoNotOptimize(d);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_sha1_oneshot)->ArgName("bytes")->Arg(16 << 10)->Arg(1 << 20);

void BM_sha1_blocks(benchmark::State& state) {
    constexpr std::size_t kBlock = 16 << 10;
    const std::string data = buffer(1 << 20);
    pw::crypto::Sha1 h;
    for (auto _ : state) {
        for (std::size_t off = 0; off < data.size(); off += kBlock)
            h.update(std::string_view(data).substr(off, kBlock));
        pw::Sha1Digest d = h.finish();
        benchmark::DoNotOptimize(d);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_sha1_blocks)->Name("BM_sha1_blocks/bytes:1048576");

}  // namespace

BENCHMARK_MAIN();
