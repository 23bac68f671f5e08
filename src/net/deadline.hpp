// A deadline for a coroutine's socket: when it expires, a callback runs (typically closing
// the socket, which ends any pending read or write with an error).
//
// Why not a bare steady_timer with a handler capturing the coroutine's locals: once the
// timer has expired, its handler is queued with success and cancel() cannot recall it. If
// the coroutine ends first (its read completed in the same turn), its frame is freed and
// the handler would touch freed memory. A Deadline's handler shares a flag with it that the
// destructor clears, so a late handler does nothing.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <utility>

namespace pw::net {

class Deadline {
public:
    explicit Deadline(const boost::asio::any_io_executor& ex) : timer_(ex) {}
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;
    ~Deadline() { *alive_ = false; }

    // (Re)arms the deadline: `on_expiry` runs once, after `after`, unless cancel() or the
    // destructor came first. A deadline armed again replaces the earlier one.
    template <class F>
    void arm(std::chrono::steady_clock::duration after, F on_expiry) {
        *alive_ = false;  // a handler of an earlier arming that is already queued
        alive_ = std::make_shared<bool>(true);
        timer_.expires_after(after);
        timer_.async_wait([alive = alive_, f = std::move(on_expiry)](boost::system::error_code e) mutable {
            if (!e && *alive) {
                *alive = false;
                f();
            }
        });
    }
    void cancel() {
        *alive_ = false;
        timer_.cancel();
    }

private:
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(false);
    boost::asio::steady_timer timer_;
};

}  // namespace pw::net
