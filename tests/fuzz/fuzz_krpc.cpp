// libFuzzer target for the KRPC codec (BEP 5, BEP 43, BEP 32 nodes6/want/IPv6 values, BEP 42 ip). Besides "no
// crash", it checks the decoder's promises: bounded node and value lists, exact id sizes, no port
// 0, and that every accepted message re-encodes into one that decodes to the same fields.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dht/parse/krpc.hpp"

using namespace pw::dht;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    DecodeResult r = decode_message(in);
    if (!r.ok) {
        if (r.error.empty()) __builtin_trap();
        return 0;
    }
    const Message& m = r.message;
    if (m.transaction.empty() || m.transaction.size() > max_transaction_size) __builtin_trap();
    if (m.nodes.size() > max_nodes_decoded || m.nodes6.size() > max_nodes_decoded ||
        m.values.size() > max_values_decoded)
        __builtin_trap();
    for (const NodeInfo& n : m.nodes)
        if (n.endpoint.port == 0 || n.endpoint.v6) __builtin_trap();
    for (const NodeInfo& n : m.nodes6)
        if (n.endpoint.port == 0 || !n.endpoint.v6) __builtin_trap();
    if ((m.want & ~(want_n4 | want_n6)) != 0) __builtin_trap();
    for (const Endpoint& v : m.values)
        if (v.port == 0) __builtin_trap();
    if (m.type == MessageType::query && m.method == Method::announce_peer && !m.implied_port &&
        m.port == 0)
        __builtin_trap();

    DecodeResult again = decode_message(encode_message(m));
    if (!again.ok) __builtin_trap();
    const Message& a = again.message;
    if (a.type != m.type || a.transaction != m.transaction || a.read_only != m.read_only ||
        a.ip != m.ip)
        __builtin_trap();
    if (m.type != MessageType::error && a.id != m.id) __builtin_trap();
    if (m.type == MessageType::query && (a.method != m.method || a.method_name != m.method_name))
        __builtin_trap();
    if (m.type == MessageType::query &&
        (m.method == Method::find_node || m.method == Method::get_peers) && a.want != m.want)
        __builtin_trap();
    if (m.type == MessageType::response &&
        (a.nodes != m.nodes || a.nodes6 != m.nodes6 || a.values != m.values || a.token != m.token))
        __builtin_trap();
    if (m.type == MessageType::error && (a.error_code != m.error_code)) __builtin_trap();
    return 0;
}
