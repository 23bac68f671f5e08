#include "peer/utp_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "net/path_mtu.hpp"
#include "utp/connection.hpp"

namespace pw::peer {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using utp::Micros;

namespace utp_detail {

namespace {

Micros now_us() {
    return static_cast<Micros>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

constexpr Micros linger_us = 30'000'000;  // a closed stream's FIN and last bytes
constexpr auto tick_period = std::chrono::milliseconds(5);
constexpr std::size_t max_known = 10000;

}  // namespace

using Key = std::tuple<asio::ip::address, std::uint16_t, std::uint16_t>;  // peer ip, port, recv id

struct Conn {
    std::weak_ptr<Core> core;
    utp::Connection c;
    udp::endpoint remote;
    asio::any_io_executor ex;
    bool app_closed = false;
    bool incoming = false;
    Micros closed_at = 0;
    // Optional, and never assigned: any_completion_handler's move assignment recurses
    // in Boost 1.81 (it copies from an lvalue).
    std::optional<Handler> rh, wh;
    asio::mutable_buffer rbuf;
    std::vector<asio::const_buffer> wbufs;
    std::optional<asio::steady_timer> connect_wait;

    Conn(utp::Connection conn, udp::endpoint r, asio::any_io_executor e)
        : c(std::move(conn)), remote(std::move(r)), ex(std::move(e)) {}
    Key key() const { return {remote.address(), remote.port(), c.recv_id()}; }
};

struct Core : std::enable_shared_from_this<Core> {
    asio::io_context& io;
    udp::socket* socket;
    UtpOptions opts;
    std::map<Key, std::shared_ptr<Conn>> conns;
    std::map<asio::ip::address, std::size_t> per_address;  // incoming, open
    // Connections closed by their stream, oldest first, while they may still linger to
    // deliver their FIN: the first to go when a new incoming one needs room.
    std::deque<std::weak_ptr<Conn>> closing;
    std::set<asio::ip::address> known;
    std::map<udp::endpoint, Micros> holes;  // simulate_nat: endpoints we sent a SYN to, when
    std::function<void(UtpStream)> accept;
    std::vector<std::shared_ptr<Conn>> touched;  // received on during this batch
    asio::steady_timer timer;
    bool ticking = false;
    std::mt19937 rng{std::random_device{}()};

    Core(asio::io_context& i, udp::socket& s, UtpOptions o)
        : io(i), socket(&s), opts(o), timer(i) {
        if (opts.path_mtu_probing && s.is_open()) pw::net::set_dont_fragment(s, true);
    }

    utp::Config config_for(const udp::endpoint& to) const {
        utp::Config cfg;
        if (opts.max_payload_loopback && to.address().is_loopback())
            cfg.max_payload = opts.max_payload_loopback;
        if (opts.path_mtu_probing) {
            const auto a = to.address();
            const bool v6 = a.is_v6() && !a.to_v6().is_v4_mapped();
            cfg.max_probe_payload = utp::payload_for_datagram(
                pw::net::max_udp_payload(pw::net::route_mtu(to), v6));
        }
        return cfg;
    }

    void send(Conn& k) {
        auto& out = k.c.outbox();
        if (socket && socket->is_open())
            for (auto& d : out) {
                boost::system::error_code ec;
                // Non-blocking: a datagram the kernel cannot take now (or larger than
                // the interface, EMSGSIZE) is lost, and uTP resends it like any other.
                // A resend larger than the path goes out without Don't Fragment.
                const bool df_off = d.fragment_ok && opts.path_mtu_probing;
                if (df_off) pw::net::set_dont_fragment(*socket, false);
                socket->send_to(asio::buffer(d.bytes), k.remote, 0, ec);
                if (df_off) pw::net::set_dont_fragment(*socket, true);
            }
        out.clear();
    }

    // A handler's completion, posted. Not a lambda: a lambda holding an
    // any_completion_handler would look copyable to asio (Boost 1.81).
    struct Completion {
        Handler h;
        boost::system::error_code ec;
        std::size_t n;
        Completion(Handler hh, boost::system::error_code e, std::size_t k)
            : h(std::move(hh)), ec(e), n(k) {}
        Completion(Completion&&) = default;
        Completion(const Completion&) = delete;
        void operator()() { std::move(h)(ec, n); }
    };
    static void complete(Conn& k, std::optional<Handler>& h, boost::system::error_code ec,
                         std::size_t n) {
        Handler taken(std::move(*h));
        h.reset();
        asio::post(k.ex, Completion(std::move(taken), ec, n));
    }

    // Completes what waits on `k` if it can; sends what it produced.
    void wake(const std::shared_ptr<Conn>& kp) {
        Conn& k = *kp;
        Micros now = now_us();
        if (k.rh) {
            if (k.c.readable() > 0) {
                std::size_t n = k.c.read(static_cast<char*>(k.rbuf.data()), k.rbuf.size(), now);
                complete(k, k.rh, {}, n);
            } else if (k.c.eof()) {
                complete(k, k.rh, asio::error::eof, 0);
            } else if (k.c.done() || k.app_closed) {
                complete(k, k.rh, asio::error::connection_reset, 0);
            }
        }
        if (k.wh) {
            if (k.c.done() || k.app_closed || k.c.state() == utp::State::fin_sent) {
                complete(k, k.wh, asio::error::broken_pipe, 0);
            } else if (k.c.send_space() > 0 && k.c.writable()) {
                std::size_t total = 0;
                for (auto& b : k.wbufs) {
                    std::size_t n = k.c.write(
                        std::string_view(static_cast<const char*>(b.data()), b.size()), now);
                    total += n;
                    if (n < b.size()) break;
                }
                k.wbufs.clear();
                complete(k, k.wh, {}, total);
            }
        }
        if (k.app_closed)  // nobody reads any more: drop what arrives
            while (k.c.readable() > 0) {
                char sink[4096];
                k.c.read(sink, sizeof sink, now);
            }
        if (k.connect_wait && (k.c.state() != utp::State::syn_sent)) k.connect_wait->cancel();
        send(k);
    }

    bool lingering(const std::shared_ptr<Conn>& k) const {
        if (!k || !k->app_closed) return false;
        auto it = conns.find(k->key());
        return it != conns.end() && it->second == k;
    }

    // Room for a new incoming connection: drops (with a RESET) the connection that has
    // lingered longest since its stream closed it, from `addr` only when given. A flood
    // of connections that are evicted as they come would otherwise fill the table with
    // closed ones waiting for FINs never acknowledged, and every new SYN, an honest
    // peer's too, would be dropped for the linger time.
    bool drop_lingering(const asio::ip::address* addr, Micros now) {
        for (auto it = closing.begin(); it != closing.end();) {
            auto k = it->lock();
            if (!lingering(k)) {
                it = closing.erase(it);
                continue;
            }
            if (addr && k->remote.address() != *addr) {
                ++it;
                continue;
            }
            closing.erase(it);
            k->c.reset(now);
            send(*k);
            erase(k);
            return true;
        }
        return false;
    }

    void erase(const std::shared_ptr<Conn>& k) {
        auto it = conns.find(k->key());
        if (it == conns.end() || it->second != k) return;
        if (k->incoming) {
            auto pa = per_address.find(k->remote.address());
            if (pa != per_address.end() && --pa->second == 0) per_address.erase(pa);
        }
        conns.erase(it);
    }

    void schedule() {
        if (ticking || conns.empty() || !socket) return;
        ticking = true;
        timer.expires_after(tick_period);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            self->ticking = false;
            if (ec || !self->socket) return;
            self->tick();
            self->schedule();
        });
    }

    void tick() {
        Micros now = now_us();
        // Oldest first, so what is left behind the first lingering one is gone within
        // the linger time.
        while (!closing.empty() && !lingering(closing.front().lock())) closing.pop_front();
        std::vector<std::shared_ptr<Conn>> all;
        all.reserve(conns.size());
        for (auto& [key, k] : conns) all.push_back(k);
        for (auto& k : all) {
            if (k->c.next_tick() <= now) k->c.tick(now);
            wake(k);
            if (k->app_closed && (k->c.done() || now >= k->closed_at + linger_us)) {
                if (!k->c.done()) {
                    k->c.reset(now);
                    send(*k);
                }
                erase(k);
            } else if (k->c.done() && !k->rh && !k->wh && k->c.readable() == 0 &&
                       !k->connect_wait) {
                // Failed or closed and its stream has seen it: the stream keeps the
                // connection alive, the table need not.
                erase(k);
            }
        }
    }

    void on_datagram(const udp::endpoint& from, std::string_view d) {
        auto p = utp::decode(d);
        if (!p) return;
        Micros now = now_us();
        auto it = conns.find(Key{from.address(), from.port(), p->h.conn_id});
        if (it == conns.end() && p->h.type == utp::Type::syn)  // a SYN again, for an accepted one
            it = conns.find(
                Key{from.address(), from.port(), static_cast<std::uint16_t>(p->h.conn_id + 1)});
        if (it != conns.end()) {
            auto k = it->second;
            k->c.on_packet(*p, now);
            if (touched.empty() || touched.back() != k) touched.push_back(k);
            wake(k);
            return;
        }
        if (p->h.type != utp::Type::syn || !accept) return;
        if (opts.simulate_nat) {
            auto hole = holes.find(from);
            const auto life = static_cast<Micros>(
                std::chrono::duration_cast<std::chrono::microseconds>(opts.nat_hole_lifetime).count());
            if (hole == holes.end() || now - hole->second > life) return;
        }
        const auto from_addr = from.address();
        if (conns.size() >= opts.max_connections && !drop_lingering(nullptr, now)) return;
        if (auto pa = per_address.find(from_addr); pa != per_address.end() &&
                                                   pa->second >= opts.max_per_address &&
                                                   !drop_lingering(&from_addr, now))
            return;
        auto k = std::make_shared<Conn>(
            utp::Connection::accept(*p, static_cast<std::uint16_t>(rng()), now, config_for(from)),
            from, io.get_executor());
        k->core = weak_from_this();
        k->incoming = true;
        ++per_address[from.address()];
        conns[k->key()] = k;
        learn(from.address());
        send(*k);
        schedule();
        accept(UtpStream(k, io.get_executor()));
    }

    void learn(const asio::ip::address& a) {
        if (known.size() >= max_known) known.clear();  // bounded: forgetting costs a TCP attempt
        known.insert(a);
    }
};

void start_read(const std::shared_ptr<Conn>& c, Handler h, asio::mutable_buffer b) {
    c->rh.emplace(std::move(h));
    c->rbuf = b;
    if (auto core = c->core.lock())
        core->wake(c);
    else
        Core::complete(*c, c->rh, asio::error::connection_reset, 0);
}

void start_write(const std::shared_ptr<Conn>& c, Handler h, std::vector<asio::const_buffer> b) {
    c->wh.emplace(std::move(h));
    c->wbufs = std::move(b);
    if (c->wbufs.empty()) {
        Core::complete(*c, c->wh, {}, 0);
        return;
    }
    if (auto core = c->core.lock())
        core->wake(c);
    else
        Core::complete(*c, c->wh, asio::error::broken_pipe, 0);
}

}  // namespace utp_detail

using utp_detail::Conn;
using utp_detail::Core;

UtpStream::UtpStream(std::shared_ptr<Conn> c, executor_type ex)
    : conn_(std::move(c)), ex_(std::move(ex)) {}

UtpStream& UtpStream::operator=(UtpStream&& o) noexcept {
    if (this != &o) {
        close();
        conn_ = std::move(o.conn_);
        ex_ = std::move(o.ex_);
    }
    return *this;
}

UtpStream::~UtpStream() {
    close();
}

bool UtpStream::is_open() const {
    return conn_ && !conn_->app_closed && !conn_->c.done();
}

udp::endpoint UtpStream::remote_endpoint() const {
    return conn_ ? conn_->remote : udp::endpoint();
}

void UtpStream::close() {
    if (!conn_ || conn_->app_closed) return;
    auto& k = *conn_;
    k.app_closed = true;
    k.closed_at = utp_detail::now_us();
    k.c.shutdown(k.closed_at);
    if (k.rh) Core::complete(k, k.rh, asio::error::operation_aborted, 0);
    if (k.wh) Core::complete(k, k.wh, asio::error::operation_aborted, 0);
    if (k.connect_wait) k.connect_wait->cancel();
    if (auto core = k.core.lock()) {
        core->send(k);
        if (k.c.done())
            core->erase(conn_);
        else
            core->closing.push_back(conn_);
    }
}

UtpManager::UtpManager(asio::io_context& io, udp::socket& socket, UtpOptions o)
    : core_(std::make_shared<Core>(io, socket, o)) {}

UtpManager::~UtpManager() {
    stop();
}

void UtpManager::stop() {
    core_->socket = nullptr;
    core_->accept = nullptr;
    core_->timer.cancel();
    auto conns = std::move(core_->conns);
    core_->conns.clear();
    for (auto& [key, k] : conns) {
        k->core.reset();
        if (k->rh) Core::complete(*k, k->rh, asio::error::operation_aborted, 0);
        if (k->wh) Core::complete(*k, k->wh, asio::error::operation_aborted, 0);
        if (k->connect_wait) k->connect_wait->cancel();
    }
}

void UtpManager::set_accept(std::function<void(UtpStream)> accept) {
    core_->accept = std::move(accept);
}

void UtpManager::on_datagram(const udp::endpoint& from, std::string_view d) {
    core_->on_datagram(from, d);
}

void UtpManager::flush() {
    Micros now = utp_detail::now_us();
    auto touched = std::move(core_->touched);
    core_->touched.clear();
    for (auto& k : touched) {
        k->c.flush(now);
        core_->send(*k);
    }
}

bool UtpManager::known(const asio::ip::address& a) const {
    return core_->known.count(a) > 0;
}

void UtpManager::learn(const asio::ip::address& a) {
    core_->learn(a);
}

std::size_t UtpManager::connections() const {
    return core_->conns.size();
}

asio::awaitable<std::optional<UtpStream>> UtpManager::connect(udp::endpoint to,
                                                              std::chrono::milliseconds timeout) {
    auto core = core_;
    if (!core->socket || core->conns.size() >= core->opts.max_connections) co_return std::nullopt;
    std::uint16_t id = 0;
    for (int i = 0; i < 64; ++i) {
        id = static_cast<std::uint16_t>(core->rng());
        // Our id and the peer's (id + 1) both free for this endpoint.
        if (!core->conns.count({to.address(), to.port(), id}) &&
            !core->conns.count({to.address(), to.port(), static_cast<std::uint16_t>(id + 1)}))
            break;
    }
    Micros now = utp_detail::now_us();
    auto k =
        std::make_shared<Conn>(utp::Connection::connect(id, static_cast<std::uint16_t>(core->rng()),
                                                        now, core->config_for(to)),
                               to, core->io.get_executor());
    k->core = core;
    if (core->opts.simulate_nat) {
        if (core->holes.size() >= 4096) core->holes.clear();  // bounded; the test's few peers fit
        core->holes[to] = now;
    }
    k->connect_wait.emplace(core->io);
    core->conns[k->key()] = k;
    core->send(*k);
    core->schedule();
    k->connect_wait->expires_after(timeout);
    co_await k->connect_wait->async_wait(asio::as_tuple(asio::use_awaitable));
    k->connect_wait.reset();
    if (k->c.state() == utp::State::connected && !k->app_closed && core->socket) {
        core->learn(to.address());
        co_return UtpStream(k, core->io.get_executor());
    }
    if (!k->c.done()) k->c.reset(utp_detail::now_us());
    core->send(*k);
    core->erase(k);
    co_return std::nullopt;
}

}  // namespace pw::peer
