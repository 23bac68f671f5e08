// Magnet links (BEP 9): magnet:?xt=urn:btih:<40 hex or 32 base32>&dn=..&tr=..&x.pe=..,
// BEP 52's v2 form xt=urn:btmh:1220<64 hex> (a SHA-256 multihash; alone or beside btih)
// and BEP 53's select-only so=0,2,4-6 (file indices to download).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"
#include "crypto/sha256.hpp"
#include "meta/file_selection.hpp"

namespace pw::meta {

struct Magnet {
    // The swarm's 20-byte hash: the btih, or without one the v2 hash truncated (BEP 52).
    Sha1Digest info_hash;
    bool has_btih = true;                       // false: info_hash is the truncated btmh
    std::optional<Sha256Digest> info_hash_v2;   // btmh, when given
    std::string name;                   // dn, may be empty
    std::vector<std::string> trackers;  // tr, in order, duplicates removed
    std::vector<std::string> peers;     // x.pe: "host:port" / "[v6]:port"
    std::vector<IndexRange> select_only;  // so= (BEP 53); empty: every file
};

bool is_magnet(std::string_view s);
// Throws MetainfoError with a one-line reason ("magnet: no btih info-hash", ...).
Magnet parse_magnet(std::string_view uri);
// magnet:?xt=urn:btih:<hex>&xt=urn:btmh:1220<hex>&dn=..&tr=.. (each xt when known)
std::string make_magnet(const Magnet& m);

}  // namespace pw::meta
