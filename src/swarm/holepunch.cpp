#include "swarm/holepunch.hpp"

namespace pw::swarm {

RendezvousVerdict judge_rendezvous(const RendezvousFacts& f) {
    // BEP 55: the relay MUST ignore a peer that did not announce the extension.
    if (!f.sender_supports || !f.within_rate) return RendezvousVerdict::ignore;
    if (f.is_us) return RendezvousVerdict::no_self;
    if (!f.valid_endpoint) return RendezvousVerdict::no_such_peer;
    if (!f.target_connected) return RendezvousVerdict::not_connected;
    if (!f.target_supports) return RendezvousVerdict::no_support;
    return RendezvousVerdict::connect;
}

std::uint32_t verdict_error_code(RendezvousVerdict v) {
    switch (v) {
        case RendezvousVerdict::no_such_peer: return 1;
        case RendezvousVerdict::not_connected: return 2;
        case RendezvousVerdict::no_support: return 3;
        case RendezvousVerdict::no_self: return 4;
        default: return 0;
    }
}

bool HolepunchRate::allow(HolepunchClock::time_point now) {
    if (count_ == 0 || now - start_ >= window) {
        start_ = now;
        count_ = 0;
    }
    if (count_ >= burst) return false;
    ++count_;
    return true;
}

}  // namespace pw::swarm
