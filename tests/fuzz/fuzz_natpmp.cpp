// libFuzzer target for the NAT-PMP response codec (RFC 6886), the PCP MAP codec (RFC 6887,
// responses and requests) and the /proc/net/route default-gateway parser. Besides "no
// crash", it checks their promises: a reason on every refusal; an accepted NAT-PMP response
// re-encodes to bytes that decode to the same fields (and, when successful, to the very
// input); an accepted PCP message is 24..1100 bytes and a multiple of 4, and re-encodes
// to bytes that decode to the same fields; a found gateway comes with no error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nat/parse/default_route.hpp"
#include "nat/parse/natpmp_message.hpp"
#include "nat/parse/pcp_message.hpp"

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
    pcp::DecodeResult p = pcp::decode_response(in);
    if (!p.ok) {
        if (p.error.empty()) __builtin_trap();
    } else {
        if (in.size() < pcp::header_size || in.size() > pcp::max_message_size || in.size() % 4 != 0)
            __builtin_trap();
        const pcp::Response& a = p.response;
        if (a.opcode == pcp::opcode_map && a.result == 0 && !a.has_map) __builtin_trap();
        if (a.options > pcp::max_options) __builtin_trap();
        if (pcp::result_message(a.result).empty()) __builtin_trap();
        std::string again = pcp::encode_response(a);
        pcp::DecodeResult b = pcp::decode_response(again);
        if (!b.ok || b.response.opcode != a.opcode || b.response.result != a.result ||
            b.response.lifetime != a.lifetime || b.response.epoch != a.epoch || b.response.has_map != a.has_map ||
            b.response.nonce != a.nonce || b.response.protocol != a.protocol ||
            b.response.internal_port != a.internal_port || b.response.external_port != a.external_port ||
            b.response.external_address != a.external_address)
            __builtin_trap();
    }
    pcp::RequestDecodeResult q = pcp::decode_map_request(in);
    if (!q.ok) {
        if (q.error.empty()) __builtin_trap();
    } else {
        std::string again = pcp::encode_map_request(q.request);
        if (again.size() != pcp::map_message_size) __builtin_trap();
        pcp::RequestDecodeResult b = pcp::decode_map_request(again);
        if (!b.ok || b.request.nonce != q.request.nonce || b.request.lifetime != q.request.lifetime ||
            b.request.client_address != q.request.client_address || b.request.protocol != q.request.protocol ||
            b.request.internal_port != q.request.internal_port ||
            b.request.suggested_external_port != q.request.suggested_external_port ||
            b.request.suggested_external_address != q.request.suggested_external_address)
            __builtin_trap();
    }
    DefaultRoute route = parse_default_route(in);
    if (route.found && !route.error.empty()) __builtin_trap();
    if (route.found && route.gateway == std::array<std::uint8_t, 4>{}) __builtin_trap();
    return 0;
}
