// External address voting from KRPC "ip" fields (BEP 42).
#include "dht/ip_voter.hpp"

#include <algorithm>
#include <map>

namespace pw::dht {

IpVoter::IpVoter(std::size_t min_votes, std::size_t max_voters)
    : min_votes_(std::max<std::size_t>(min_votes, 1)), max_voters_(std::max<std::size_t>(max_voters, 1)) {}

bool IpVoter::vote(std::string_view voter, std::string_view reported) {
    if ((voter.size() != 4 && voter.size() != 16) || (reported.size() != 4 && reported.size() != 16))
        return false;
    auto it = std::find_if(votes_.begin(), votes_.end(), [&](const auto& v) { return v.first == voter; });
    if (it != votes_.end()) votes_.erase(it);
    votes_.emplace_back(std::string(voter), std::string(reported));
    while (votes_.size() > max_voters_) votes_.pop_front();
    auto now = count();
    // A winner stays until another address wins (a tie or too few votes keeps it).
    if (!now || now == winner_) return false;
    winner_ = std::move(now);
    return true;
}

std::optional<std::string> IpVoter::count() const {
    std::map<std::string, std::size_t> tally;
    for (const auto& v : votes_) ++tally[v.second];
    std::optional<std::string> best;
    std::size_t best_n = 0;
    bool tie = false;
    for (const auto& [addr, n] : tally) {
        if (n > best_n) {
            best = addr;
            best_n = n;
            tie = false;
        } else if (n == best_n) {
            tie = true;
        }
    }
    if (!best || tie || best_n < min_votes_) return std::nullopt;
    return best;
}

}  // namespace pw::dht
