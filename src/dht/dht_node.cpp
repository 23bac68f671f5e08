// DhtNode: transport, transactions, maintenance and persistence (BEP 5, BEP 43).
#include "dht/dht_node.hpp"

#include <openssl/rand.h>

#include <algorithm>
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

std::optional<Ipv4Endpoint> to_ipv4(const udp::endpoint& ep) {
    asio::ip::address a = ep.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    if (!a.is_v4()) return std::nullopt;
    Ipv4Endpoint out;
    out.ip = a.to_v4().to_bytes();
    out.port = ep.port();
    return out;
}

udp::endpoint to_udp(const Ipv4Endpoint& ep) {
    return udp::endpoint(asio::ip::address_v4(ep.ip), ep.port);
}

DhtNode::Impl::Impl(asio::io_context& io_, udp::socket& socket_, DhtSettings s,
                    const std::optional<std::string>& state)
    : io(io_),
      socket(socket_),
      settings(std::move(s)),
      id(choose_id(settings, state)),
      table(id),
      store(settings.max_peers_per_hash, settings.max_hashes),
      limiter(settings.max_queries_per_second_per_ip),
      sweep_timer(io_),
      maintenance_timer(io_),
      resolver(io_) {
    std::uint16_t r = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
    next_transaction = r;
    if (state) load_state(*state);
}

void DhtNode::Impl::log(const std::string& line) const {
    if (settings.log) settings.log(line);
}

// ---- persistence ----

std::string DhtNode::Impl::encode_state() const {
    bencode::Dict d;
    d["id"] = bencode::Value(id.view());
    d["nodes"] = bencode::Value(compact_nodes(table.all_nodes()));
    return bencode::encode(bencode::Value(std::move(d)));
}

void DhtNode::Impl::load_state(const std::string& data) {
    try {
        auto doc = bencode::decode(data);
        auto nodes = doc.root().find_string("nodes");
        if (nodes && parse_compact_nodes(*nodes, saved_nodes, 2000))
            log("loaded " + std::to_string(saved_nodes.size()) + " nodes from " +
                settings.state_file);
        else
            saved_nodes.clear();
    } catch (const bencode::DecodeError& e) {
        log("ignoring state file " + settings.state_file + ": " + e.what());
    }
}

void DhtNode::Impl::save_state_file() {
    if (settings.state_file.empty()) return;
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
        resolver.async_resolve(
            udp::v4(), host, port,
            [weak, pending_count, hp](const boost::system::error_code& ec,
                                      udp::resolver::results_type results) {
                auto self = weak.lock();
                if (!self || !self->running) return;
                if (ec) self->log("cannot resolve bootstrap " + hp + ": " + ec.message());
                for (const auto& r : results)
                    if (auto ep = to_ipv4(r.endpoint());
                        ep && std::find(self->bootstrap_endpoints.begin(),
                                        self->bootstrap_endpoints.end(),
                                        *ep) == self->bootstrap_endpoints.end())
                        self->bootstrap_endpoints.push_back(*ep);
                if (--*pending_count == 0) self->bootstrap();
            });
    }
    if (*pending_count == 0) bootstrap();
}

// ---- transport ----

void DhtNode::Impl::send(const Ipv4Endpoint& to, const Message& m) {
    auto buf = std::make_shared<std::string>(encode_message(m));
    socket.async_send_to(asio::buffer(*buf), to_udp(to),
                         [buf](const boost::system::error_code&, std::size_t) {});
}

void DhtNode::Impl::query(const Ipv4Endpoint& to, std::optional<NodeId> expected_id, Message m,
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

void DhtNode::Impl::ping(const Ipv4Endpoint& to, std::optional<NodeId> expected_id) {
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
    auto from = to_ipv4(from_ep);
    if (!from || from->port == 0 || data.size() > max_datagram) {
        ++counters.malformed;
        return;
    }
    DecodeResult r = decode_message(data);
    if (!r.ok) {
        ++counters.malformed;
        if (r.has_transaction && r.message.type == MessageType::query && !settings.read_only &&
            limiter.allow(std::string_view(reinterpret_cast<const char*>(from->ip.data()), 4),
                          Clock::now())) {
            ++counters.queries_served;
            reply_error(*from, r.message.transaction, protocol_error, r.error);
        }
        return;
    }
    if (r.message.type == MessageType::query)
        handle_query(*from, r.message);
    else
        handle_reply(*from, r.message);
}

void DhtNode::Impl::handle_reply(const Ipv4Endpoint& from, const Message& m) {
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
        } else if (!m.read_only) {
            table.node_responded(NodeInfo{m.id, from}, now);
        }
    }
    if (p.on_reply) p.on_reply(&m);
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

// ---- public API ----

DhtNode::DhtNode(asio::io_context& io, udp::socket& socket, DhtSettings s) {
    std::optional<std::string> state;
    if (!s.state_file.empty()) state = read_state_file(s.state_file, max_state_file);
    impl_ = std::make_shared<Impl>(io, socket, std::move(s), state);
}

DhtNode::~DhtNode() {
    impl_->stop();
    impl_->finish_writes();  // the save of stop() reaches the file before we return
}

void DhtNode::start() {
    impl_->start();
}
void DhtNode::stop() {
    impl_->stop();
}

void DhtNode::on_packet(const udp::endpoint& from, std::string_view data) {
    impl_->on_packet(from, data);
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
    if (!impl_->running) return;
    auto s = impl_->start_search(info_hash, true);
    s->announce_port = announce_port;
    s->on_peers = std::move(on_peers);
    s->done = std::move(done);
    // Peers announced to this very node (it may be one of the closest to the info-hash)
    // are found too. They are handed over from the event loop, before the lookup starts,
    // so the caller is never re-entered and gets them before `done`.
    std::vector<udp::endpoint> own;
    for (const Ipv4Endpoint& v : impl_->store.get(info_hash, 50, Clock::now()))
        if (s->peers_seen.insert(v).second) own.push_back(to_udp(v));
    if (own.empty()) return impl_->step(s);
    s->stats.peers += own.size();
    asio::post(impl_->io, [weak = impl_->weak_from_this(), s, own = std::move(own)]() mutable {
        auto self = weak.lock();
        if (!self || !self->running) return;
        if (s->on_peers) s->on_peers(std::move(own));
        if (self->running && !s->finished) self->step(s);
    });
}

void DhtNode::add_node(const udp::endpoint& ep) {
    if (auto v4 = to_ipv4(ep); v4 && v4->port != 0 && impl_->running)
        impl_->ping(*v4, std::nullopt);
}

std::size_t DhtNode::routing_table_size() const {
    return impl_->table.size();
}
std::uint64_t DhtNode::queries_served() const {
    return impl_->counters.queries_served;
}
const Sha1Digest& DhtNode::id() const {
    return impl_->id;
}

DhtStats DhtNode::stats() const {
    DhtStats s = impl_->counters;
    s.peers_stored = impl_->store.peer_count();
    s.hashes_stored = impl_->store.hash_count();
    return s;
}

std::vector<udp::endpoint> DhtNode::routing_table_endpoints() const {
    std::vector<udp::endpoint> out;
    for (const NodeInfo& n : impl_->table.all_nodes()) out.push_back(to_udp(n.endpoint));
    return out;
}

std::string DhtNode::save_state() const {
    return impl_->encode_state();
}

}  // namespace pw::dht
