// A bandwidth group as the daemon's RPC sees it (Transmission 4's group-set/group-get,
// rpc-spec.md 4.8): kB/s values with enabled flags (a value is kept while its flag is
// off) and whether the session's limits apply; and the text form in which the state
// store keeps it ("DOWN_KBPS DOWN_ON UP_KBPS UP_ON HONORS", e.g. "50 1 0 0 1").
//
// Pure: no I/O; decode_group returns nullopt for malformed text (fuzzed:
// tests/fuzz/fuzz_daemon_group.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "piecewise/session.hpp"

namespace pw::daemon {

struct GroupLimits {
    std::string name;
    std::int64_t down_kbps = 0, up_kbps = 0;
    bool down_enabled = false, up_enabled = false;
    bool honors_session = true;
    bool operator==(const GroupLimits&) const = default;

    static constexpr std::int64_t max_kbps = 1'000'000'000;
    // In bytes/s for the engine (1 kB = 1000 bytes, as Transmission counts).
    piecewise::BandwidthGroup engine() const {
        return {name, down_enabled ? down_kbps * 1000 : 0, up_enabled ? up_kbps * 1000 : 0,
                honors_session};
    }
};

std::string encode_group(const GroupLimits& g);
// `name` is not part of the text (it is the record's key). nullopt: anything but what
// encode_group writes (leading zeros, signs, extra spaces), or a value out of range.
std::optional<GroupLimits> decode_group(const std::string& name, const std::string& text);

}  // namespace pw::daemon
