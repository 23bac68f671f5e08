// libFuzzer target for the HTTP scrape reply parser and scrape URL derivation (BEP 48).
// Checks: the file count cap, no files alongside a failure, counts either -1 or
// non-negative, and a derived scrape URL that still derives (its last path component
// now begins with "scrape", so deriving again must fail).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tracker/parse/scrape.hpp"

using namespace pw::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    constexpr std::size_t cap = 20;
    ScrapeReply r = parse_scrape_response(in, cap);
    if (r.files.size() > cap) __builtin_trap();
    if (!r.failure_reason.empty() && !r.files.empty()) __builtin_trap();
    if (r.failure_reason.size() > 1100) __builtin_trap();
    for (const auto& [hash, s] : r.files)
        if (s.complete < -1 || s.incomplete < -1 || s.downloaded < -1) __builtin_trap();

    if (auto url = scrape_url_from_announce(in)) {
        if (url->find("scrape") == std::string::npos) __builtin_trap();
        if (scrape_url_from_announce(*url)) __builtin_trap();
    }
    return 0;
}
