// DhtNode: transport, transactions, maintenance and persistence (BEP 5, BEP 43, BEP 32),
// and BEP 42's external address and id enforcement.
#include "dht/dht_node.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <charconv>

#include "bencode/bencode.hpp"
#include "dht/dht_node_impl.hpp"
#include "dht/state_file.hpp"

namespace pw::dht {

namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {
constexpr std::size_t max_datagram = 16 * 1024;  // larger KRPC datagrams are dropped unread
constexpr std::chrono::minutes max_bootstrap_backoff{5};

constexpr std::size_t max_state_file = 1u << 20;

NodeId choose_id(const DhtSettings& s, const std::optional<std::string>& state) {
    if (s.node_id) return *s.node_id;
    if (state) {
        try {
            auto doc = bencode::decode(*state);
            if (auto id = doc.root().find_string("id"); id && id->size() == 20)
                return Sha1Digest::from_bytes(*id);
        } catch (const bencode::DecodeError&) {
        }
    }
    return random_node_id();
}
}  // namespace

Endpoint to_endpoint(const udp::endpoint& ep) {
    asio::ip::address a = ep.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    Endpoint out;
    out.port = ep.port();
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), out.ip.begin());
    } else {
        out.ip = a.to_v6().to_bytes();
        out.v6 = true;
    }
    return out;
}

udp::endpoint to_udp(const Endpoint& ep) {
    if (ep.v6) return udp::endpoint(asio::ip::address_v6(ep.ip), ep.port);
    return udp::endpoint(asio::ip::address_v4({ep.ip[0], ep.ip[1], ep.ip[2], ep.ip[3]}), ep.port);
}

DhtNode::Impl::Impl(asio::io_context& io_, udp::socket& socket_, bool v6_, DhtSettings s,
                    const std::optional<std::string>& state)
    : io(io_),
      socket(socket_),
      v6(v6_),
      settings(std::move(s)),
      id(choose_id(settings, state)),
      table(id),
      store(settings.max_peers_per_hash, settings.max_hashes),
      limiter(settings.max_queries_per_second_per_ip),
      voter(settings.external_ip_votes),
      sweep_timer(io_),
      maintenance_timer(io_),
      resolver(io_) {
    std::uint16_t r = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
    next_transaction = r;
    boost::system::error_code ec;
    auto local = socket.local_endpoint(ec);
    socket_v6 = ec ? v6 : local.address().is_v6();
    if (state) load_state(*state);
}

void DhtNode::Impl::log(const std::string& line) const {
    if (settings.log) settings.log(line);
}

// ---- persistence ----

// {"id", "nodes": the IPv4 table, "nodes6": the IPv6 table}; a dual-stack node writes
// both from its IPv4 half.
std::string DhtNode::Impl::encode_state() const {
    bencode::Dict d;
    d["id"] = bencode::Value(id.view());
    d[v6 ? "nodes6" : "nodes"] = bencode::Value(compact_nodes(table.all_nodes()));
    if (auto other = sibling.lock()) {
        d[other->v6 ? "nodes6" : "nodes"] = bencode::Value(compact_nodes(other->table.all_nodes()));
        if (other->id != id) d["id6"] = bencode::Value(other->id.view());
    }
    return bencode::encode(bencode::Value(std::move(d)));
}

void DhtNode::Impl::load_state(const std::string& data) {
    try {
        auto doc = bencode::decode(data);
        auto nodes = doc.root().find_string(v6 ? "nodes6" : "nodes");
        if (nodes && parse_compact_nodes(*nodes, saved_nodes, 2000, v6))
            log("loaded " + std::to_string(saved_nodes.size()) + " nodes from " +
                settings.state_file);
        else
            saved_nodes.clear();
    } catch (const bencode::DecodeError& e) {
        log("ignoring state file " + settings.state_file + ": " + e.what());
    }
}

void DhtNode::Impl::save_state_file() {
    if (settings.state_file.empty() || !saves_state) return;
    if (!writer) {
        // Write errors are logged on the network thread, if the node is still there.
        writer = std::make_unique<StateFileWriter>(
            settings.state_file, [weak = weak_from_this(), &io = io](std::string line) {
                asio::post(io, [weak, line = std::move(line)] {
                    if (auto self = weak.lock()) self->log(line);
                });
            });
    }
    writer->save(encode_state());
}

void DhtNode::Impl::finish_writes() {
    if (writer) writer->finish();
}

// ---- lifecycle ----

void DhtNode::Impl::start() {
    if (running) return;
    running = true;
    auto now = Clock::now();
    next_save = now + settings.save_interval;
    bootstrap_backoff = settings.bootstrap_retry;
    next_bootstrap = now + bootstrap_backoff;
    arm_maintenance();
    resolve_bootstrap();
}

void DhtNode::Impl::stop() {
    if (!running) return;
    running = false;
    save_state_file();
    sweep_timer.cancel();
    maintenance_timer.cancel();
    resolver.cancel();
    sweep_armed = false;
    // Drop every callback: nothing reaches the owner after stop().
    pending.clear();
    searches.clear();
    bootstrap_search.reset();
    verifying.clear();
    refresh_queue.clear();
    refresh_searches = 0;
}

void DhtNode::Impl::resolve_bootstrap() {
    auto pending_count = std::make_shared<std::size_t>(0);
    std::weak_ptr<Impl> weak = weak_from_this();
    for (const std::string& hp : settings.bootstrap) {
        auto colon = hp.rfind(':');
        if (colon == std::string::npos || colon == 0) {
            log("bad bootstrap address " + hp);
            continue;
        }
        std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        ++*pending_count;
        // Any family is resolved; this DHT keeps the addresses of its own (so an IPv4
        // literal is silently not ours in the IPv6 DHT, and the other way round).
        resolver.async_resolve(
            host, port,
            [weak, pending_count, hp](const boost::system::error_code& ec,
                                      udp::resolver::results_type results) {
                auto self = weak.lock();
                if (!self || !self->running) return;
                if (ec) self->log("cannot resolve bootstrap " + hp + ": " + ec.message());
                for (const auto& r : results)
                    if (Endpoint ep = to_endpoint(r.endpoint());
                        ep.v6 == self->v6 && ep.port != 0 &&
                        std::find(self->bootstrap_endpoints.begin(),
                                  self->bootstrap_endpoints.end(),
                                  ep) == self->bootstrap_endpoints.end())
                        self->bootstrap_endpoints.push_back(ep);
                if (--*pending_count == 0) self->bootstrap();
            });
    }
    if (*pending_count == 0) bootstrap();
}

// ---- transport ----

void DhtNode::Impl::send(const Endpoint& to, const Message& m) {
    auto buf = std::make_shared<std::string>(encode_message(m));
    udp::endpoint dest = to_udp(to);
    // IPv4 over a dual-stack IPv6 socket goes to the IPv4-mapped address.
    if (socket_v6 && !to.v6)
        dest = udp::endpoint(asio::ip::make_address_v6(asio::ip::v4_mapped, dest.address().to_v4()),
                             to.port);
    socket.async_send_to(asio::buffer(*buf), dest,
                         [buf](const boost::system::error_code&, std::size_t) {});
}

void DhtNode::Impl::query(const Endpoint& to, std::optional<NodeId> expected_id, Message m,
                          ReplyHandler on_reply) {
    if (!running || pending.size() >= settings.max_outstanding_queries || to.port == 0) {
        ++counters.dropped_sends;
        // Reported as a timeout, later, so callers never re-enter themselves.
        asio::post(io, [weak = weak_from_this(), cb = std::move(on_reply)] {
            if (auto self = weak.lock(); self && self->running && cb) cb(nullptr);
        });
        return;
    }
    std::uint16_t t = next_transaction++;
    while (pending.count(t)) t = next_transaction++;
    m.type = MessageType::query;
    m.transaction = std::string{static_cast<char>(t >> 8), static_cast<char>(t & 0xff)};
    m.id = id;
    m.version = settings.version;
    m.read_only = settings.read_only;
    pending.emplace(
        t, Pending{to, expected_id, Clock::now() + settings.query_timeout, std::move(on_reply)});
    ++counters.queries_sent;
    send(to, m);
    arm_sweep();
}

void DhtNode::Impl::ping(const Endpoint& to, std::optional<NodeId> expected_id) {
    Message m;
    m.method = Method::ping;
    query(to, expected_id, std::move(m), nullptr);
}

void DhtNode::Impl::arm_sweep() {
    if (sweep_armed || pending.empty() || !running) return;
    sweep_armed = true;
    auto tick = std::max<std::chrono::milliseconds>(settings.query_timeout / 4,
                                                    std::chrono::milliseconds(20));
    sweep_timer.expires_after(tick);
    sweep_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || !self->running) return;
        self->sweep_armed = false;
        self->sweep();
        self->arm_sweep();
    });
}

void DhtNode::Impl::sweep() {
    auto now = Clock::now();
    std::vector<Pending> expired;
    for (auto it = pending.begin(); it != pending.end();) {
        if (it->second.deadline <= now) {
            expired.push_back(std::move(it->second));
            it = pending.erase(it);
        } else {
            ++it;
        }
    }
    for (Pending& p : expired) {
        if (!running) return;
        ++counters.timeouts;
        verifying.erase(p.to);
        if (p.expected_id) table.node_failed(*p.expected_id, p.to, now);
        if (p.on_reply) p.on_reply(nullptr);
    }
}

void DhtNode::Impl::on_packet(const udp::endpoint& from_ep, std::string_view data) {
    if (!running) return;
    Endpoint from = to_endpoint(from_ep);
    if (from.v6 != v6 || from.port == 0 || data.size() > max_datagram) {
        ++counters.malformed;
        return;
    }
    DecodeResult r = decode_message(data);
    if (!r.ok) {
        ++counters.malformed;
        if (r.has_transaction && r.message.type == MessageType::query && !settings.read_only &&
            limiter.allow(from.ip_bytes(), Clock::now())) {
            ++counters.queries_served;
            reply_error(from, r.message.transaction, protocol_error, r.error);
        }
        return;
    }
    if (r.message.type == MessageType::query)
        handle_query(from, r.message);
    else
        handle_reply(from, r.message);
}

void DhtNode::Impl::handle_reply(const Endpoint& from, const Message& m) {
    auto unsolicited = [&] { ++counters.unsolicited; };
    if (m.transaction.size() != 2) return unsolicited();
    std::uint16_t t =
        static_cast<std::uint16_t>((static_cast<std::uint8_t>(m.transaction[0]) << 8) |
                                   static_cast<std::uint8_t>(m.transaction[1]));
    auto it = pending.find(t);
    if (it == pending.end() || !(it->second.to == from)) return unsolicited();
    Pending p = std::move(it->second);
    pending.erase(it);
    ++counters.responses;
    verifying.erase(from);
    auto now = Clock::now();
    if (m.type == MessageType::response) {
        if (p.expected_id && *p.expected_id != m.id) {
            table.node_failed(*p.expected_id, from, now);
        } else if (!admits(m.id, from)) {
            ++counters.nonconforming;
        } else if (!m.read_only) {
            table.node_responded(NodeInfo{m.id, from}, now);
        }
    }
    // BEP 42: the address this node saw our query come from is a vote on ours.
    if (m.ip && m.ip->v6 == v6 && voter.vote(from.ip_bytes(), m.ip->ip_bytes()))
        on_external_address(*voter.winner(), "the DHT's votes");
    if (!running) return;
    if (p.on_reply) p.on_reply(&m);
}

bool DhtNode::Impl::admits(const NodeId& node, const Endpoint& at) const {
    return !settings.enforce_node_id || bep42_valid(node, at.ip_bytes());
}

void DhtNode::Impl::on_external_address(std::string_view ip, const std::string& source) {
    if ((ip.size() == 16) != v6 || bep42_valid(id, ip)) return;
    Endpoint shown;
    std::copy(ip.begin(), ip.end(), shown.ip.begin());
    shown.v6 = v6;
    std::string addr = shown.to_string();
    addr.resize(addr.rfind(':'));
    id = bep42_random_node_id(ip);
    ++counters.id_changes;
    log("external address " + addr + " (from " + source + "): new node id " + id.hex());
    table = table.with_own_id(id, Clock::now());
    if (!running) return;
    // Our new neighbourhood learns of us: look our id up again, then refresh.
    refreshed_after_bootstrap = false;
    if (!bootstrap_search) bootstrap();
    save_state_file();
}

// ---- maintenance ----

void DhtNode::Impl::arm_maintenance() {
    maintenance_timer.expires_after(settings.maintenance_interval);
    maintenance_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self || !self->running) return;
        self->maintenance();
        if (self->running) self->arm_maintenance();
    });
}

void DhtNode::Impl::maintenance() {
    auto now = Clock::now();
    tokens.maybe_rotate(now);
    store.expire(now);
    for (const NodeInfo& n : table.nodes_to_ping(now, 8)) ping(n.endpoint, n.id);
    if (table.size() > 0) {
        for (const NodeId& target : table.refresh_targets(now, settings.refresh_interval))
            if (refresh_queue.size() < 160) refresh_queue.push_back(target);
    }
    run_refresh_queue();
    // A small table (e.g. we started before the rest of the network) asks again, with
    // back-off, until it holds at least one full bucket's worth.
    if (table.size() < RoutingTable::k && !bootstrap_search && now >= next_bootstrap) {
        bootstrap_backoff = std::min<Clock::duration>(bootstrap_backoff * 2, max_bootstrap_backoff);
        next_bootstrap = now + bootstrap_backoff;
        bootstrap();
    }
    if (now >= next_save) {
        next_save = now + settings.save_interval;
        save_state_file();
    }
}

void DhtNode::Impl::run_refresh_queue() {
    while (running && refresh_searches < 2 && !refresh_queue.empty()) {
        NodeId target = refresh_queue.front();
        refresh_queue.erase(refresh_queue.begin());
        auto s = start_search(target, false);
        s->is_refresh = true;
        ++refresh_searches;
        step(s);
    }
}

// ---- the two families (BEP 32) ----

std::vector<NodeInfo> DhtNode::Impl::closest_of_family(bool family_v6, const NodeId& target) const {
    if (family_v6 == v6) return table.closest(target, RoutingTable::k);
    if (auto other = sibling.lock()) return other->table.closest(target, RoutingTable::k);
    return {};
}

std::uint8_t DhtNode::Impl::want_for_queries() const {
    std::uint8_t own = v6 ? want_n6 : want_n4;
    auto other = sibling.lock();
    if (!other || other->table.size() >= RoutingTable::k) return own;
    return own | (v6 ? want_n4 : want_n6);
}

void DhtNode::Impl::learn_nodes(const std::vector<NodeInfo>& nodes) {
    if (!running || table.size() >= RoutingTable::k) return;
    std::size_t sent = 0;
    for (const NodeInfo& n : nodes) {
        if (sent >= 4 || verifying.size() >= 64) break;
        if (n.endpoint.v6 != v6 || n.id == id || table.find(n.id) || verifying.count(n.endpoint) ||
            !admits(n.id, n.endpoint))
            continue;
        verifying.insert(n.endpoint);
        ping(n.endpoint, n.id);
        ++sent;
    }
}

// ---- public API ----

namespace {
// The families a lone socket serves: its own; an IPv6 socket bound to [::] that is not
// IPv6-only (dual-stack) serves IPv4 too, through IPv4-mapped addresses.
struct Families {
    bool v4 = false, v6 = false;
};
Families families_of(udp::socket& socket) {
    boost::system::error_code ec;
    udp::endpoint local = socket.local_endpoint(ec);
    if (ec || local.address().is_v4()) return {true, false};
    asio::ip::v6_only only(false);
    socket.get_option(only, ec);
    if (!ec && !only.value() && local.address().is_unspecified()) return {true, true};
    return {false, true};
}
}  // namespace

DhtNode::DhtNode(asio::io_context& io, udp::socket& socket, DhtSettings s) {
    Families f = families_of(socket);
    init(io, f.v4 ? &socket : nullptr, f.v6 ? &socket : nullptr, std::move(s));
}

DhtNode::DhtNode(asio::io_context& io, udp::socket* socket4, udp::socket* socket6, DhtSettings s) {
    init(io, socket4, socket6, std::move(s));
}

void DhtNode::init(asio::io_context& io, udp::socket* socket4, udp::socket* socket6,
                   DhtSettings s) {
    std::optional<std::string> state;
    if (!s.state_file.empty()) state = read_state_file(s.state_file, max_state_file);
    const bool explicit_id = s.node_id.has_value();
    if (socket4) {
        impl_ = std::make_shared<Impl>(io, *socket4, false, s, state);
        s.node_id = impl_->id;  // BEP 32: the same id in both DHTs
    }
    if (socket6) {
        // The IPv6 DHT's own BEP 42 id, when the state file has one.
        if (impl_ && state && !explicit_id) {
            try {
                auto doc = bencode::decode(*state);
                if (auto id6 = doc.root().find_string("id6"); id6 && id6->size() == 20)
                    s.node_id = Sha1Digest::from_bytes(*id6);
            } catch (const bencode::DecodeError&) {
            }
        }
        impl6_ = std::make_shared<Impl>(io, *socket6, true, std::move(s), state);
        if (impl_) {
            impl6_->saves_state = false;  // the IPv4 half writes both tables
            impl_->sibling = impl6_;
            impl6_->sibling = impl_;
        }
    }
    if (!impl_ && !impl6_) throw std::invalid_argument("DhtNode: no socket");
}

DhtNode::~DhtNode() {
    for (Impl* i : {impl6_.get(), impl_.get()})
        if (i) i->stop();
    finish_writes();  // the save of stop() reaches the file before we return
}

void DhtNode::finish_writes() {
    for (Impl* i : {impl6_.get(), impl_.get()})
        if (i) i->finish_writes();
}

void DhtNode::start() {
    for (Impl* i : {impl_.get(), impl6_.get()})
        if (i) i->start();
}
void DhtNode::stop() {
    // The IPv6 half stops first: the IPv4 half's save includes its table.
    for (Impl* i : {impl6_.get(), impl_.get()})
        if (i) i->stop();
}

DhtNode::Impl* DhtNode::family(const udp::endpoint& ep) const {
    return to_endpoint(ep).v6 ? impl6_.get() : impl_.get();
}

void DhtNode::on_packet(const udp::endpoint& from, std::string_view data) {
    if (Impl* i = family(from)) i->on_packet(from, data);
}

void DhtNode::get_peers(const Sha1Digest& info_hash, std::uint16_t announce_port,
                        std::function<void(std::vector<udp::endpoint>)> on_peers,
                        std::function<void()> done) {
    get_peers_with_stats(info_hash, announce_port, std::move(on_peers),
                         [done = std::move(done)](const LookupStats&) {
                             if (done) done();
                         });
}

void DhtNode::get_peers_with_stats(const Sha1Digest& info_hash, std::uint16_t announce_port,
                                   std::function<void(std::vector<udp::endpoint>)> on_peers,
                                   std::function<void(const LookupStats&)> done) {
    std::vector<Impl*> running;
    for (Impl* i : {impl_.get(), impl6_.get()})
        if (i && i->running) running.push_back(i);
    if (running.empty()) return;
    if (running.size() == 1)
        return running[0]->get_peers(info_hash, announce_port, std::move(on_peers),
                                     std::move(done));
    // Both families: one lookup in each; `done` once both ended, with their figures
    // combined (hops and elapsed: the larger; counts: summed).
    struct Joint {
        std::size_t left = 2;
        LookupStats stats;
        std::function<void(const LookupStats&)> done;
    };
    auto joint = std::make_shared<Joint>();
    joint->done = std::move(done);
    for (Impl* i : running)
        i->get_peers(info_hash, announce_port, on_peers, [joint](const LookupStats& st) {
            LookupStats& j = joint->stats;
            j.hops = std::max(j.hops, st.hops);
            j.queries += st.queries;
            j.responses += st.responses;
            j.peers += st.peers;
            j.announced += st.announced;
            j.elapsed = std::max(j.elapsed, st.elapsed);
            if (--joint->left == 0 && joint->done) joint->done(j);
        });
}

void DhtNode::Impl::get_peers(const Sha1Digest& info_hash, std::uint16_t announce_port,
                              std::function<void(std::vector<udp::endpoint>)> on_peers,
                              std::function<void(const LookupStats&)> done) {
    auto s = start_search(info_hash, true);
    s->announce_port = announce_port;
    s->on_peers = std::move(on_peers);
    s->done = std::move(done);
    // Peers announced to this very node (it may be one of the closest to the info-hash)
    // are found too. They are handed over from the event loop, before the lookup starts,
    // so the caller is never re-entered and gets them before `done`.
    std::vector<udp::endpoint> own;
    for (const Endpoint& v : store.get(info_hash, 50, Clock::now()))
        if (s->peers_seen.insert(v).second) own.push_back(to_udp(v));
    if (own.empty()) return step(s);
    s->stats.peers += own.size();
    asio::post(io, [weak = weak_from_this(), s, own = std::move(own)]() mutable {
        auto self = weak.lock();
        if (!self || !self->running) return;
        if (s->on_peers) s->on_peers(std::move(own));
        if (self->running && !s->finished) self->step(s);
    });
}

void DhtNode::set_external_address(const asio::ip::address& a) {
    Endpoint e = to_endpoint(udp::endpoint(a, 0));
    if (Impl* i = e.v6 ? impl6_.get() : impl_.get())
        i->on_external_address(e.ip_bytes(), "the external address " + a.to_string());
}

void DhtNode::add_node(const udp::endpoint& ep) {
    Endpoint e = to_endpoint(ep);
    if (Impl* i = family(ep); i && e.port != 0 && i->running) i->ping(e, std::nullopt);
}

std::size_t DhtNode::routing_table_size() const {
    return (impl_ ? impl_->table.size() : 0) + (impl6_ ? impl6_->table.size() : 0);
}
std::size_t DhtNode::routing_table_size(bool v6) const {
    const Impl* i = v6 ? impl6_.get() : impl_.get();
    return i ? i->table.size() : 0;
}
bool DhtNode::serves(bool v6) const {
    return (v6 ? impl6_ : impl_) != nullptr;
}
std::uint64_t DhtNode::queries_served() const {
    return stats().queries_served;
}
const Sha1Digest& DhtNode::id() const {
    return impl_ ? impl_->id : impl6_->id;
}
const Sha1Digest& DhtNode::id(bool v6) const {
    return (v6 ? impl6_ : impl_)->id;
}

DhtStats DhtNode::stats() const {
    DhtStats s;
    for (const Impl* i : {impl_.get(), impl6_.get()}) {
        if (!i) continue;
        const DhtStats& c = i->counters;
        s.queries_served += c.queries_served;
        s.queries_sent += c.queries_sent;
        s.responses += c.responses;
        s.timeouts += c.timeouts;
        s.rate_limited += c.rate_limited;
        s.malformed += c.malformed;
        s.unsolicited += c.unsolicited;
        s.dropped_sends += c.dropped_sends;
        s.nonconforming += c.nonconforming;
        s.id_changes += c.id_changes;
        s.peers_stored += i->store.peer_count();
        s.hashes_stored += i->store.hash_count();
    }
    return s;
}

std::vector<udp::endpoint> DhtNode::routing_table_endpoints() const {
    std::vector<udp::endpoint> out;
    for (const Impl* i : {impl_.get(), impl6_.get()})
        if (i)
            for (const NodeInfo& n : i->table.all_nodes()) out.push_back(to_udp(n.endpoint));
    return out;
}

std::string DhtNode::save_state() const {
    return (impl_ ? impl_ : impl6_)->encode_state();
}

}  // namespace pw::dht
