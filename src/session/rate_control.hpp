// The session's rate limits in force: which global limits (normal or alt speed) the
// BandwidthLimiter applies, and the alt-speed schedule's clock (swarm::AltSpeedSchedule),
// which looks at the local time once a minute while the schedule is on and at no other
// time. Network thread only (start() may run before the network thread does).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "peer/bandwidth_limiter.hpp"
#include "piecewise/session.hpp"
#include "swarm/alt_speed.hpp"

namespace pw::session {

class RateControl {
  public:
    RateControl(boost::asio::io_context& io, std::shared_ptr<peer::BandwidthLimiter> limiter,
                piecewise::RateLimits initial);
    // Validates limits (>= 0, minutes within a day, days 0..127); a one-line reason, or empty.
    static std::string check(const piecewise::RateLimits& l);

    void start();
    void set(const piecewise::RateLimits& l);
    const piecewise::RateLimits& get() const { return limits_; }
    void stop();

  private:
    void apply();        // the global rates of the mode in force
    void check_clock();  // the schedule at the local time now
    void arm_clock();

    std::shared_ptr<peer::BandwidthLimiter> limiter_;
    piecewise::RateLimits limits_;
    swarm::AltSpeedSchedule schedule_;
    boost::asio::steady_timer clock_;
    bool clock_armed_ = false;
    bool stopped_ = false;
};

}  // namespace pw::session
