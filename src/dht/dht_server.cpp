// DhtNode: answering queries (BEP 5 "DHT Queries"; BEP 43 read-only mode; BEP 32 "want";
// BEP 42 "ip" in every answer).
#include <string>

#include "dht/dht_node_impl.hpp"

namespace pw::dht {

namespace {
constexpr std::size_t max_verifying = 64;  // pings to unknown queriers in flight
// Peers in one get_peers reply. BEP 32 keeps a datagram within 1024 bytes: 8 nodes and
// 8 nodes6 take 529 with their keys, the token, id and the rest under 100, leaving
// about 400 for "values": 16 IPv6 values (21 bytes each with their length prefix), or
// 40 IPv4 ones (8 bytes each); 50 IPv4 values when only one family's nodes are sent.
constexpr std::size_t max_values_sent = 50;
constexpr std::size_t max_values_sent_both = 40;
constexpr std::size_t max_values6_sent = 16;

std::string_view ip_bytes(const Endpoint& ep) {
    return ep.ip_bytes();
}
}  // namespace

void DhtNode::Impl::reply_error(const Endpoint& from, const std::string& transaction, int code,
                                const std::string& text) {
    Message e;
    e.type = MessageType::error;
    e.transaction = transaction;
    e.version = settings.version;
    e.error_code = code;
    e.error_message = text;
    e.ip = from;
    send(from, e);
}

void DhtNode::Impl::handle_query(const Endpoint& from, const Message& q) {
    // BEP 43: a read-only node answers nothing.
    if (settings.read_only) return;
    auto now = Clock::now();
    if (!limiter.allow(ip_bytes(from), now)) {
        ++counters.rate_limited;
        return;
    }
    ++counters.queries_served;
    if (q.id == id) return;  // our own id: a reflection or an impostor

    // A querier we do not know is pinged back (to its source address) and joins the
    // table only if it answers. Read-only queriers (BEP 43) are never added.
    table.node_queried(q.id, from, now);
    bool verify = !q.read_only && !table.find(q.id) && table.has_room_for(q.id, now) &&
                  verifying.size() < max_verifying && !verifying.count(from) && admits(q.id, from);

    Message r;
    r.type = MessageType::response;
    r.transaction = q.transaction;
    r.version = settings.version;
    r.id = id;
    r.ip = from;
    // BEP 32: "want" names the families of nodes asked for; without it, the family the
    // query came over.
    auto add_nodes = [&] {
        std::uint8_t want = q.want != 0 ? q.want : (v6 ? want_n6 : want_n4);
        if (want & want_n4) r.nodes = closest_of_family(false, q.target);
        if (want & want_n6) r.nodes6 = closest_of_family(true, q.target);
    };
    switch (q.method) {
        case Method::ping:
            break;
        case Method::find_node:
            add_nodes();
            break;
        case Method::get_peers:
            r.token = tokens.make(ip_bytes(from));
            add_nodes();
            r.values = store.get(q.target,
                                 v6                                      ? max_values6_sent
                                 : !r.nodes.empty() && !r.nodes6.empty() ? max_values_sent_both
                                                                         : max_values_sent,
                                 now);
            break;
        case Method::announce_peer: {
            if (!tokens.verify(ip_bytes(from), q.token)) {
                reply_error(from, q.transaction, protocol_error, "bad token");
                return;
            }
            Endpoint peer = from;
            if (!q.implied_port) peer.port = q.port;
            if (!store.add(q.target, peer, now)) {
                reply_error(from, q.transaction, server_error, "peer store full");
                return;
            }
            break;
        }
        case Method::unknown:
            reply_error(from, q.transaction, method_unknown, "method unknown");
            return;
    }
    send(from, r);
    if (verify) {
        verifying.insert(from);
        ping(from, q.id);
    }
}

}  // namespace pw::dht
