// Micro-benchmarks of positional file I/O through pw::storage::Storage (src/storage), the
// calls the disk pool makes for every piece written and every run of blocks uploaded,
// against the same syscalls made directly: the difference is the cost of the storage
// layer (mapping, descriptor cache, the FileIo seam of src/storage/file_io.hpp).
//
//   BM_storage_read   Storage::read of N bytes at successive offsets of a 64 MiB file
//   BM_storage_write  Storage::write of N bytes at successive offsets
//   BM_raw_pread      ::pread of N bytes at the same offsets (the floor)
//   BM_raw_pwrite     ::pwrite of N bytes at the same offsets
//
// N is 16 KiB (one block) and 256 KiB (one upload run). The file lives in /dev/shm when
// it exists (so the page cache, not a device, is measured), else in the temp directory.
// Reports bytes/s.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "storage/storage.hpp"

namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kFile = 64 << 20;

fs::path bench_dir() {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    auto p = base / ("pw-micro-storage-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
}

// A 64 MiB torrent of one file, written once so reads find every byte.
struct Fixture {
    fs::path dir = bench_dir();
    pw::storage::Storage st{{{"f.bin", kFile, 0, false}}, kFile, dir};
    Fixture() {
        std::vector<char> chunk(1 << 20, 'x');
        for (std::int64_t off = 0; off < kFile; off += std::int64_t(chunk.size()))
            if (st.write(off, chunk.data(), chunk.size()))
                throw std::runtime_error("setup write failed");
    }
    ~Fixture() {
        st.close_all();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

template <bool Write>
void storage_io(benchmark::State& state) {
    Fixture fx;
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<char> buf(n, 'y');
    std::int64_t off = 0;
    for (auto _ : state) {
        auto err = Write ? fx.st.write(off, buf.data(), n) : fx.st.read(off, buf.data(), n);
        if (err) state.SkipWithError(err.message().c_str());
        benchmark::DoNotOptimize(buf.data());
        off = (off + std::int64_t(n)) % kFile;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

template <bool Write>
void raw_io(benchmark::State& state) {
    Fixture fx;
    int fd = ::open((fx.dir / "f.bin").c_str(), O_RDWR | O_CLOEXEC);
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<char> buf(n, 'y');
    std::int64_t off = 0;
    for (auto _ : state) {
        ssize_t r = Write ? ::pwrite(fd, buf.data(), n, off) : ::pread(fd, buf.data(), n, off);
        if (r != static_cast<ssize_t>(n)) state.SkipWithError("short transfer");
        benchmark::DoNotOptimize(buf.data());
        off = (off + std::int64_t(n)) % kFile;
    }
    ::close(fd);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_storage_read(benchmark::State& s) {
    storage_io<false>(s);
}
void BM_storage_write(benchmark::State& s) {
    storage_io<true>(s);
}
void BM_raw_pread(benchmark::State& s) {
    raw_io<false>(s);
}
void BM_raw_pwrite(benchmark::State& s) {
    raw_io<true>(s);
}

}  // namespace

BENCHMARK(BM_storage_read)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_storage_write)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_raw_pread)->Arg(16 << 10)->Arg(256 << 10);
BENCHMARK(BM_raw_pwrite)->Arg(16 << 10)->Arg(256 << 10);

BENCHMARK_MAIN();
