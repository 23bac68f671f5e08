// Magnet links (BEP 9): magnet:?xt=urn:btih:<40 hex or 32 base32>&dn=..&tr=..&x.pe=..
// and BEP 53's select-only so=0,2,4-6 (file indices to download).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha1.hpp"
#include "meta/file_selection.hpp"

namespace pw::meta {

struct Magnet {
    Sha1Digest info_hash;
    std::string name;                   // dn, may be empty
    std::vector<std::string> trackers;  // tr, in order, duplicates removed
    std::vector<std::string> peers;     // x.pe: "host:port" / "[v6]:port"
    std::vector<IndexRange> select_only;  // so= (BEP 53); empty: every file
};

bool is_magnet(std::string_view s);
// Throws MetainfoError with a one-line reason ("magnet: no btih info-hash", ...).
Magnet parse_magnet(std::string_view uri);
// magnet:?xt=urn:btih:<hex>&dn=..&tr=..
std::string make_magnet(const Magnet& m);

}  // namespace pw::meta
