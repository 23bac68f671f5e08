// A NAT-PMP (RFC 6886) and PCP (RFC 6887) client: asks the default gateway to forward ports
// to this host, learns the external address, keeps the mappings alive and removes them at
// the end.
//
// Contract:
// - Nothing is sent before start(). start() opens one UDP socket connected to the gateway's
//   port 5351 (so only the gateway's datagrams are read; RFC 6886 section 3.1) and bound
//   to `bind_address` (the address peers are served on: the gateway maps the request's
//   source address) and `device`.
// - Version negotiation (RFC 6887 section 9 and Appendix A): with `pcp` on, a round first
//   sends PCP (version 2) MAP requests. A gateway that answers the first of them with
//   NAT-PMP's "unsupported version" (a version 0 reply, result 1), or with PCP's
//   UNSUPP_VERSION, speaks NAT-PMP only: the same round goes on by NAT-PMP, and so do the
//   rounds of the next `pcp_retry_after`, after which PCP is tried again. Any other
//   answer, or none, keeps PCP.
// - A NAT-PMP round asks for the external address, then maps every Mapping in order
//   (suggesting the external port granted before, or the internal port at first). A PCP
//   round maps every Mapping with one MAP request each (RFC 6887 section 11: a nonce per
//   mapping, kept for its renewals and deletion; the source address, IPv4-mapped, as the
//   client's address; the external port and address granted before as suggestions) and
//   learns the external address from the answers (an IPv4-mapped address; another one is
//   an error for that mapping). One request at a time, each retransmitted after
//   initial_timeout, doubling, at most max_tries times (RFC 6886 section 3.1: 250 ms, 9
//   tries; PCP requests use the same schedule). When the round's first request goes
//   unanswered, the round reports the failure and ends (a later request that goes
//   unanswered is reported and the round goes on), and the next one starts retry_after
//   later. A gateway result code other than success is reported
//   with its meaning (nat/parse/natpmp_message.hpp, nat/parse/pcp_message.hpp). A PCP
//   answer counts only with the request's nonce, protocol and internal port (section 11.4).
// - Rounds repeat at half the shortest lifetime granted (RFC 6886 section 3.3, RFC 6887
//   section 11.2.1; at least min_renew_interval). Every response's epoch is checked (RFC
//   6886 section 3.6, RFC 6887 section 8.5): when it is more than 2 s below last epoch + 7/8
//   of the time since, the gateway lost its state, and a new round maps everything again at
//   once (if that was not the round's first response).
// - Reports go to the handler: the external address when first learnt or changed, each
//   mapping when granted or when its external port or lifetime changes, errors, the
//   gateway's loss of state, and each deletion acknowledged at shutdown.
// - shutdown(budget) stops the rounds and asks the gateway to delete every granted mapping
//   (lifetime 0; RFC 6886 section 3.4, RFC 6887 section 15 with the mapping's nonce) in the
//   protocol that granted it, retransmitting within `budget`, and completes by then.
//   stop() ends everything at once without deletions. Call every member on the
//   io_context's thread; the handler runs there too.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nat/parse/natpmp_message.hpp"
#include "nat/parse/pcp_message.hpp"

namespace pw::nat {

struct NatPmpSettings {
    boost::asio::ip::udp::endpoint gateway;  // the gateway's address and NAT-PMP/PCP port (5351)
    boost::asio::ip::address_v4 bind_address;  // unspecified: the kernel picks the source
    std::string device;                        // SO_BINDTODEVICE; empty: any
    std::uint32_t lifetime = 7200;             // requested, seconds (RFC 6886's recommendation)
    std::chrono::milliseconds initial_timeout{250};
    int max_tries = 9;
    std::chrono::seconds retry_after{300};           // after a failed round
    std::chrono::milliseconds min_renew_interval{10'000};  // however short the granted lifetime
    bool pcp = true;  // PCP first (false: NAT-PMP only)
    // After a gateway answered PCP with "unsupported version": NAT-PMP only for this long.
    std::chrono::seconds pcp_retry_after{1800};
};

struct Mapping {
    MapProtocol protocol = MapProtocol::tcp;
    std::uint16_t internal_port = 0;
};

struct NatPmpReport {
    enum class Kind { external_address, mapped, unmapped, gateway_reset, error } kind{};
    MapProtocol protocol = MapProtocol::tcp;  // mapped, unmapped, and errors about a mapping
    std::uint16_t internal_port = 0;          // 0 when not about a mapping
    std::uint16_t external_port = 0;
    std::uint32_t lifetime = 0;
    boost::asio::ip::address_v4 external_address;  // the last one learnt
    std::string error;                             // error and gateway_reset: what happened
    bool pcp = false;  // mapped and unmapped: by PCP (else NAT-PMP)
};

// One line for a report, e.g. "port mapping: TCP 6881 -> external 203.0.113.7:6881,
// lifetime 7200 s" (with " (PCP)" after a mapping granted by PCP) or "port mapping: TCP
// 6881: the gateway refused (...)".
std::string describe(const NatPmpReport& r);

class NatPmpClient {
  public:
    using Handler = std::function<void(const NatPmpReport&)>;

    struct Stats {
        std::uint64_t requests_sent = 0;  // retransmissions included
        std::uint64_t responses = 0;      // decoded and matching a request
        std::uint64_t malformed = 0;      // refused by the decoder, or answering nothing asked
        std::uint64_t rounds = 0;
        std::uint64_t gateway_resets = 0;
        std::uint64_t failures = 0;  // requests unanswered after max_tries, or refused
        std::uint64_t pcp_responses = 0;      // of `responses`, PCP ones
        std::uint64_t natpmp_fallbacks = 0;  // PCP answered with "unsupported version"
    };

    NatPmpClient(boost::asio::io_context& io, NatPmpSettings s, std::vector<Mapping> mappings,
                 Handler on_report);
    ~NatPmpClient();
    NatPmpClient(const NatPmpClient&) = delete;
    NatPmpClient& operator=(const NatPmpClient&) = delete;

    bool start(std::string& error);  // false + reason when the socket cannot be set up
    boost::asio::awaitable<void> shutdown(std::chrono::milliseconds budget);
    void stop();

    Stats stats() const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace pw::nat
