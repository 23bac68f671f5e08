// libFuzzer target for judging web seed responses (BEP 19): Content-Range, Retry-After
// and the verdict for a ranged GET. Input: 3 x 8 bytes for the range asked (offset,
// length, file size), 2 bytes of status, then '\n'-separated Content-Range, Content-Length
// and Retry-After text. Checks: a parsed Content-Range is ordered and inside its total; a
// body verdict never skips or takes past the file; Retry-After within [1, 3600].
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "swarm/parse/web_seed_response.hpp"

using namespace pw::swarm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 26) return 0;
    std::int64_t v[3];
    std::memcpy(v, data, sizeof v);
    unsigned status = static_cast<unsigned>(data[24] | data[25] << 8) % 1000;
    std::string_view rest(reinterpret_cast<const char*>(data) + 26, size - 26);
    std::string_view fields[3];
    for (auto& f : fields) {
        auto nl = rest.find('\n');
        f = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    if (auto cr = parse_content_range(fields[0]))
        if (cr->first < 0 || cr->last < cr->first || (cr->total >= 0 && cr->total <= cr->last))
            __builtin_trap();
    if (auto ra = parse_retry_after(fields[2]))
        if (*ra < 1 || *ra > 3600) __builtin_trap();
    std::optional<std::uint64_t> clen;
    if (!fields[1].empty()) clen = static_cast<std::uint64_t>(fields[1].size() * 1000003u);
    RangeAsked asked{v[0] >> 4, v[1] >> 4, v[2] >> 4};  // keeps offset + length from overflowing
    auto verdict = judge_response(status, fields[0], clen, fields[2], asked);
    if (verdict.kind == ResponseVerdict::body) {
        if (asked.offset < 0 || asked.length <= 0 || asked.offset + asked.length > asked.file_size)
            __builtin_trap();
        if (verdict.skip != 0 && verdict.skip != asked.offset) __builtin_trap();
    }
    if (verdict.kind == ResponseVerdict::busy &&
        (verdict.retry_after < 0 || verdict.retry_after > 3600))
        __builtin_trap();
    return 0;
}
