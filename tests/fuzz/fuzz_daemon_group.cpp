// libFuzzer target for the stored form of a bandwidth group
// (src/daemon/parse/bandwidth_group.hpp), read back from the state database at startup.
// Besides "no crash": what decodes is in range and re-encodes to the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/parse/bandwidth_group.hpp"

using namespace pw::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 4096) return 0;
    std::string in(reinterpret_cast<const char*>(data), size);
    if (auto g = decode_group("g", in)) {
        if (g->down_kbps < 0 || g->up_kbps < 0 || g->down_kbps > GroupLimits::max_kbps ||
            g->up_kbps > GroupLimits::max_kbps)
            __builtin_trap();
        if (encode_group(*g) != in) __builtin_trap();  // one spelling per value
        if (decode_group("g", encode_group(*g)) != g) __builtin_trap();
        auto e = g->engine();
        if (e.download_limit < 0 || e.upload_limit < 0) __builtin_trap();
    }
    return 0;
}
