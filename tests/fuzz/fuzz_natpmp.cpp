// libFuzzer target for the NAT-PMP response codec (RFC 6886) and the /proc/net/route
// default-gateway parser. Besides "no crash", it checks their promises: a reason on every
// refusal; an accepted response re-encodes to bytes that decode to the same fields (and,
// when successful, to the very input); a found gateway comes with no error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nat/parse/default_route.hpp"
#include "nat/parse/natpmp_message.hpp"

using namespace pw::nat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    DecodeResult r = decode_response(in);
    if (!r.ok) {
        if (r.error.empty()) __builtin_trap();
    } else {
        const Response& a = r.response;
        std::string again = encode_response(a, in.size() == 8);
        if (a.result == 0 && again != in) __builtin_trap();
        DecodeResult b = decode_response(again);
        if (!b.ok || b.response.kind != a.kind || b.response.result != a.result ||
            b.response.epoch != a.epoch || b.response.external_address != a.external_address ||
            b.response.internal_port != a.internal_port ||
            b.response.external_port != a.external_port || b.response.lifetime != a.lifetime)
            __builtin_trap();
        if (a.result != 0 && (a.internal_port || a.external_port || a.lifetime)) __builtin_trap();
        if (result_message(a.result).empty()) __builtin_trap();
    }
    DefaultRoute route = parse_default_route(in);
    if (route.found && !route.error.empty()) __builtin_trap();
    if (route.found && route.gateway == std::array<std::uint8_t, 4>{}) __builtin_trap();
    return 0;
}
