// libFuzzer target for the daemon's RPC request parser (both Transmission dialects).
// Besides "no crash", it checks the parser's promises: an error always has a message and
// one of the JSON-RPC codes; an accepted request has a non-empty method name in
// snake_case (no '-' nor upper case), so are the argument keys, and a JSON-RPC
// notification has a null id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/rpc/parse/request.hpp"

using namespace pw::daemon::rpc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = parse_request(in);
    if (auto* e = std::get_if<RpcError>(&r)) {
        if (e->message.empty()) std::abort();
        int c = static_cast<int>(e->code);
        if (c != -32700 && c != -32600 && c != -32601 && c != -32602 && c != -32603) std::abort();
        return 0;
    }
    auto& req = std::get<Request>(r);
    if (req.method.empty()) std::abort();
    for (char c : req.method)
        if (c == '-' || (c >= 'A' && c <= 'Z')) std::abort();
    if (req.notification && (req.dialect != Dialect::jsonrpc || !req.id.is_null())) std::abort();
    for (auto& [k, v] : req.params)
        for (char c : k)
            if (c == '-' || (c >= 'A' && c <= 'Z')) std::abort();
    return 0;
}
