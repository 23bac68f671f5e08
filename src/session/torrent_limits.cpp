// A torrent's rate limits: its bucket in the session's BandwidthLimiter (nested in its
// bandwidth group's, else the global one, while it honors the session's limits), which
// every connection of the torrent reads and writes through.
#include "session/bandwidth_groups.hpp"
#include "session/torrent.hpp"

namespace pw::session {

namespace {
// Unlimited: enough queued to fill the bandwidth-delay product of a fast peer.
constexpr std::size_t unlimited_high_water = 1u << 20;
// Limited: about what the limit lets out in a second or two, so the choker's and the
// status' view of what was sent stays close to what left; at least a few blocks.
constexpr std::size_t min_limited_high_water = 64 * 1024;
}  // namespace

void Torrent::attach_bandwidth(PeerConnection& p) {
    if (bw_) p.set_bandwidth(bw_, bw_bucket_);
}

std::size_t Torrent::send_high_water(const PeerConnection& p) const {
    if (!p.upload_limited()) return unlimited_high_water;
    std::int64_t rate = bw_->rate(peer::BandwidthLimiter::up, bw_bucket_);
    return std::clamp<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(rate, 0)),
                                   min_limited_high_water, unlimited_high_water);
}

void Torrent::set_limits(std::int64_t download, std::int64_t upload, bool honors_session_limits) {
    params_.download_limit = std::max<std::int64_t>(download, 0);
    params_.upload_limit = std::max<std::int64_t>(upload, 0);
    params_.honors_session_limits = honors_session_limits;
    if (!bw_) return;
    bw_->set_rates(bw_bucket_, params_.download_limit, params_.upload_limit);
    bw_->set_parent(bw_bucket_, bucket_parent());
}

void Torrent::set_bandwidth_priority(int priority) {
    params_.bandwidth_priority = std::clamp(priority, -1, 1);
    if (bw_) bw_->set_priority(bw_bucket_, params_.bandwidth_priority);
}

peer::BandwidthLimiter::BucketId Torrent::bucket_parent() const {
    if (!params_.honors_session_limits) return peer::BandwidthLimiter::none;
    if (!params_.bandwidth_group.empty() && ctx_.groups)
        return ctx_.groups->bucket(params_.bandwidth_group);
    return peer::BandwidthLimiter::global;
}

void Torrent::set_group(const std::string& name) {
    params_.bandwidth_group = name;
    if (bw_) bw_->set_parent(bw_bucket_, bucket_parent());
}

}  // namespace pw::session
