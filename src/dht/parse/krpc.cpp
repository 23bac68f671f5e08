// KRPC codec (BEP 5, BEP 43 "ro", BEP 32 "nodes6"/"want"/IPv6 values, BEP 42 "ip").
#include "dht/parse/krpc.hpp"

#include <boost/asio/ip/address_v6.hpp>
#include <cstring>

#include "bencode/bencode.hpp"

namespace pw::dht {

namespace {

// A KRPC datagram is small; these bounds keep a hostile one cheap to decode.
constexpr bencode::Limits krpc_limits{.max_depth = 16, .max_tokens = 4096, .max_string = 65536};

bool read_id(bencode::Node dict, std::string_view key, NodeId& out, std::string& error) {
    auto s = dict.find_string(key);
    if (!s) {
        error = "missing \"" + std::string(key) + "\"";
        return false;
    }
    if (s->size() != 20) {
        error = "\"" + std::string(key) + "\" is not 20 bytes";
        return false;
    }
    out = Sha1Digest::from_bytes(*s);
    return true;
}

Method method_from(std::string_view q) {
    if (q == "ping") return Method::ping;
    if (q == "find_node") return Method::find_node;
    if (q == "get_peers") return Method::get_peers;
    if (q == "announce_peer") return Method::announce_peer;
    return Method::unknown;
}

bool decode_query(bencode::Node root, Message& m, std::string& error) {
    auto q = root.find_string("q");
    if (!q) {
        error = "query without \"q\"";
        return false;
    }
    if (q->size() > 64) {
        error = "method name too long";
        return false;
    }
    m.method_name = std::string(*q);
    m.method = method_from(*q);
    bencode::Node a = root.find("a");
    if (!a.is_dict()) {
        error = "query without \"a\" dictionary";
        return false;
    }
    if (!read_id(a, "id", m.id, error)) return false;
    if (bencode::Node want = a.find("want")) {
        if (!want.is_list()) {
            error = "\"want\" is not a list";
            return false;
        }
        for (bencode::Node w : want.elements()) {
            if (!w.is_string()) continue;
            if (w.as_string() == "n4") m.want |= want_n4;
            if (w.as_string() == "n6") m.want |= want_n6;
        }
    }
    switch (m.method) {
        case Method::ping:
        case Method::unknown:
            return true;
        case Method::find_node:
            return read_id(a, "target", m.target, error);
        case Method::get_peers:
            return read_id(a, "info_hash", m.target, error);
        case Method::announce_peer: {
            if (!read_id(a, "info_hash", m.target, error)) return false;
            auto implied = a.find_int("implied_port");
            m.implied_port = implied && *implied != 0;
            auto port = a.find_int("port");
            if (!m.implied_port && (!port || *port < 1 || *port > 65535)) {
                error = "announce_peer without a valid \"port\"";
                return false;
            }
            if (port && *port >= 1 && *port <= 65535) m.port = static_cast<std::uint16_t>(*port);
            auto token = a.find_string("token");
            if (!token || token->empty() || token->size() > 64) {
                error = "announce_peer without a valid \"token\"";
                return false;
            }
            m.token = std::string(*token);
            return true;
        }
    }
    return true;
}

bool decode_response(bencode::Node root, Message& m, std::string& error) {
    bencode::Node r = root.find("r");
    if (!r.is_dict()) {
        error = "response without \"r\" dictionary";
        return false;
    }
    if (!read_id(r, "id", m.id, error)) return false;
    if (bencode::Node nodes = r.find("nodes")) {
        if (!nodes.is_string() || !parse_compact_nodes(nodes.as_string(), m.nodes)) {
            error = "\"nodes\" is not a multiple of 26 bytes";
            return false;
        }
    }
    if (bencode::Node nodes6 = r.find("nodes6")) {
        if (!nodes6.is_string() ||
            !parse_compact_nodes(nodes6.as_string(), m.nodes6, max_nodes_decoded, true)) {
            error = "\"nodes6\" is not a multiple of 38 bytes";
            return false;
        }
    }
    if (bencode::Node token = r.find("token")) {
        if (!token.is_string() || token.as_string().size() > 64) {
            error = "bad \"token\"";
            return false;
        }
        m.token = std::string(token.as_string());
    }
    if (bencode::Node values = r.find("values")) {
        if (!values.is_list()) {
            error = "\"values\" is not a list";
            return false;
        }
        for (bencode::Node v : values.elements()) {
            if (!v.is_string()) {
                error = "\"values\" entry is not a string";
                return false;
            }
            std::string_view s = v.as_string();
            if (s.size() != compact_peer_size && s.size() != compact_peer6_size) {
                error = "\"values\" entry is not 6 or 18 bytes";
                return false;
            }
            Endpoint ep = parse_compact_endpoint(s);
            if (ep.port == 0) continue;
            if (m.values.size() < max_values_decoded) m.values.push_back(ep);
        }
    }
    return true;
}

bool decode_error(bencode::Node root, Message& m, std::string& error) {
    bencode::Node e = root.find("e");
    if (!e.is_list() || e.size() < 2 || !e.at(0).is_int() || !e.at(1).is_string()) {
        error = "error without [code, message] list";
        return false;
    }
    std::int64_t code = e.at(0).as_int();
    m.error_code = code < 0 || code > 100000 ? 0 : static_cast<int>(code);
    std::string_view msg = e.at(1).as_string();
    m.error_message = std::string(msg.substr(0, 256));
    return true;
}

}  // namespace

std::string_view Endpoint::ip_bytes() const {
    return {reinterpret_cast<const char*>(ip.data()), v6 ? 16u : 4u};
}

std::string Endpoint::to_string() const {
    if (v6) return "[" + boost::asio::ip::address_v6(ip).to_string() + "]:" + std::to_string(port);
    return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
           std::to_string(ip[3]) + ":" + std::to_string(port);
}

const char* method_name(Method m) {
    switch (m) {
        case Method::ping:
            return "ping";
        case Method::find_node:
            return "find_node";
        case Method::get_peers:
            return "get_peers";
        case Method::announce_peer:
            return "announce_peer";
        case Method::unknown:
            break;
    }
    return "unknown";
}

std::string compact_endpoint(const Endpoint& ep) {
    std::string s(ep.ip_bytes());
    s += static_cast<char>(ep.port >> 8);
    s += static_cast<char>(ep.port & 0xff);
    return s;
}

Endpoint parse_compact_endpoint(std::string_view data) {
    Endpoint ep;
    if (data.size() != compact_peer_size && data.size() != compact_peer6_size) return ep;
    std::size_t n = data.size() - 2;
    ep.v6 = n == 16;
    std::memcpy(ep.ip.data(), data.data(), n);
    ep.port = static_cast<std::uint16_t>((static_cast<std::uint8_t>(data[n]) << 8) |
                                         static_cast<std::uint8_t>(data[n + 1]));
    return ep;
}

std::string compact_nodes(const std::vector<NodeInfo>& nodes) {
    std::string s;
    s.reserve(nodes.size() * compact_node6_size);
    for (const NodeInfo& n : nodes) {
        s.append(n.id.view());
        s += compact_endpoint(n.endpoint);
    }
    return s;
}

bool parse_compact_nodes(std::string_view data, std::vector<NodeInfo>& out, std::size_t max,
                         bool v6) {
    const std::size_t size = v6 ? compact_node6_size : compact_node_size;
    if (data.size() % size != 0) return false;
    for (std::size_t off = 0; off < data.size() && out.size() < max; off += size) {
        NodeInfo n;
        n.id = Sha1Digest::from_bytes(data.substr(off, 20));
        n.endpoint = parse_compact_endpoint(data.substr(off + 20, size - 20));
        if (n.endpoint.port == 0) continue;
        out.push_back(n);
    }
    return true;
}

DecodeResult decode_message(std::string_view datagram) {
    DecodeResult res;
    Message& m = res.message;
    bencode::Document doc;
    try {
        doc = bencode::decode(datagram, krpc_limits);
    } catch (const bencode::DecodeError& e) {
        res.error = e.what();
        return res;
    }
    bencode::Node root = doc.root();
    if (!root.is_dict()) {
        res.error = "not a dictionary";
        return res;
    }
    auto y = root.find_string("y");
    if (!y || y->size() != 1 || ((*y)[0] != 'q' && (*y)[0] != 'r' && (*y)[0] != 'e')) {
        res.error = "missing or bad \"y\"";
        return res;
    }
    m.type = (*y)[0] == 'q'   ? MessageType::query
             : (*y)[0] == 'r' ? MessageType::response
                              : MessageType::error;
    auto t = root.find_string("t");
    if (!t || t->empty() || t->size() > max_transaction_size) {
        res.error = "missing or bad transaction id";
        return res;
    }
    m.transaction = std::string(*t);
    res.has_transaction = true;
    if (auto v = root.find_string("v"); v && v->size() <= 16) m.version = std::string(*v);
    auto ro = root.find_int("ro");
    m.read_only = ro && *ro == 1;
    if (auto ip = root.find_string("ip"); ip && (ip->size() == compact_peer_size ||
                                                ip->size() == compact_peer6_size))
        m.ip = parse_compact_endpoint(*ip);

    bool ok = false;
    switch (m.type) {
        case MessageType::query:
            ok = decode_query(root, m, res.error);
            break;
        case MessageType::response:
            ok = decode_response(root, m, res.error);
            break;
        case MessageType::error:
            ok = decode_error(root, m, res.error);
            break;
    }
    res.ok = ok;
    return res;
}

std::string encode_message(const Message& m) {
    using bencode::Dict;
    using bencode::List;
    using bencode::Value;
    Dict top;
    top["t"] = Value(m.transaction);
    if (!m.version.empty()) top["v"] = Value(m.version);
    if (m.read_only) top["ro"] = Value(1);
    if (m.ip) top["ip"] = Value(compact_endpoint(*m.ip));
    switch (m.type) {
        case MessageType::query: {
            top["y"] = Value("q");
            top["q"] = Value(m.method == Method::unknown ? m.method_name
                                                         : std::string(method_name(m.method)));
            Dict a;
            a["id"] = Value(m.id.view());
            if (m.method == Method::find_node) a["target"] = Value(m.target.view());
            if (m.method == Method::get_peers || m.method == Method::announce_peer)
                a["info_hash"] = Value(m.target.view());
            if ((m.method == Method::find_node || m.method == Method::get_peers) && m.want != 0) {
                List want;
                if (m.want & want_n4) want.emplace_back("n4");
                if (m.want & want_n6) want.emplace_back("n6");
                a["want"] = Value(std::move(want));
            }
            if (m.method == Method::announce_peer) {
                a["port"] = Value(static_cast<std::int64_t>(m.port));
                a["token"] = Value(m.token);
                if (m.implied_port) a["implied_port"] = Value(1);
            }
            top["a"] = Value(std::move(a));
            break;
        }
        case MessageType::response: {
            top["y"] = Value("r");
            Dict r;
            r["id"] = Value(m.id.view());
            if (!m.nodes.empty()) r["nodes"] = Value(compact_nodes(m.nodes));
            if (!m.nodes6.empty()) r["nodes6"] = Value(compact_nodes(m.nodes6));
            if (!m.token.empty()) r["token"] = Value(m.token);
            if (!m.values.empty()) {
                List values;
                for (const Endpoint& ep : m.values) values.emplace_back(compact_endpoint(ep));
                r["values"] = Value(std::move(values));
            }
            top["r"] = Value(std::move(r));
            break;
        }
        case MessageType::error: {
            top["y"] = Value("e");
            top["e"] =
                Value(List{Value(static_cast<std::int64_t>(m.error_code)), Value(m.error_message)});
            break;
        }
    }
    return bencode::encode(Value(std::move(top)));
}

}  // namespace pw::dht
