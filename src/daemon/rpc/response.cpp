#include "daemon/rpc/response.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>

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

std::string encode_success(Dialect d, const json::value& id, json::object result,
                           std::string_view raw_key, std::string raw) {
    // The envelope and key order of the overload above: {"jsonrpc","result","id"} or
    // {"result","arguments","tag"}.
    std::string head = d == Dialect::jsonrpc ? R"({"jsonrpc":"2.0","result":{)"
                                             : R"({"result":"success","arguments":{)";
    append_json(head, json::string(raw_key));
    head += ':';
    std::string tail;
    if (!result.empty()) {
        auto members = json::serialize(result);  // {...}: its members go after raw's
        tail += ',';
        tail.append(members, 1, members.size() - 2);
    }
    tail += '}';
    if (d == Dialect::jsonrpc) {
        tail += R"(,"id":)";
        append_json(tail, id);
    } else if (!id.is_null()) {
        tail += R"(,"tag":)";
        append_json(tail, id);
    }
    tail += '}';
    raw.reserve(head.size() + raw.size() + tail.size());
    raw.insert(0, head);
    raw += tail;
    return raw;
}

void append_json(std::string& out, const json::value& v) {
    json::serializer sr;
    sr.reset(&v);
    char buf[4096];
    while (!sr.done()) out.append(sr.read(buf));
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
