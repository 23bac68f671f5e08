// Local Service Discovery over IPv4 or IPv6 multicast (BEP 14): one receive socket bound to
// the group and joined on the interface, one send socket bound to the interface address,
// and a timer that sends the announces that are due.
#include "lsd/local_discovery.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "lsd/parse/lsd_message.hpp"
#include "lsd/report_limiter.hpp"
#include "net/bind_device.hpp"

namespace pw::lsd {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {

std::string random_cookie() {
    std::random_device rd;
    std::string out;
    static constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) out.push_back(digits[rd() % 16]);
    return out;
}

// The index of the interface that has `addr`, 0 when none has it.
unsigned interface_index_of(const asio::ip::address_v6& addr) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return 0;
    unsigned index = 0;
    const auto want = addr.to_bytes();
    for (ifaddrs* i = list; i && index == 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || !i->ifa_name) continue;
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
        if (std::memcmp(&sin6->sin6_addr, want.data(), want.size()) != 0) continue;
        if (addr.is_link_local() && addr.scope_id() != 0 && sin6->sin6_scope_id != addr.scope_id())
            continue;
        index = ::if_nametoindex(i->ifa_name);
    }
    ::freeifaddrs(list);
    return index;
}

}  // namespace

struct LocalDiscovery::State : std::enable_shared_from_this<LocalDiscovery::State> {
    // One info-hash we announce now or announced lately. Entries no longer wanted stay
    // until min_interval has passed since they were sent, so that remove() followed by
    // announce() does not beat the rate limit.
    struct Entry {
        bool wanted = false;
        Clock::time_point due{};
        std::optional<Clock::time_point> last_sent;
    };

    State(asio::io_context& io, asio::ip::address iface, std::uint16_t listen_port,
          LsdSettings s, PeerHandler handler)
        : receiver(io),
          sender(io),
          timer(io),
          retry(io),
          interface_addr(iface),
          listen_port(listen_port),
          settings(std::move(s)),
          on_peer(std::move(handler)),
          limiter(settings.report_interval),
          buffer(64 * 1024) {
        if (settings.cookie.empty()) settings.cookie = random_cookie();
        settings.min_interval = std::max(settings.min_interval, std::chrono::seconds(0));
        settings.interval = std::max(settings.interval, settings.min_interval);
    }

    bool start(std::string& error) {
        if (running) return true;
        boost::system::error_code ec;
        const std::string& group_text = v6() ? settings.group_v6 : settings.group_v4;
        group = asio::ip::make_address(group_text, ec);
        if (ec || !group.is_multicast() || group.is_v6() != v6()) {
            error = "LSD group '" + group_text + "' is not an IPv" + (v6() ? "6" : "4") +
                    " multicast address";
            return false;
        }
        std::string where = host_header() + " on " + interface_addr.to_string();
        auto failed = [&](const std::string& step) {
            error = "LSD " + where + ": " + step + ": " + ec.message();
            close_sockets();
            return false;
        };
        unsigned index = 0;  // IPv6: the interface the group is joined and sent on
        if (v6()) {
            if (!settings.device.empty()) {
                index = ::if_nametoindex(settings.device.c_str());
                if (index == 0) {
                    error = "LSD " + where + ": no network interface '" + settings.device + "'";
                    return false;
                }
            } else if (!interface_addr.is_unspecified()) {
                index = interface_index_of(interface_addr.to_v6());
                if (index == 0) {
                    error = "LSD " + where + ": no network interface has that address";
                    return false;
                }
            }
        }
        const udp protocol = v6() ? udp::v6() : udp::v4();
        // Bound to the group address, the receiver gets this group's datagrams only.
        namespace mc = asio::ip::multicast;
        receiver.open(protocol, ec);
        if (ec) return failed("open");
        if ((ec = net::bind_to_device(receiver, settings.device)))
            return failed("bind to interface '" + settings.device + "'");
        receiver.set_option(asio::socket_base::reuse_address(true), ec);
        if (ec) return failed("SO_REUSEADDR");
        if (v6()) {
            receiver.set_option(asio::ip::v6_only(true), ec);
            if (ec) return failed("IPV6_V6ONLY");
        }
        receiver.bind(udp::endpoint(group, settings.port), ec);
        if (ec) return failed("bind");
        if (v6())
            receiver.set_option(mc::join_group(group.to_v6(), index), ec);
        else
            receiver.set_option(mc::join_group(group.to_v4(), interface_addr.to_v4()), ec);
        if (ec) return failed("join group");
        sender.open(protocol, ec);
        if (ec) return failed("open");
        if ((ec = net::bind_to_device(sender, settings.device)))
            return failed("bind to interface '" + settings.device + "'");
        if (v6()) {
            sender.set_option(asio::ip::v6_only(true), ec);
            if (ec) return failed("IPV6_V6ONLY");
        }
        sender.bind(udp::endpoint(interface_addr, 0), ec);
        if (ec) return failed("bind sender");
        if (v6())
            sender.set_option(mc::outbound_interface(index), ec);
        else
            sender.set_option(mc::outbound_interface(interface_addr.to_v4()), ec);
        if (ec) return failed(v6() ? "IPV6_MULTICAST_IF" : "IP_MULTICAST_IF");
        sender.set_option(mc::hops(1), ec);
        if (ec) return failed(v6() ? "IPV6_MULTICAST_HOPS" : "IP_MULTICAST_TTL");
        sender.set_option(mc::enable_loopback(true), ec);
        if (ec) return failed(v6() ? "IPV6_MULTICAST_LOOP" : "IP_MULTICAST_LOOP");
        running = true;
        read();
        schedule();
        return true;
    }

    bool v6() const { return interface_addr.is_v6(); }

    // BEP 14's Host header, also where the announces go: "239.192.152.143:6771" or
    // "[ff15::efc0:988f]:6771" (once start() has parsed the group).
    std::string host_header() const {
        std::string port = ":" + std::to_string(settings.port);
        return v6() ? "[" + group.to_string() + "]" + port : group.to_string() + port;
    }

    void stop() {
        if (!running) return;
        running = false;
        ++timer_generation;
        timer_armed = false;
        timer.cancel();
        retry.cancel();
        close_sockets();
    }

    void close_sockets() {
        boost::system::error_code ignored;
        receiver.close(ignored);
        sender.close(ignored);
    }

    void read() {
        receiver.async_receive_from(
            asio::buffer(buffer), from,
            [weak = weak_from_this()](const boost::system::error_code& ec, std::size_t n) {
                auto self = weak.lock();
                if (!self || !self->running || ec == asio::error::operation_aborted) return;
                if (!ec) {
                    self->handle(self->from, std::string_view(self->buffer.data(), n));
                    if (self->running) self->read();
                    return;
                }
                // An error usually concerns one datagram; a short pause keeps one that
                // repeats from turning this loop into a busy one.
                ++self->stats.receive_errors;
                self->retry.expires_after(std::chrono::milliseconds(100));
                self->retry.async_wait([weak](const boost::system::error_code& wait_ec) {
                    auto again = weak.lock();
                    if (again && again->running && !wait_ec) again->read();
                });
            });
    }

    void handle(const udp::endpoint& source, std::string_view data) {
        ++stats.datagrams_received;
        DecodeResult r = decode_announce(data);
        if (!r.ok) {
            ++stats.malformed;
            return;
        }
        if (r.announce.cookie == settings.cookie) {
            ++stats.own;
            return;
        }
        asio::ip::address ip = source.address();
        if (ip.is_v6() != v6() || ip.is_unspecified() || ip.is_multicast()) return;
        if (ip.is_v4() && ip.to_v4() == asio::ip::address_v4::broadcast()) return;
        if (ip.is_v6() && ip.to_v6().is_v4_mapped()) return;
        asio::ip::tcp::endpoint peer(ip, r.announce.port);
        Clock::time_point now = Clock::now();
        auto keep_alive = shared_from_this();  // on_peer may destroy the owner
        for (const Sha1Digest& h : r.announce.info_hashes) {
            auto it = entries.find(h);
            if (it == entries.end() || !it->second.wanted) continue;
            if (!limiter.allow(ip, r.announce.port, h, now)) {
                ++stats.reports_limited;
                continue;
            }
            ++stats.peers_reported;
            if (on_peer) on_peer(h, peer);
        }
    }

    void announce(const Sha1Digest& h) {
        Clock::time_point now = Clock::now();
        Entry& e = entries[h];
        e.wanted = true;
        e.due = e.last_sent ? std::max(now, *e.last_sent + settings.min_interval) : now;
        schedule();
    }

    void remove(const Sha1Digest& h) {
        auto it = entries.find(h);
        if (it == entries.end()) return;
        if (it->second.last_sent)
            it->second.wanted = false;
        else
            entries.erase(it);
        schedule();
    }

    // Arms the timer for the earliest due announce, unless it already fires by then.
    void schedule() {
        if (!running) return;
        std::optional<Clock::time_point> next;
        for (const auto& [h, e] : entries)
            if (e.wanted && (!next || e.due < *next)) next = e.due;
        if (!next) return;  // a timer still armed for later finds nothing due and re-arms
        if (timer_armed && timer_expiry <= *next) return;
        timer_armed = true;
        timer_expiry = *next;
        std::uint64_t generation = ++timer_generation;
        timer.expires_at(*next);
        timer.async_wait([weak = weak_from_this(), generation](const boost::system::error_code&) {
            auto self = weak.lock();
            if (!self || !self->running || self->timer_generation != generation) return;
            self->timer_armed = false;
            self->send_due();
        });
    }

    void send_due() {
        Clock::time_point now = Clock::now();
        Announce a;
        a.host = host_header();
        a.port = listen_port;
        a.cookie = settings.cookie;
        for (auto it = entries.begin(); it != entries.end();) {
            Entry& e = it->second;
            if (e.wanted && e.due <= now) {
                a.info_hashes.push_back(it->first);
                e.last_sent = now;
                e.due = now + settings.interval;
            }
            bool cooled = !e.last_sent || now - *e.last_sent >= settings.min_interval;
            it = !e.wanted && cooled ? entries.erase(it) : std::next(it);
        }
        udp::endpoint target(group, settings.port);
        for (std::string& m : encode_announces(a)) {
            auto payload = std::make_shared<std::string>(std::move(m));
            sender.async_send_to(asio::buffer(*payload), target,
                                 [weak = weak_from_this(), payload](
                                     const boost::system::error_code& ec, std::size_t) {
                                     auto self = weak.lock();
                                     if (!self) return;
                                     if (ec)
                                         ++self->stats.send_errors;
                                     else
                                         ++self->stats.datagrams_sent;
                                 });
        }
        schedule();
    }

    udp::socket receiver;
    udp::socket sender;
    asio::steady_timer timer;
    asio::steady_timer retry;  // pause after a receive error
    asio::ip::address interface_addr;  // its family is the instance's
    asio::ip::address group;
    std::uint16_t listen_port;
    LsdSettings settings;
    PeerHandler on_peer;
    ReportLimiter limiter;
    std::map<Sha1Digest, Entry> entries;
    std::vector<char> buffer;  // one whole UDP datagram; the decoder refuses big ones
    udp::endpoint from;
    bool running = false;
    bool timer_armed = false;
    Clock::time_point timer_expiry{};
    std::uint64_t timer_generation = 0;
    Stats stats;
};

LocalDiscovery::LocalDiscovery(asio::io_context& io, asio::ip::address interface_addr,
                               std::uint16_t listen_port, LsdSettings s, PeerHandler on_peer)
    : state_(std::make_shared<State>(io, interface_addr, listen_port, std::move(s),
                                     std::move(on_peer))) {}

LocalDiscovery::~LocalDiscovery() {
    stop();
}

bool LocalDiscovery::start(std::string& error) {
    return state_->start(error);
}

void LocalDiscovery::stop() {
    state_->stop();
}

void LocalDiscovery::announce(const Sha1Digest& info_hash) {
    state_->announce(info_hash);
}

void LocalDiscovery::remove(const Sha1Digest& info_hash) {
    state_->remove(info_hash);
}

void LocalDiscovery::handle_datagram(const udp::endpoint& from, std::string_view data) {
    auto state = state_;
    state->handle(from, data);
}

const std::string& LocalDiscovery::cookie() const {
    return state_->settings.cookie;
}

bool LocalDiscovery::is_v6() const {
    return state_->v6();
}

LocalDiscovery::Stats LocalDiscovery::stats() const {
    return state_->stats;
}

}  // namespace pw::lsd
