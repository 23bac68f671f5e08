// libFuzzer target for the command-line rate parser (swarm/rate_units.hpp): never throws
// or crashes; an accepted rate is within 0..1e15 bytes/s, and the digits it was written
// with alone (no unit) parse to no more than it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "swarm/rate_units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = pw::swarm::parse_rate(in);
    if (!r) return 0;
    if (*r < 0 || *r > 1'000'000'000'000'000ll) __builtin_trap();
    std::size_t i = 0;
    while (i < in.size() && ((in[i] >= '0' && in[i] <= '9') || in[i] == '.')) ++i;
    auto plain = pw::swarm::parse_rate(in.substr(0, i));
    if (!plain || *plain > *r) __builtin_trap();
    return 0;
}
