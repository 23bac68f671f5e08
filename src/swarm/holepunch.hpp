// The decisions of BEP 55 holepunching, apart from the I/O: what a relay answers to a
// rendezvous, how often one peer may ask (so that nobody uses us to make a third peer
// dial at will), and how often we ask a relay about one target.
//
// Relay rules (BEP 55): a rendezvous from a peer that did not announce ut_holepunch is
// ignored; an invalid endpoint (port 0, unspecified, multicast, the sender's own) is
// NoSuchPeer; our own endpoint NoSelf; a target we are not connected to NotConnected; a
// connected target that did not announce ut_holepunch NoSupport; otherwise both get a
// `connect`. A rendezvous over the sender's rate is dropped without an answer.
// Pure: the caller gathers the facts and the time on its own clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

namespace pw::swarm {

using HolepunchClock = std::chrono::steady_clock;

struct RendezvousFacts {
    bool sender_supports = false;  // the sender announced ut_holepunch
    bool within_rate = true;       // HolepunchRate::allow() said yes
    bool valid_endpoint = true;    // a port, a unicast address, not the sender itself
    bool is_us = false;            // one of our listen endpoints
    bool target_connected = false; // a live peer of this torrent at that endpoint
    bool target_supports = false;  // ... which announced ut_holepunch
};

enum class RendezvousVerdict { ignore, connect, no_such_peer, not_connected, no_support, no_self };

RendezvousVerdict judge_rendezvous(const RendezvousFacts& f);
// The BEP 55 err_code of a verdict that answers with an error (0 for ignore and connect).
std::uint32_t verdict_error_code(RendezvousVerdict v);

// At most `burst` events per `window` (a fixed window restarted by the first event after
// it ends): rendezvous received from one peer, or connect messages it relays to us.
class HolepunchRate {
  public:
    static constexpr int burst = 8;
    static constexpr std::chrono::seconds window{60};
    bool allow(HolepunchClock::time_point now);

  private:
    HolepunchClock::time_point start_{};
    int count_ = 0;
};

// Targets we asked a relay about, each at most once per `every`; bounded to `max_targets`
// entries (the oldest requests are forgotten first when full).
template <class Endpoint>
class RendezvousMemory {
  public:
    static constexpr std::chrono::minutes every{5};
    static constexpr std::size_t max_targets = 256;
    // True (and remembered) when `target` was not asked about within `every`.
    bool may_ask(const Endpoint& target, HolepunchClock::time_point now) {
        auto it = asked_.find(target);
        if (it != asked_.end() && now - it->second < every) return false;
        if (it == asked_.end() && asked_.size() >= max_targets) {
            auto oldest = asked_.begin();
            for (auto i = asked_.begin(); i != asked_.end(); ++i)
                if (i->second < oldest->second) oldest = i;
            asked_.erase(oldest);
        }
        asked_[target] = now;
        return true;
    }
    std::size_t size() const { return asked_.size(); }

  private:
    std::map<Endpoint, HolepunchClock::time_point> asked_;
};

}  // namespace pw::swarm
