// Ceiling benchmark, sending side: streams a file over one TCP connection, as fast as
// read(2) + write(2) allow. Built by bench/e2e with g++ -O2 (not part of CMake).
//   sender FILE HOST PORT
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 4) { std::fprintf(stderr, "usage: sender FILE HOST PORT\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { std::perror(argv[1]); return 1; }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) { std::fprintf(stderr, "bad host\n"); return 2; }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) { std::perror("connect"); return 1; }
    std::vector<char> buf(1 << 20);
    long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n < 0) { std::perror("read"); return 1; }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(s, buf.data() + off, static_cast<size_t>(n - off));
            if (w <= 0) { std::perror("write"); return 1; }
            off += w;
        }
        total += n;
    }
    close(s);
    std::printf("sent %lld bytes\n", total);
    return 0;
}
