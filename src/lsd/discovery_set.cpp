// A session's LocalDiscovery instances, one per address family (BEP 14).
#include "lsd/discovery_set.hpp"

namespace pw::lsd {

void DiscoverySet::add(std::unique_ptr<LocalDiscovery> instance) {
    if (instance) instances_.push_back(std::move(instance));
}

bool DiscoverySet::start(std::vector<std::string>& failures) {
    std::vector<std::unique_ptr<LocalDiscovery>> started;
    for (auto& instance : instances_) {
        std::string why;
        if (instance->start(why))
            started.push_back(std::move(instance));
        else
            failures.push_back(why);
    }
    instances_ = std::move(started);
    return !instances_.empty();
}

void DiscoverySet::stop() {
    for (auto& instance : instances_) instance->stop();
}

void DiscoverySet::announce(const Sha1Digest& info_hash) {
    for (auto& instance : instances_) instance->announce(info_hash);
}

void DiscoverySet::remove(const Sha1Digest& info_hash) {
    for (auto& instance : instances_) instance->remove(info_hash);
}

}  // namespace pw::lsd
