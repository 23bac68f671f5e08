#include "session/bandwidth_groups.hpp"

namespace pw::session {

void BandwidthGroups::set(const piecewise::BandwidthGroup& g) {
    auto b = bucket(g.name);
    auto& grp = groups_.at(g.name);
    grp.limits = g;
    limiter_->set_rates(b, g.download_limit, g.upload_limit);
    limiter_->set_honors_global(b, g.honors_session_limits);
}

BandwidthGroups::BucketId BandwidthGroups::bucket(const std::string& name) {
    if (name.empty()) return peer::BandwidthLimiter::none;
    if (auto it = groups_.find(name); it != groups_.end()) return it->second.bucket;
    piecewise::BandwidthGroup g;
    g.name = name;
    auto b = limiter_->add_bucket(true, 0, 0);
    groups_.emplace(name, Group{g, b});
    return b;
}

}  // namespace pw::session
