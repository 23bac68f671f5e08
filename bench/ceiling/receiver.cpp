// Ceiling benchmark, receiving side: accepts one TCP connection, reads it into 1 MiB
// pieces, SHA-1 hashes each piece with OpenSSL and pwrite(2)s it to OUT: the least work
// a BitTorrent download must do. Built by bench/e2e with g++ -O2 (not part of CMake).
//   receiver OUT HOST PORT
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 4) { std::fprintf(stderr, "usage: receiver OUT HOST PORT\n"); return 2; }
    int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) { std::perror(argv[1]); return 1; }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) { std::fprintf(stderr, "bad host\n"); return 2; }
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(ls, 1) != 0) {
        std::perror("bind/listen"); return 1;
    }
    int s = accept(ls, nullptr, nullptr);
    if (s < 0) { std::perror("accept"); return 1; }
    std::vector<unsigned char> piece(1 << 20);
    unsigned char md[EVP_MAX_MD_SIZE], acc = 0;
    long long offset = 0;
    for (bool eof = false; !eof;) {
        size_t have = 0;
        while (have < piece.size()) {
            ssize_t n = read(s, piece.data() + have, piece.size() - have);
            if (n < 0) { std::perror("read"); return 1; }
            if (n == 0) { eof = true; break; }
            have += static_cast<size_t>(n);
        }
        if (have == 0) break;
        unsigned int len = 0;
        EVP_Digest(piece.data(), have, md, &len, EVP_sha1(), nullptr);
        acc ^= md[0];
        if (pwrite(out, piece.data(), have, offset) != static_cast<ssize_t>(have)) {
            std::perror("pwrite"); return 1;
        }
        offset += static_cast<long long>(have);
    }
    close(out);
    std::printf("received %lld bytes (digest byte xor %02x)\n", offset, acc);
    return 0;
}
