#include "daemon/rpc/response.hpp"

#include <boost/json/serialize.hpp>

namespace pw::daemon::rpc {

namespace json = boost::json;

std::string encode_success(Dialect d, const json::value& id, json::object result) {
    json::object o;
    if (d == Dialect::jsonrpc) {
        o["jsonrpc"] = "2.0";
        o["result"] = std::move(result);
        o["id"] = id;
    } else {
        o["result"] = "success";
        o["arguments"] = std::move(result);
        if (!id.is_null()) o["tag"] = id;
    }
    return json::serialize(o);
}

std::string encode_error(Dialect d, const json::value& id, ErrorCode code,
                         const std::string& message) {
    json::object o;
    if (d == Dialect::jsonrpc) {
        o["jsonrpc"] = "2.0";
        json::object e;
        e["code"] = static_cast<int>(code);
        const char* std_msg = "Server error";
        switch (code) {
            case ErrorCode::parse_error:
                std_msg = "Parse error";
                break;
            case ErrorCode::invalid_request:
                std_msg = "Invalid Request";
                break;
            case ErrorCode::method_not_found:
                std_msg = "Method not found";
                break;
            case ErrorCode::invalid_params:
                std_msg = "Invalid params";
                break;
            case ErrorCode::internal_error:
                std_msg = "Internal error";
                break;
            case ErrorCode::http_error:
                std_msg = "HTTP error from backend service";  // rpc-spec.md 2.1's wording
                break;
        }
        e["message"] = std_msg;
        e["data"] = json::object{{"error_string", message}};
        o["error"] = std::move(e);
        o["id"] = id;
    } else {
        o["result"] = message;
        o["arguments"] = json::object();
        if (!id.is_null()) o["tag"] = id;
    }
    return json::serialize(o);
}

std::string key(Dialect d, std::string_view snake, KeyStyle legacy_style) {
    if (d == Dialect::jsonrpc) return std::string(snake);
    return legacy_style == KeyStyle::camel ? to_camel(snake) : to_kebab(snake);
}

}  // namespace pw::daemon::rpc
