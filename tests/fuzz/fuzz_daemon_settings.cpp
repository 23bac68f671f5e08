// libFuzzer target for the daemon's stored-settings and RPC text forms
// (src/daemon/parse/seed_policy.hpp): trackerList text, the JSON lists of labels and
// tracker tiers read back from the state database, and the label checks. Besides "no
// crash": what decodes re-encodes to the same value, and a parsed trackerList
// formats to text that parses to the same tiers, with no empty tier or URL.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/parse/seed_policy.hpp"

using namespace pw::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 65536) return 0;
    std::string in(reinterpret_cast<const char*>(data), size);

    auto tiers = parse_tracker_list(in);
    for (auto& t : tiers) {
        if (t.empty()) __builtin_trap();
        for (auto& u : t)
            if (u.empty() || u.find('\n') != std::string::npos) __builtin_trap();
    }
    if (parse_tracker_list(format_tracker_list(tiers)) != tiers) __builtin_trap();

    if (auto s = decode_strings(in)) {
        if (decode_strings(encode_strings(*s)) != s) __builtin_trap();
        std::string why;
        if (auto l = check_labels(*s, why)) {
            if (l->size() > s->size()) __builtin_trap();
            for (auto& x : *l)
                if (x.empty() || x.find(',') != std::string::npos) __builtin_trap();
        } else if (why.empty()) {
            __builtin_trap();
        }
    }
    if (auto t = decode_tiers(in))
        if (decode_tiers(encode_tiers(*t)) != t) __builtin_trap();
    return 0;
}
