// Load generator for BitTorrent trackers: closed-loop announces over UDP (BEP 15) or
// HTTP (BEP 3, one TCP connection per announce, as clients do), from many simulated
// peers spread over many torrents. Prints announces/s and latency percentiles.
// Built by bench/tracker_load/run with g++ -O2; talks to 127.0.0.1 only.
//
//   load --port P --proto udp|http [--torrents N] [--peers N] [--seconds S]
//        [--threads T] [--prefill]
//        [--dump FILE]   (also write every latency, microseconds as raw uint32)
//   load --print-hashes N      (the info-hashes it uses, 40 hex a line, for allow-lists)
//   load --percentiles FILE... (p50 and p99 in ms over the latencies of --dump files)
//
// Peer k (0 <= k < peers) announces torrent k % torrents with port 1024 + k % 60000
// and address 127.0.0.1 + (k / 60000), so every peer is distinct to the tracker.
// --prefill announces every peer once (event=started) and exits without measuring.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Opts {
    int port = 0;
    std::string proto = "udp";
    int torrents = 1000;
    int peers = 50000;
    double seconds = 10;
    int threads = 8;
    bool prefill = false;
    std::string dump;
};

// p-quantile in ms of sorted latencies in microseconds.
double quantile_ms(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) return 0.0;
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))] / 1000.0;
}

void info_hash(int t, unsigned char out[20]) {
    std::memset(out, 0xab, 20);
    out[0] = 0x50;  // 'P'
    out[1] = static_cast<unsigned char>(t >> 24);
    out[2] = static_cast<unsigned char>(t >> 16);
    out[3] = static_cast<unsigned char>(t >> 8);
    out[4] = static_cast<unsigned char>(t);
}

void peer_id(int k, unsigned char out[20]) {
    std::snprintf(reinterpret_cast<char*>(out), 21, "-LD0001-%012d", k);
}

std::uint16_t peer_port(int k) { return static_cast<std::uint16_t>(1024 + k % 60000); }
in_addr_t peer_addr(int k) { return htonl(0x7f000001u + static_cast<unsigned>(k / 60000)); }

struct Result {
    std::vector<std::uint32_t> lat_us;
    std::uint64_t errors = 0;
};

std::atomic<std::uint64_t> next_peer{0};

void put(std::string& s, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
    return v;
}

sockaddr_in tracker_addr(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(0x7f000001u);
    return a;
}

void set_timeout(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One UDP socket per (thread, source address); source addresses vary with k / 60000.
struct UdpConn {
    int fd = -1;
    std::uint64_t cid = 0;
    Clock::time_point got;
};

bool udp_exchange(int fd, const std::string& req, unsigned char* buf, ssize_t& n, std::uint32_t tid) {
    if (send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) return false;
    for (;;) {
        n = recv(fd, buf, 4096, 0);
        if (n < 8) return false;
        if (get(buf + 4, 4) == tid) return true;  // a late reply to an earlier request: skip
    }
}

bool udp_connect(UdpConn& c, int port, in_addr_t src, std::uint32_t& tid) {
    if (c.fd < 0) {
        c.fd = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        me.sin_addr.s_addr = src;
        bind(c.fd, reinterpret_cast<sockaddr*>(&me), sizeof me);
        sockaddr_in to = tracker_addr(port);
        connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
        set_timeout(c.fd, 1000);
    }
    std::string req;
    put(req, 0x41727101980ULL, 8);
    put(req, 0, 4);
    put(req, ++tid, 4);
    unsigned char buf[4096];
    ssize_t n;
    if (!udp_exchange(c.fd, req, buf, n, tid) || n < 16 || get(buf, 4) != 0) return false;
    c.cid = get(buf + 8, 8);
    c.got = Clock::now();
    return true;
}

void udp_worker(const Opts& o, Clock::time_point end, std::uint64_t limit, Result& r) {
    std::vector<UdpConn> conns(static_cast<std::size_t>(o.peers / 60000 + 1));
    std::uint32_t tid = static_cast<std::uint32_t>(std::rand());
    unsigned char buf[4096];
    for (;;) {
        const std::uint64_t seq = next_peer++;
        if (seq >= limit || Clock::now() >= end) break;
        const int k = static_cast<int>(seq % static_cast<std::uint64_t>(o.peers));
        UdpConn& c = conns[static_cast<std::size_t>(k / 60000)];
        if (c.fd < 0 || Clock::now() - c.got > std::chrono::seconds(50)) {
            if (!udp_connect(c, o.port, peer_addr(k), tid)) {
                ++r.errors;
                continue;
            }
        }
        std::string req;
        put(req, c.cid, 8);
        put(req, 1, 4);
        put(req, ++tid, 4);
        unsigned char h[20], id[21];
        info_hash(k % o.torrents, h);
        peer_id(k, id);
        req.append(reinterpret_cast<char*>(h), 20);
        req.append(reinterpret_cast<char*>(id), 20);
        put(req, 0, 8);
        put(req, k % 4 == 0 ? 0 : 1000, 8);
        put(req, 0, 8);
        put(req, seq < static_cast<std::uint64_t>(o.peers) ? 2 : 0, 4);
        put(req, 0, 4);
        put(req, static_cast<std::uint32_t>(k), 4);
        put(req, 50, 4);
        put(req, peer_port(k), 2);
        const auto t0 = Clock::now();
        ssize_t n;
        if (!udp_exchange(c.fd, req, buf, n, tid) || n < 20 || get(buf, 4) != 1) {
            ++r.errors;
            continue;
        }
        r.lat_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    }
    for (auto& c : conns)
        if (c.fd >= 0) close(c.fd);
}

std::string pct(const unsigned char* p, int n) {
    static const char* hex = "0123456789ABCDEF";
    std::string s;
    for (int i = 0; i < n; ++i) {
        s += '%';
        s += hex[p[i] >> 4];
        s += hex[p[i] & 15];
    }
    return s;
}

void http_worker(const Opts& o, Clock::time_point end, std::uint64_t limit, Result& r) {
    char buf[8192];
    for (;;) {
        const std::uint64_t seq = next_peer++;
        if (seq >= limit || Clock::now() >= end) break;
        const int k = static_cast<int>(seq % static_cast<std::uint64_t>(o.peers));
        unsigned char h[20], id[21];
        info_hash(k % o.torrents, h);
        peer_id(k, id);
        std::string req = "GET /announce?info_hash=" + pct(h, 20) + "&peer_id=" + pct(id, 20) +
                          "&port=" + std::to_string(peer_port(k)) +
                          "&uploaded=0&downloaded=0&left=" + (k % 4 == 0 ? "0" : "1000") +
                          "&compact=1&numwant=50" +
                          (seq < static_cast<std::uint64_t>(o.peers) ? "&event=started" : "") +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        const auto t0 = Clock::now();
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        me.sin_addr.s_addr = peer_addr(k);
        bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me);
        linger lg{1, 0};  // close with RST: no TIME_WAIT pile-up on the client side
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        set_timeout(fd, 2000);
        sockaddr_in to = tracker_addr(o.port);
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
                  send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
        std::string resp;
        while (ok) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n < 0) ok = false;
            if (n <= 0) break;
            resp.append(buf, static_cast<std::size_t>(n));
            // Done once the body announced by Content-Length is in (some servers keep
            // the connection open a moment after replying).
            auto he = resp.find("\r\n\r\n");
            auto cl = resp.find("ontent-Length: ");
            if (cl == std::string::npos) cl = resp.find("ontent-length: ");
            if (he != std::string::npos && cl != std::string::npos && cl < he &&
                resp.size() >= he + 4 + std::strtoul(resp.c_str() + cl + 15, nullptr, 10))
                break;
        }
        close(fd);
        const bool status_ok =
            resp.compare(0, 12, "HTTP/1.1 200") == 0 || resp.compare(0, 12, "HTTP/1.0 200") == 0;
        if (!ok || !status_ok || resp.find("5:peers") == std::string::npos) {
            ++r.errors;
            continue;
        }
        r.lat_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    }
}

}  // namespace

int main(int argc, char** argv) {
    Opts o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&] {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "load: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return std::string(argv[++i]);
        };
        if (a == "--port") o.port = std::stoi(val());
        else if (a == "--proto") o.proto = val();
        else if (a == "--torrents") o.torrents = std::stoi(val());
        else if (a == "--peers") o.peers = std::stoi(val());
        else if (a == "--seconds") o.seconds = std::stod(val());
        else if (a == "--threads") o.threads = std::stoi(val());
        else if (a == "--prefill") o.prefill = true;
        else if (a == "--dump") o.dump = val();
        else if (a == "--percentiles") {
            std::vector<std::uint32_t> all;
            for (++i; i < argc; ++i) {
                FILE* f = std::fopen(argv[i], "rb");
                if (!f) {
                    std::fprintf(stderr, "load: cannot read %s\n", argv[i]);
                    return 2;
                }
                std::uint32_t v;
                while (std::fread(&v, sizeof v, 1, f) == 1) all.push_back(v);
                std::fclose(f);
            }
            std::sort(all.begin(), all.end());
            std::printf("p50 %.3f ms p99 %.3f ms\n", quantile_ms(all, 0.50), quantile_ms(all, 0.99));
            return all.empty() ? 1 : 0;
        }
        else if (a == "--print-hashes") {
            int n = std::stoi(val());
            for (int t = 0; t < n; ++t) {
                unsigned char h[20];
                info_hash(t, h);
                for (unsigned char c : h) std::printf("%02x", c);
                std::printf("\n");
            }
            return 0;
        } else {
            std::fprintf(stderr, "load: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (o.port <= 0 || (o.proto != "udp" && o.proto != "http") || o.torrents < 1 || o.peers < 1 ||
        o.threads < 1) {
        std::fprintf(stderr, "load: bad usage (see the header of load.cpp)\n");
        return 2;
    }
    // --prefill: every peer once, however long it takes (bounded by 120 s).
    const std::uint64_t limit = o.prefill ? static_cast<std::uint64_t>(o.peers) : UINT64_MAX;
    const auto start = Clock::now();
    const auto end = start + std::chrono::milliseconds(
                                 static_cast<long>((o.prefill ? 120 : o.seconds) * 1000));
    std::vector<Result> results(static_cast<std::size_t>(o.threads));
    std::vector<std::thread> threads;
    for (auto& r : results) {
        r.lat_us.reserve(1 << 20);
        threads.emplace_back([&, rp = &r] {
            (o.proto == "udp" ? udp_worker : http_worker)(o, end, limit, *rp);
        });
    }
    for (auto& t : threads) t.join();
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<std::uint32_t> all;
    std::uint64_t errors = 0;
    for (auto& r : results) {
        all.insert(all.end(), r.lat_us.begin(), r.lat_us.end());
        errors += r.errors;
    }
    std::sort(all.begin(), all.end());
    if (!o.dump.empty()) {
        FILE* f = std::fopen(o.dump.c_str(), "wb");
        if (!f || std::fwrite(all.data(), sizeof(std::uint32_t), all.size(), f) != all.size()) {
            std::fprintf(stderr, "load: cannot write %s\n", o.dump.c_str());
            if (f) std::fclose(f);
            return 2;
        }
        std::fclose(f);
    }
    std::printf("%s %zu ok %llu errors %.1f s: %.0f announces/s p50 %.3f ms p99 %.3f ms\n",
                o.proto.c_str(), all.size(), static_cast<unsigned long long>(errors), took,
                all.size() / took, quantile_ms(all, 0.50), quantile_ms(all, 0.99));
    return all.empty() ? 1 : 0;
}
