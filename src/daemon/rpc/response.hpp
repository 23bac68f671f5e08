// Encoding RPC answers in the dialect of the request (see parse/request.hpp):
//  - legacy: {"result": "success" | "<error string>", "arguments": {...}, "tag": <tag>};
//  - JSON-RPC 2.0: {"jsonrpc": "2.0", "result": {...}, "id": <id>} or
//    {"jsonrpc": "2.0", "error": {"code", "message", "data": {"error_string"}}, "id": <id>}.
// Pure; keys inside `result` are already spelled for the dialect by the methods.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "daemon/rpc/parse/request.hpp"

namespace pw::daemon::rpc {

std::string encode_success(Dialect d, const boost::json::value& id, boost::json::object result);
// The same with one more member of `result`, `raw_key`, whose value `raw` is JSON text
// already (written piece by piece by the method); it comes first in `result`. The answer
// is built in `raw`'s own buffer when it has room.
std::string encode_success(Dialect d, const boost::json::value& id, boost::json::object result,
                           std::string_view raw_key, std::string raw);

// Appends the JSON text of `v` to `out`.
void append_json(std::string& out, const boost::json::value& v);
std::string encode_error(Dialect d, const boost::json::value& id, ErrorCode code,
                         const std::string& message);
inline std::string encode_error(const RpcError& e) {
    return encode_error(e.dialect, e.id, e.code, e.message);
}

// How a snake_case key is spelled in the answer. The legacy protocol mixes camelCase
// (torrent fields, statistics) and kebab-case (session keys, top-level answer keys).
enum class KeyStyle { camel, kebab };
std::string key(Dialect d, std::string_view snake, KeyStyle legacy_style);

}  // namespace pw::daemon::rpc
