// Our external address as the DHT reports it (BEP 42 "Bootstrapping"): every KRPC reply
// may carry a top-level "ip", the address the replying node saw our query come from. A
// single node cannot be trusted, so the reports are votes: one per replying IP address
// (its latest report; many nodes behind one address count once), the oldest forgotten
// beyond max_voters, and an address wins once it holds at least min_votes votes and
// more than any other address.
//
// Pure: addresses are their 4 or 16 bytes (Endpoint::ip_bytes()); no sockets, no time.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pw::dht {

class IpVoter {
  public:
    explicit IpVoter(std::size_t min_votes, std::size_t max_voters = 64);

    // `voter` (the replying node's address) says our address is `reported`. Returns
    // true when this changed the winner (then winner() is the new one).
    bool vote(std::string_view voter, std::string_view reported);
    // The winning address, if one has won.
    const std::optional<std::string>& winner() const { return winner_; }
    std::size_t voters() const { return votes_.size(); }

  private:
    std::optional<std::string> count() const;

    std::size_t min_votes_, max_voters_;
    std::deque<std::pair<std::string, std::string>> votes_;  // (voter, reported), oldest first
    std::optional<std::string> winner_;
};

}  // namespace pw::dht
