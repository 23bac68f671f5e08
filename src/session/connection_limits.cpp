#include "session/connection_limits.hpp"

namespace pw::session {

// The counts outlive the ConnectionLimits object: a Slot kept by a connection that is
// destroyed after the session (a coroutine frame torn down with the io_context) still
// finds them.
struct ConnectionLimits::State {
    Caps caps;
    int open = 0;
    int half_open = 0;
    std::map<Address, int> per_ip;
    std::uint64_t next_seq = 0;
    std::map<std::uint64_t, Entry*> pending;  // sent nothing yet, by accept order: oldest first
    std::map<std::uint64_t, Entry*> spoke;    // pending that sent bytes, by accept order
    std::map<std::uint64_t, Entry*> answered; // handshake answered, by answer order
};

ConnectionLimits::Address ConnectionLimits::cap_key(const Address& ip) {
    if (ip.is_v4()) return ip;
    auto v6 = ip.to_v6();
    if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6);
    auto b = v6.to_bytes();
    for (std::size_t i = 8; i < b.size(); ++i) b[i] = 0;
    return boost::asio::ip::address_v6(b);
}

struct ConnectionLimits::Entry {
    std::shared_ptr<State> st;
    Address ip;
    bool counted = true;
    bool half_open = false;
    bool in_pending = false;
    // Which of State's maps holds it while pending.
    enum class Stage { silent, spoke, answered } stage = Stage::silent;
    std::uint64_t seq = 0;
    Clock::time_point since{};
    std::function<void()> on_evict;

    // Gives the place back (once).
    void uncount() {
        if (!counted) return;
        counted = false;
        --st->open;
        if (half_open) --st->half_open;
        half_open = false;
        if (auto it = st->per_ip.find(ip); it != st->per_ip.end() && --it->second <= 0)
            st->per_ip.erase(it);
        leave_pending();
    }
    void leave_pending() {
        if (!in_pending) return;
        in_pending = false;
        of_stage().erase(seq);
    }
    std::map<std::uint64_t, Entry*>& of_stage() {
        switch (stage) {
            case Stage::spoke:
                return st->spoke;
            case Stage::answered:
                return st->answered;
            case Stage::silent:
                break;
        }
        return st->pending;
    }
    // Moves a pending entry to `to`, under key `key` (its order there).
    void move_to(Stage to, std::uint64_t key) {
        of_stage().erase(seq);
        stage = to;
        seq = key;
        of_stage().emplace(seq, this);
    }
    ~Entry() { uncount(); }
};

void ConnectionLimits::Slot::connected() {
    if (entry_ && entry_->half_open) {
        entry_->half_open = false;
        --entry_->st->half_open;
    }
}

void ConnectionLimits::Slot::on_evict(std::function<void()> fn) {
    if (entry_) entry_->on_evict = std::move(fn);
}

void ConnectionLimits::Slot::handshaken() {
    if (entry_) entry_->leave_pending();
}

void ConnectionLimits::Slot::spoke() {
    if (!entry_ || !entry_->in_pending || entry_->stage != Entry::Stage::silent) return;
    entry_->move_to(Entry::Stage::spoke, entry_->seq);
}

void ConnectionLimits::Slot::answered(Clock::time_point now) {
    if (!entry_ || !entry_->in_pending || entry_->stage == Entry::Stage::answered) return;
    entry_->since = now;
    entry_->move_to(Entry::Stage::answered, entry_->st->next_seq++);
}

ConnectionLimits::ConnectionLimits(Caps caps) : st_(std::make_shared<State>()) {
    st_->caps = caps;
}

const ConnectionLimits::Caps& ConnectionLimits::caps() const {
    return st_->caps;
}

void ConnectionLimits::set_max_connections(int n) {
    st_->caps.max_connections = n;
}

ConnectionLimits::Refusal ConnectionLimits::check_incoming(const Address& ip) const {
    if (st_->open >= st_->caps.max_connections) return Refusal::total;
    if (st_->caps.max_per_ip > 0 && from(ip) >= st_->caps.max_per_ip) return Refusal::per_ip;
    return Refusal::none;
}

ConnectionLimits::Refusal ConnectionLimits::check_outgoing(const Address& ip) const {
    if (auto r = check_incoming(ip); r != Refusal::none) return r;
    if (st_->caps.max_half_open > 0 && st_->half_open >= st_->caps.max_half_open)
        return Refusal::half_open;
    return Refusal::none;
}

ConnectionLimits::Slot ConnectionLimits::incoming(const Address& ip, Clock::time_point now,
                                                  std::function<void()> on_evict) {
    auto e = std::make_shared<Entry>();
    e->st = st_;
    e->ip = cap_key(ip);
    e->since = now;
    e->on_evict = std::move(on_evict);
    e->seq = st_->next_seq++;
    e->in_pending = true;
    st_->pending.emplace(e->seq, e.get());
    ++st_->open;
    ++st_->per_ip[e->ip];
    return Slot(std::move(e));
}

ConnectionLimits::Slot ConnectionLimits::outgoing(const Address& ip) {
    auto e = std::make_shared<Entry>();
    e->st = st_;
    e->ip = cap_key(ip);
    e->half_open = true;
    ++st_->open;
    ++st_->half_open;
    ++st_->per_ip[e->ip];
    return Slot(std::move(e));
}

bool ConnectionLimits::evict_pending(Clock::time_point now, Clock::duration grace) {
    // Without a way to close it (its owner has not started yet), one keeps its place.
    auto ripe = [&](const std::map<std::uint64_t, Entry*>& m, Clock::duration wait) -> Entry* {
        if (m.empty()) return nullptr;
        Entry* e = m.begin()->second;
        return now - e->since >= wait && e->on_evict ? e : nullptr;
    };
    // One that spoke gets four times the grace: a real peer's MSE negotiation and
    // handshake take a few round trips, longer on a loaded network thread.
    Entry* e = ripe(st_->pending, grace);
    if (!e) e = ripe(st_->answered, grace);
    if (!e) e = ripe(st_->spoke, 4 * grace);
    // Last, though younger than `grace`, the oldest that sent nothing (but not just
    // accepted: its first bytes may be waiting to be read), then the oldest answered that
    // said nothing for half the grace (a real peer on a loaded host may take that long to
    // reply). Otherwise a flood that comes faster than the pending ripen takes every place
    // that frees, and a real peer (which speaks the moment it is connected) is refused as
    // often as not.
    if (!e) e = ripe(st_->pending, grace / 10);
    if (!e) e = ripe(st_->answered, grace / 2);
    if (!e) return false;
    auto close = std::move(e->on_evict);
    e->uncount();  // may not touch `e` after the callback: it may destroy the Slot
    if (close) close();
    return true;
}

int ConnectionLimits::open() const {
    return st_->open;
}
int ConnectionLimits::half_open() const {
    return st_->half_open;
}
int ConnectionLimits::pending() const {
    return static_cast<int>(st_->pending.size() + st_->spoke.size() + st_->answered.size());
}
int ConnectionLimits::from(const Address& ip) const {
    auto it = st_->per_ip.find(cap_key(ip));
    return it == st_->per_ip.end() ? 0 : it->second;
}

const char* refusal_reason(ConnectionLimits::Refusal r) {
    switch (r) {
        case ConnectionLimits::Refusal::total:
            return "connection limit reached";
        case ConnectionLimits::Refusal::per_ip:
            return "too many connections from this address";
        case ConnectionLimits::Refusal::half_open:
            return "too many connects in progress";
        case ConnectionLimits::Refusal::none:
            break;
    }
    return "";
}

}  // namespace pw::session
