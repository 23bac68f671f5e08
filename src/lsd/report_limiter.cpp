// Per (source, info-hash) report limits for Local Service Discovery.
#include "lsd/report_limiter.hpp"

#include <algorithm>

namespace pw::lsd {

void ReportLimiter::drop_expired(std::vector<Report>& reports, Clock::time_point now) const {
    std::erase_if(reports, [&](const Report& r) { return now - r.at >= interval_; });
}

void ReportLimiter::forget_expired(Clock::time_point now) {
    for (auto it = seen_.begin(); it != seen_.end();) {
        drop_expired(it->second, now);
        it = it->second.empty() ? seen_.erase(it) : std::next(it);
    }
}

bool ReportLimiter::allow(const boost::asio::ip::address& ip, std::uint16_t port,
                          const Sha1Digest& info_hash, Clock::time_point now) {
    namespace aip = boost::asio::ip;
    aip::address_v6 v6 = ip.is_v4() ? aip::make_address_v6(aip::v4_mapped, ip.to_v4()) : ip.to_v6();
    Key key{v6.to_bytes(), info_hash};
    auto it = seen_.find(key);
    if (it == seen_.end()) {
        if (seen_.size() >= max_tracked_) forget_expired(now);
        if (seen_.size() >= max_tracked_ || max_ports_ == 0) return false;
        seen_.emplace(key, std::vector<Report>{{port, now}});
        return true;
    }
    std::vector<Report>& reports = it->second;
    drop_expired(reports, now);
    if (std::any_of(reports.begin(), reports.end(),
                    [&](const Report& r) { return r.port == port; }))
        return false;
    if (reports.size() >= max_ports_) return false;
    reports.push_back({port, now});
    return true;
}

}  // namespace pw::lsd
