// Transmission RPC requests: one parser for both dialects served on the one endpoint.
//
//  - legacy (Transmission <= 4.0, rpc-spec-legacy-4.0.6.md): {"method", "arguments", "tag"};
//    method and argument names in kebab-case or camelCase;
//  - JSON-RPC 2.0 (Transmission 4.1, rpc-spec.md section 2): {"jsonrpc": "2.0", "method",
//    "params", "id"}; names in snake_case; no "id" member: a notification.
// A request is a JSON-RPC one exactly when it has a `jsonrpc` member.
//
// Contract: pure (no I/O); any input gives a Request or an RpcError, never throws.
// Method names, argument keys (recursively) and the strings of `fields` are normalised to
// snake_case, so the methods see one spelling whatever the dialect.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace pw::daemon::rpc {

enum class Dialect { legacy, jsonrpc };

// JSON-RPC 2.0 error codes (section 5.1 of the JSON-RPC 2.0 specification).
enum class ErrorCode : int {
    parse_error = -32700,
    invalid_request = -32600,
    method_not_found = -32601,
    invalid_params = -32602,
    internal_error = -32603,
    // Transmission 4.1's own codes (rpc-spec.md 2.1): a fetch the server made failed.
    http_error = 7,
};

struct RpcError {
    ErrorCode code;
    std::string message;
    Dialect dialect = Dialect::legacy;
    boost::json::value id;  // echoed back (legacy: the tag); null when unknown
};

struct Request {
    Dialect dialect = Dialect::legacy;
    std::string method;          // snake_case: "torrent_get"
    boost::json::object params;  // keys snake_case
    boost::json::value id;       // legacy: tag (may be null); JSON-RPC: id
    bool notification = false;   // JSON-RPC without "id": no response body
};

// Limits on what a request may be: nesting depth and total size are bounded before
// anything is allocated per element.
constexpr std::size_t max_depth = 32;

std::variant<Request, RpcError> parse_request(std::string_view body);

// "hashString" / "download-dir" / "peer_limit" -> "hash_string" / "download_dir" / "peer_limit".
std::string to_snake(std::string_view name);
// "hash_string" -> "hashString"; "download_dir" -> "download-dir".
std::string to_camel(std::string_view snake);
std::string to_kebab(std::string_view snake);

}  // namespace pw::daemon::rpc
