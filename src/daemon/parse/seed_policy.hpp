// Seeding limits as Transmission defines them (rpc-spec-legacy-4.0.6.md, torrent-set
// seedRatioMode/seedIdleMode and session-set seedRatioLimit(ed)/idle-seeding-limit(-enabled)):
// each torrent has a ratio and an idle limit, each with a mode: 0 = use the session's
// (global) limit, 1 = the torrent's own, 2 = unlimited. A torrent stops seeding once the
// effective limit is reached. Also the text forms in which the daemon stores these
// settings, labels and tracker lists.
//
// Pure: no I/O; the decode_* functions return nullopt for malformed text (fuzzed:
// tests/fuzz/fuzz_daemon_settings.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pw::daemon {

struct SessionSeedLimits {
    double ratio = 2.0;  // Transmission's defaults
    bool ratio_limited = false;
    int idle_minutes = 30;
    bool idle_limited = false;
};

struct TorrentSeedLimits {
    double ratio = 2.0;
    int ratio_mode = 0;  // 0 global, 1 single (this torrent's), 2 unlimited
    int idle_minutes = 30;
    int idle_mode = 0;
};

struct EffectiveSeedLimits {
    double ratio = -1;      // < 0: none
    int idle_minutes = -1;  // <= 0: none
};

EffectiveSeedLimits effective_seed_limits(const SessionSeedLimits& s, const TorrentSeedLimits& t);

// Labels as Transmission accepts them: non-empty, no comma (its separator), at most 256
// bytes each, duplicates dropped (first kept). nullopt with `why` set otherwise.
std::optional<std::vector<std::string>> check_labels(const std::vector<std::string>& in,
                                                     std::string& why);

// Transmission 4's trackerList: announce URLs one per line, tiers separated by an empty
// line. Lines are trimmed; duplicates dropped.
std::vector<std::vector<std::string>> parse_tracker_list(const std::string& text);
std::string format_tracker_list(const std::vector<std::vector<std::string>>& tiers);

// Stored text forms (JSON).
std::string encode_strings(const std::vector<std::string>& v);
std::optional<std::vector<std::string>> decode_strings(const std::string& text);
std::string encode_tiers(const std::vector<std::vector<std::string>>& tiers);
std::optional<std::vector<std::vector<std::string>>> decode_tiers(const std::string& text);

}  // namespace pw::daemon
