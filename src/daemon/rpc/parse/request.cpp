#include "daemon/rpc/parse/request.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

namespace pw::daemon::rpc {

namespace json = boost::json;

std::string to_snake(std::string_view name) {
    std::string out;
    out.reserve(name.size() + 4);
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '-') {
            out += '_';
        } else if (c >= 'A' && c <= 'Z') {
            if (i > 0 && !out.empty() && out.back() != '_') out += '_';
            out += static_cast<char>(c - 'A' + 'a');
        } else {
            out += c;
        }
    }
    return out;
}

std::string to_camel(std::string_view snake) {
    std::string out;
    bool up = false;
    for (char c : snake) {
        if (c == '_') {
            up = true;
            continue;
        }
        out += (up && c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        up = false;
    }
    return out;
}

std::string to_kebab(std::string_view snake) {
    std::string out(snake);
    for (auto& c : out)
        if (c == '_') c = '-';
    return out;
}

namespace {

// Renames every object key to snake_case (depth is bounded by the parser).
json::value normalise(const json::value& v) {
    if (v.is_object()) {
        json::object o;
        for (auto& [k, x] : v.get_object()) o[to_snake(k)] = normalise(x);
        return o;
    }
    if (v.is_array()) {
        json::array a;
        for (auto& x : v.get_array()) a.push_back(normalise(x));
        return a;
    }
    return v;
}

}  // namespace

std::variant<Request, RpcError> parse_request(std::string_view body) {
    json::parse_options opt;
    opt.max_depth = max_depth;
    json::error_code ec;
    json::value doc = json::parse(body, ec, {}, opt);
    if (ec)
        return RpcError{ErrorCode::parse_error, "Parse error: " + ec.message(), Dialect::legacy,
                        nullptr};
    if (!doc.is_object()) {
        // A JSON-RPC batch (array) is not served; both dialects want one object.
        return RpcError{ErrorCode::invalid_request, "Invalid Request: not an object",
                        doc.is_array() ? Dialect::jsonrpc : Dialect::legacy, nullptr};
    }
    auto& o = doc.get_object();
    Request r;
    const bool is_jsonrpc = o.contains("jsonrpc");
    r.dialect = is_jsonrpc ? Dialect::jsonrpc : Dialect::legacy;
    auto fail = [&](ErrorCode c, std::string msg) {
        return RpcError{c, std::move(msg), r.dialect, r.id};
    };
    if (is_jsonrpc) {
        if (auto* idv = o.if_contains("id")) {
            if (!idv->is_string() && !idv->is_number() && !idv->is_null())
                return fail(ErrorCode::invalid_request,
                            "Invalid Request: id must be a string, number or null");
            r.id = *idv;
        } else {
            r.notification = true;
        }
        auto* ver = o.if_contains("jsonrpc");
        if (!ver->is_string() || ver->get_string() != "2.0")
            return fail(ErrorCode::invalid_request, "Invalid Request: jsonrpc must be \"2.0\"");
    } else if (auto* tag = o.if_contains("tag")) {
        r.id = *tag;
    }
    auto* m = o.if_contains("method");
    if (!m || !m->is_string())
        return fail(ErrorCode::invalid_request, "Invalid Request: no method string");
    if (m->get_string().empty() || m->get_string().size() > 64)
        return fail(ErrorCode::method_not_found, "Method not found");
    r.method = to_snake(m->get_string());
    const char* pname = is_jsonrpc ? "params" : "arguments";
    if (auto* p = o.if_contains(pname)) {
        if (p->is_null()) {
        } else if (!p->is_object()) {
            return fail(ErrorCode::invalid_params,
                        std::string("Invalid params: ") + pname + " must be an object");
        } else {
            r.params = normalise(*p).get_object();
        }
    }
    // `fields` names torrent fields: the same spelling rules apply to its strings.
    if (auto* f = r.params.if_contains("fields"); f && f->is_array())
        for (auto& x : f->get_array())
            if (x.is_string()) x = json::string(to_snake(x.get_string()));
    return r;
}

}  // namespace pw::daemon::rpc
