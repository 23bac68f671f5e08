// BEP 6 allowed fast set generation (section "Allowed Fast Set Generation").
#include "wire/fast.hpp"

#include <algorithm>
#include <string>

namespace pw::wire {

std::vector<std::uint32_t> allowed_fast_set(std::uint32_t ipv4, const Sha1Digest& info_hash,
                                            std::uint32_t num_pieces, std::uint32_t k) {
    std::vector<std::uint32_t> a;
    k = std::min(k, num_pieces);  // else the loop could never end
    if (k == 0) return a;
    const std::uint32_t masked = ipv4 & 0xffffff00u;
    std::string x;
    for (int shift = 24; shift >= 0; shift -= 8) x += static_cast<char>((masked >> shift) & 0xff);
    x.append(info_hash.view());
    while (a.size() < k) {
        x = std::string(crypto::sha1(x).view());
        for (int i = 0; i < 5 && a.size() < k; ++i) {
            auto b = [&](int at) {
                return static_cast<std::uint32_t>(
                    static_cast<unsigned char>(x[static_cast<std::size_t>(i * 4 + at)]));
            };
            std::uint32_t y = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
            std::uint32_t index = y % num_pieces;
            if (std::find(a.begin(), a.end(), index) == a.end()) a.push_back(index);
        }
    }
    return a;
}

}  // namespace pw::wire
