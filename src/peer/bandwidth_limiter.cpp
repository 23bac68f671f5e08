#include "peer/bandwidth_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pw::peer {

namespace asio = boost::asio;
using Clock = swarm::BandwidthQueue::Clock;

namespace {
// Fast enough that a quarter second of burst never overflows while connections wait.
constexpr auto tick_interval = std::chrono::milliseconds(50);
}  // namespace

BandwidthLimiter::BandwidthLimiter(asio::any_io_executor ex)
    : ex_(ex),
      queue_{swarm::BandwidthQueue(Clock::now()), swarm::BandwidthQueue(Clock::now())},
      tick_(ex) {}

BandwidthLimiter::BucketId BandwidthLimiter::add_bucket(bool honors_global, std::int64_t down_rate,
                                                        std::int64_t up_rate) {
    auto id = next_bucket_++;
    auto now = Clock::now();
    queue_[down].add_bucket(id, honors_global ? global : none, down_rate, now);
    queue_[up].add_bucket(id, honors_global ? global : none, up_rate, now);
    return id;
}

void BandwidthLimiter::remove_bucket(BucketId b) {
    queue_[down].remove_bucket(b);
    queue_[up].remove_bucket(b);
}

void BandwidthLimiter::set_rates(BucketId b, std::int64_t down_rate, std::int64_t up_rate) {
    auto now = Clock::now();
    queue_[down].set_rate(b, down_rate, now);
    queue_[up].set_rate(b, up_rate, now);
}

void BandwidthLimiter::set_honors_global(BucketId b, bool honors) {
    queue_[down].set_parent(b, honors ? global : none);
    queue_[up].set_parent(b, honors ? global : none);
}

void BandwidthLimiter::set_parent(BucketId b, BucketId parent) {
    queue_[down].set_parent(b, parent);
    queue_[up].set_parent(b, parent);
}

asio::awaitable<std::int64_t> BandwidthLimiter::acquire(Dir d, BucketId b, std::int64_t want,
                                                        Slot& slot) {
    auto self = shared_from_this();
    if (auto n = queue_[d].take(b, want, Clock::now()); n > 0) co_return n;
    slot.id = next_waiter_++;
    slot.granted = 0;
    slots_[d][slot.id] = &slot;
    queue_[d].wait(slot.id, b, want);
    arm();
    slot.timer.expires_at(Clock::time_point::max());
    co_await slot.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return slot.granted;
}

void BandwidthLimiter::cancel(Dir d, Slot& slot) {
    if (slot.id == 0) return;
    queue_[d].cancel(slot.id);
    slots_[d].erase(slot.id);
    slot.id = 0;
    slot.granted = 0;
    slot.timer.cancel();
}

void BandwidthLimiter::arm() {
    if (armed_) return;
    armed_ = true;
    tick_.expires_after(tick_interval);
    tick_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        self->armed_ = false;
        if (!ec) self->on_tick();
    });
}

void BandwidthLimiter::on_tick() {
    auto now = Clock::now();
    for (int d = 0; d < 2; ++d) {
        for (auto& g : queue_[d].distribute(now)) {
            auto it = slots_[d].find(g.waiter);
            if (it == slots_[d].end()) continue;
            Slot* s = it->second;
            slots_[d].erase(it);
            s->id = 0;
            s->granted = g.bytes;
            s->timer.cancel();
        }
    }
    if (queue_[down].waiting() || queue_[up].waiting()) arm();
}

}  // namespace pw::peer
