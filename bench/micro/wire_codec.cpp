// Micro-benchmarks of the peer wire codec (BEP 3 length-prefixed messages;
// src/wire/messages.hpp): encoding and parsing streams of `request`, `piece` (16 KiB
// blocks) and `have` messages.
//
// A stream is a batch of messages back to back, as they sit in a send or receive
// buffer: 1,024 requests or haves, or 64 pieces (1 MiB of block data). Encoding appends
// the batch to a buffer that keeps its capacity between iterations; for pieces it
// appends the 13-byte header and then copies the block, as a send buffer would be
// filled. Parsing walks the batch with parse_message until the buffer is used up; piece
// payloads are views, never copied. BM_parse_segmented feeds a piece stream in
// 1,448-byte TCP segments (parse retried on every arrival, need_more until the whole
// message is there), the way a receive loop sees it.
//
// Reports items/s (messages) and bytes/s (wire bytes, prefixes included).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "wire/messages.hpp"

namespace {

namespace wire = pw::wire;

enum Kind : int { kRequest = 0, kPiece = 1, kHave = 2 };
constexpr std::uint32_t kMaxMessage = 1 << 20;

int batch_size(Kind k) {
    return k == kPiece ? 64 : 1024;
}

const std::string& block() {
    static const std::string b = [] {
        std::string s(wire::block_size, '\0');
        for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 131) & 0xff);
        return s;
    }();
    return b;
}

void encode_batch(std::string& out, Kind k) {
    const int n = batch_size(k);
    for (int i = 0; i < n; ++i) {
        auto idx = static_cast<std::uint32_t>(i * 7919 % 100'000);
        switch (k) {
            case kRequest:
                wire::put_request(out, idx, static_cast<std::uint32_t>(i % 16) * wire::block_size,
                                  wire::block_size);
                break;
            case kPiece:
                wire::put_piece_header(out, idx,
                                       static_cast<std::uint32_t>(i % 16) * wire::block_size,
                                       wire::block_size);
                out.append(block());
                break;
            case kHave:
                wire::put_have(out, idx);
                break;
        }
    }
}

std::string batch(Kind k) {
    std::string out;
    encode_batch(out, k);
    return out;
}

void BM_encode(benchmark::State& state, Kind k) {
    const std::size_t bytes = batch(k).size();
    std::string out;
    out.reserve(bytes);
    for (auto _ : state) {
        out.clear();
        encode_batch(out, k);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    if (out.size() != bytes) state.SkipWithError("batch size changed");
    state.SetItemsProcessed(state.iterations() * batch_size(k));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK_CAPTURE(BM_encode, request, kRequest);
BENCHMARK_CAPTURE(BM_encode, piece16k, kPiece);
BENCHMARK_CAPTURE(BM_encode, have, kHave);

void BM_parse(benchmark::State& state, Kind k) {
    const std::string buf = batch(k);
    std::int64_t messages = 0;
    for (auto _ : state) {
        std::string_view rest = buf;
        wire::Message m;
        std::uint64_t sum = 0;
        while (!rest.empty()) {
            auto r = wire::parse_message(rest, kMaxMessage, m);
            if (r.status != wire::ParseStatus::ok) {
                state.SkipWithError("parse failed");
                return;
            }
            sum += m.index + m.payload.size();
            rest.remove_prefix(r.consumed);
            ++messages;
        }
        benchmark::DoNotOptimize(sum);
    }
    if (messages != state.iterations() * batch_size(k)) state.SkipWithError("message count");
    state.SetItemsProcessed(messages);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
}
BENCHMARK_CAPTURE(BM_parse, request, kRequest);
BENCHMARK_CAPTURE(BM_parse, piece16k, kPiece);
BENCHMARK_CAPTURE(BM_parse, have, kHave);

void BM_parse_segmented(benchmark::State& state) {
    const std::string buf = batch(kPiece);
    constexpr std::size_t kSegment = 1448;
    std::int64_t messages = 0, attempts = 0;
    for (auto _ : state) {
        std::size_t start = 0, end = 0;
        wire::Message m;
        while (start < buf.size()) {
            end = std::min(buf.size(), end + kSegment);
            for (;;) {
                ++attempts;
                auto r = wire::parse_message(std::string_view(buf).substr(start, end - start),
                                             kMaxMessage, m);
                if (r.status == wire::ParseStatus::need_more) break;
                if (r.status == wire::ParseStatus::error) {
                    state.SkipWithError("parse failed");
                    return;
                }
                benchmark::DoNotOptimize(m.payload.data());
                start += r.consumed;
                ++messages;
            }
        }
    }
    state.SetItemsProcessed(messages);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buf.size()));
    state.counters["parses/msg"] =
        static_cast<double>(attempts) / static_cast<double>(std::max<std::int64_t>(1, messages));
}
BENCHMARK(BM_parse_segmented)->Name("BM_parse_segmented/piece16k");

}  // namespace

BENCHMARK_MAIN();
