// The Local Service Discovery (BEP 14) instances of one session: one LocalDiscovery per
// address family the session listens on (IPv4 group 239.192.152.143, IPv6 group
// ff15::efc0:988f), announced to and removed from together. Torrents see one object.
//
// Contract: add() the instances, then start(); start() starts each one, keeps those that
// started and reports the others' reasons in `failures`; it returns false (and keeps none)
// only when none started. announce, remove and stop act on every kept instance. Same
// thread rules as LocalDiscovery (the io_context's thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crypto/sha1.hpp"
#include "lsd/local_discovery.hpp"

namespace pw::lsd {

class DiscoverySet {
  public:
    void add(std::unique_ptr<LocalDiscovery> instance);
    // True when at least one instance started; the reasons of those that did not, in order.
    bool start(std::vector<std::string>& failures);
    void stop();
    void announce(const Sha1Digest& info_hash);
    void remove(const Sha1Digest& info_hash);

    std::size_t size() const { return instances_.size(); }
    const LocalDiscovery& at(std::size_t i) const { return *instances_.at(i); }

  private:
    std::vector<std::unique_ptr<LocalDiscovery>> instances_;
};

}  // namespace pw::lsd
