// libFuzzer target for the /stream/ Range resolution and path parser
// (daemon/parse/http_range.hpp): never crashes; a partial answer lies inside the
// representation, a whole one covers it, and a parsed path has a 40-hex hash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/parse/http_range.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pw::daemon::parse;
    // The first byte picks the representation's length: small ones hit the edges.
    std::int64_t length = 0;
    if (size > 0) {
        std::uint8_t k = data[0];
        length = k < 200 ? k : (std::int64_t(1) << std::min(k - 200 + 10, 62)) - (k & 1);
        ++data;
        --size;
    }
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto a = resolve_range(in, length);
    switch (a.kind) {
        case RangeAnswer::whole:
            if (a.range.first != 0 || a.range.last != length - 1) __builtin_trap();
            break;
        case RangeAnswer::partial:
            if (a.range.first < 0 || a.range.first > a.range.last || a.range.last >= length)
                __builtin_trap();
            break;
        case RangeAnswer::unsatisfiable:
            if (length <= 0) __builtin_trap();
            break;
    }
    if (auto t = parse_stream_target(in)) {
        if (t->info_hash.size() != 40 || t->file_index < 0) __builtin_trap();
    }
    return 0;
}
