// Micro-benchmarks of the bencode decoder (BEP 3 bencoding) and of metainfo parsing
// (BEP 3 info dictionary, multi-file form) over large generated torrents.
//
// The torrents are made in-process from a fixed seed and encoded with
// pw::bencode::encode, so every run decodes the same bytes:
//   - "files": a multi-file info dictionary with N files (default 100,000), each with a
//     three-component path and a random length; the `pieces` string holds one random
//     20-byte hash per 32 KiB piece (about 5 MB for 100,000 files). About 11 MB in all.
//   - "pieces": a single-file torrent whose 10 MB `pieces` string is nearly all of it
//     (the decoder's cost per byte of a long string, i.e. its fixed costs).
//   - "dict": one dictionary of 100,000 integer values, its keys in ascending order or
//     in descending order (accepted, and checked for duplicates by sorting them).
// The multi-file benchmarks also run at 10,000 files, to show how the cost scales.
// Every benchmark reports bytes/s of input (SetBytesProcessed) and the token or file
// count as a counter.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include "bencode/bencode.hpp"
#include "meta/metainfo.hpp"

namespace {

namespace bc = pw::bencode;

constexpr std::int64_t kPieceLength = 32 * 1024;

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t r = rng();
        for (std::size_t k = 0; k < 8 && i + k < n; ++k)
            s[i + k] = static_cast<char>((r >> (8 * k)) & 0xff);
    }
    return s;
}

std::string pieces_for(std::mt19937_64& rng, std::int64_t total) {
    std::int64_t n = (total + kPieceLength - 1) / kPieceLength;
    return random_bytes(rng, static_cast<std::size_t>(n) * 20);
}

bc::Dict outer(bc::Dict info) {
    bc::Dict root;
    root.emplace("announce", bc::Value("http://127.0.0.1:6969/announce"));
    root.emplace("comment", bc::Value("micro-benchmark torrent"));
    root.emplace("created by", bc::Value("piecewise bench/micro"));
    root.emplace("creation date", bc::Value(std::int64_t{1700000000}));
    root.emplace("info", bc::Value(std::move(info)));
    return root;
}

// A multi-file torrent: `files` entries spread over 100 directories of 10 subdirectories.
std::string make_multi_file(int files) {
    std::mt19937_64 rng(0x5eed0001);
    std::uniform_int_distribution<std::int64_t> len(1, 4 * kPieceLength);
    bc::List list;
    list.reserve(static_cast<std::size_t>(files));
    std::int64_t total = 0;
    for (int i = 0; i < files; ++i) {
        bc::Dict f;
        std::int64_t l = len(rng);
        total += l;
        f.emplace("length", bc::Value(l));
        bc::List path;
        path.emplace_back("dir" + std::to_string(i % 100));
        path.emplace_back("sub" + std::to_string((i / 100) % 10));
        path.emplace_back("file" + std::to_string(i) + ".bin");
        f.emplace("path", bc::Value(std::move(path)));
        list.emplace_back(std::move(f));
    }
    bc::Dict info;
    info.emplace("files", bc::Value(std::move(list)));
    info.emplace("name", bc::Value("bench"));
    info.emplace("piece length", bc::Value(kPieceLength));
    info.emplace("pieces", bc::Value(pieces_for(rng, total)));
    return bc::encode(bc::Value(outer(std::move(info))));
}

// A single-file torrent whose `pieces` string is about `pieces_bytes` long.
std::string make_single_file(std::size_t pieces_bytes) {
    std::mt19937_64 rng(0x5eed0002);
    std::int64_t total = static_cast<std::int64_t>(pieces_bytes / 20) * kPieceLength;
    bc::Dict info;
    info.emplace("length", bc::Value(total));
    info.emplace("name", bc::Value("bench.bin"));
    info.emplace("piece length", bc::Value(kPieceLength));
    info.emplace("pieces", bc::Value(pieces_for(rng, total)));
    return bc::encode(bc::Value(outer(std::move(info))));
}

// One dictionary of `keys` entries, in ascending or descending key order (written by
// hand: the encoder always sorts).
std::string make_dict(int keys, bool descending) {
    std::string out = "d";
    for (int k = 0; k < keys; ++k) {
        int i = descending ? keys - 1 - k : k;
        char key[16];
        int n = std::snprintf(key, sizeof key, "k%08d", i);
        bc::put_string(out, std::string_view(key, static_cast<std::size_t>(n)));
        bc::put_int(out, i);
    }
    out += 'e';
    return out;
}

const std::string& multi_file_torrent(int files) {
    // Built once per size; benchmarks run one at a time.
    static int built_for = -1;
    static std::string torrent;
    if (built_for != files) {
        torrent = make_multi_file(files);
        built_for = files;
    }
    return torrent;
}

void BM_decode_files(benchmark::State& state) {
    const std::string& t = multi_file_torrent(static_cast<int>(state.range(0)));
    std::size_t tokens = 0;
    for (auto _ : state) {
        bc::Document doc = bc::decode(t);
        tokens = doc.tokens().size();
        benchmark::DoNotOptimize(tokens);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.size()));
    state.counters["MB"] = static_cast<double>(t.size()) / 1e6;
    state.counters["tokens"] = static_cast<double>(tokens);
    state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_decode_files)
    ->ArgName("files")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

void BM_decode_pieces_string(benchmark::State& state) {
    const std::string t = make_single_file(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        bc::Document doc = bc::decode(t);
        benchmark::DoNotOptimize(doc.tokens().data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.size()));
    state.counters["MB"] = static_cast<double>(t.size()) / 1e6;
}
BENCHMARK(BM_decode_pieces_string)
    ->ArgName("bytes")
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

void BM_decode_dict(benchmark::State& state, bool descending) {
    const std::string t = make_dict(static_cast<int>(state.range(0)), descending);
    for (auto _ : state) {
        bc::Document doc = bc::decode(t);
        benchmark::DoNotOptimize(doc.tokens().data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.size()));
}
BENCHMARK_CAPTURE(BM_decode_dict, sorted, false)
    ->ArgName("keys")
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_decode_dict, unsorted, true)
    ->ArgName("keys")
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

// Full metainfo parse: decode, SHA-1 of the info dictionary, per-file path sanitising
// and the uniqueness pass, piece hash copy.
void BM_meta_parse_files(benchmark::State& state) {
    const std::string& t = multi_file_torrent(static_cast<int>(state.range(0)));
    std::size_t files = 0;
    for (auto _ : state) {
        pw::meta::Metainfo m = pw::meta::parse(t);
        files = m.files.size();
        benchmark::DoNotOptimize(m.info_hash);
    }
    if (files != static_cast<std::size_t>(state.range(0))) state.SkipWithError("wrong file count");
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.size()));
    state.counters["MB"] = static_cast<double>(t.size()) / 1e6;
    state.counters["files/s"] = benchmark::Counter(static_cast<double>(files),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_meta_parse_files)
    ->ArgName("files")
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond);

void BM_meta_parse_pieces_string(benchmark::State& state) {
    const std::string t = make_single_file(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        pw::meta::Metainfo m = pw::meta::parse(t);
        benchmark::DoNotOptimize(m.info_hash);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.size()));
    state.counters["MB"] = static_cast<double>(t.size()) / 1e6;
}
BENCHMARK(BM_meta_parse_pieces_string)
    ->ArgName("bytes")
    ->Arg(10'000'000)
    ->Unit(benchmark::kMillisecond);

// The encoder over the same tree the multi-file torrent was made from (tree built once,
// outside the timing).
void BM_encode_files(benchmark::State& state) {
    const std::string& t = multi_file_torrent(static_cast<int>(state.range(0)));
    // Re-create the tree from the decoded document, so the encoded bytes match `t`.
    bc::Document doc = bc::decode(t);
    auto to_value = [](auto& self, bc::Node n) -> bc::Value {
        switch (n.type()) {
            case bc::Type::integer:
                return bc::Value(n.as_int());
            case bc::Type::string:
                return bc::Value(n.as_string());
            case bc::Type::list: {
                bc::List l;
                for (const bc::Node& e : n.elements()) l.push_back(self(self, e));
                return bc::Value(std::move(l));
            }
            case bc::Type::dict: {
                bc::Dict d;
                for (const auto& [k, v] : n.items()) d.emplace(std::string(k), self(self, v));
                return bc::Value(std::move(d));
            }
        }
        throw std::logic_error("unknown bencode type");
    };
    bc::Value tree = to_value(to_value, doc.root());
    std::size_t size = 0;
    for (auto _ : state) {
        std::string out = bc::encode(tree);
        size = out.size();
        benchmark::DoNotOptimize(out.data());
    }
    if (size != t.size()) state.SkipWithError("re-encoded size differs");
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * t.size()));
}
BENCHMARK(BM_encode_files)->ArgName("files")->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
