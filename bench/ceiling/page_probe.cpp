// Machine probe for bench/e2e: what it costs here to put new data into a file by pwrite(2)
// (how piecewise writes) and through a shared mapping of it (how libtorrent 2.0's default
// disk I/O writes: memcpy into an mmap of the file, one page fault per new page), and to
// read it back by pread(2) and through a mapping. The engines are compared on the same
// machine, but the machine decides how much a page fault costs: under a hypervisor that
// shadows the guest's page tables, a fault that allocates a page costs several times what
// it costs on bare metal or with nested paging, and an engine that writes through
// mappings pays it for every page it downloads. bench/e2e prints this line before its
// report so that each set of figures says what kind of machine made it.
// Built by bench/e2e with g++ -O2 (not part of CMake).
//   page_probe DIR [MIB]
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double us_per_page(Clock::time_point a, Clock::time_point b, std::size_t bytes) {
    return std::chrono::duration<double, std::micro>(b - a).count() / static_cast<double>(bytes / 4096);
}

bool fail(const char* what) {
    std::perror(what);
    return false;
}

struct Costs {
    double pwrite = 0, mmap_write = 0, pread = 0, mmap_read = 0;
};

// One round on two new files of `bytes` each.
bool round(const std::string& dir, std::size_t bytes, Costs& c) {
    const std::string a = dir + "/page-probe-a", b = dir + "/page-probe-b";
    std::vector<char> buf(1 << 20, 7);
    int fa = ::open(a.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    int fb = ::open(b.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ::unlink(a.c_str());
    ::unlink(b.c_str());
    if (fa < 0 || fb < 0) return fail("open");
    auto t0 = Clock::now();
    for (std::size_t o = 0; o < bytes; o += buf.size())
        if (::pwrite(fa, buf.data(), buf.size(), static_cast<off_t>(o)) != static_cast<ssize_t>(buf.size()))
            return fail("pwrite");
    auto t1 = Clock::now();
    if (::ftruncate(fb, static_cast<off_t>(bytes)) != 0) return fail("ftruncate");
    auto* w = static_cast<char*>(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0));
    if (w == MAP_FAILED) return fail("mmap");
    auto t2 = Clock::now();
    for (std::size_t o = 0; o < bytes; o += buf.size()) std::memcpy(w + o, buf.data(), buf.size());
    auto t3 = Clock::now();
    ::munmap(w, bytes);
    auto t4 = Clock::now();
    for (std::size_t o = 0; o < bytes; o += buf.size())
        if (::pread(fa, buf.data(), buf.size(), static_cast<off_t>(o)) != static_cast<ssize_t>(buf.size()))
            return fail("pread");
    auto t5 = Clock::now();
    auto* r = static_cast<const char*>(::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fa, 0));
    if (r == MAP_FAILED) return fail("mmap");
    auto t6 = Clock::now();
    for (std::size_t o = 0; o < bytes; o += buf.size()) std::memcpy(buf.data(), r + o, buf.size());
    auto t7 = Clock::now();
    ::munmap(const_cast<char*>(r), bytes);
    ::close(fa);
    ::close(fb);
    c = {us_per_page(t0, t1, bytes), us_per_page(t2, t3, bytes), us_per_page(t4, t5, bytes),
         us_per_page(t6, t7, bytes)};
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: page_probe DIR [MIB]\n");
        return 2;
    }
    const std::size_t mib = argc == 3 ? std::strtoul(argv[2], nullptr, 10) : 256;
    if (mib == 0 || mib > 4096) {
        std::fprintf(stderr, "MIB: 1 to 4096\n");
        return 2;
    }
    // The median of three rounds of each.
    std::vector<Costs> rounds(3);
    for (auto& c : rounds)
        if (!round(argv[1], mib << 20, c)) return 1;
    auto median = [&](double Costs::*m) {
        std::vector<double> v;
        for (auto& c : rounds) v.push_back(c.*m);
        std::sort(v.begin(), v.end());
        return v[1];
    };
    const double pw = median(&Costs::pwrite), mw = median(&Costs::mmap_write);
    std::printf("machine: per 4 KiB page of %zu MiB, write by pwrite %.2f us, through a mapping %.2f us "
                "(%.1fx); read by pread %.2f us, through a mapping %.2f us\n",
                mib, pw, mw, mw / pw, median(&Costs::pread), median(&Costs::mmap_read));
    return 0;
}
