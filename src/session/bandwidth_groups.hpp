// The session's bandwidth groups (Transmission 4's group-set/group-get): one bucket per
// named group in the BandwidthLimiter, child of the global bucket while the group honors
// the session's limits. A torrent in a group has the group's bucket as its parent, so
// every connection of every torrent of the group draws from the one shared bucket.
// Groups are never deleted (Transmission has no call for it). Network thread only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "peer/bandwidth_limiter.hpp"
#include "piecewise/session.hpp"

namespace pw::session {

class BandwidthGroups {
  public:
    using BucketId = peer::BandwidthLimiter::BucketId;
    explicit BandwidthGroups(std::shared_ptr<peer::BandwidthLimiter> limiter)
        : limiter_(std::move(limiter)) {}

    // Creates or changes the group (name non-empty, limits >= 0: checked by the caller).
    void set(const piecewise::BandwidthGroup& g);
    // The group's bucket, made without limits when the name is new; none for "".
    BucketId bucket(const std::string& name);

  private:
    struct Group {
        piecewise::BandwidthGroup limits;
        BucketId bucket;
    };
    std::shared_ptr<peer::BandwidthLimiter> limiter_;
    std::map<std::string, Group> groups_;
};

}  // namespace pw::session
