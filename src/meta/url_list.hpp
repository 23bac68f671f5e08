// BEP 19 web seeds: the `url-list` key of a .torrent (beside `info`, not in it), a string
// or a list of strings. Bounded, since a hostile torrent could list millions: at most
// `max_urls` distinct http:// or https:// URLs of printable ASCII, each at most
// `max_url_length` bytes; other entries are ignored (the BEP says a client ignores
// protocols it does not know) and counted in one-line warnings. Pure; never throws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bencode/bencode.hpp"

namespace pw::meta {

inline constexpr std::size_t max_web_seeds = 64;
inline constexpr std::size_t max_web_seed_url_length = 2048;

struct UrlList {
    std::vector<std::string> urls;
    std::vector<std::string> warnings;  // what was ignored, one line each
};

// From the top-level dictionary of a .torrent.
UrlList parse_url_list(const bencode::Node& root);
// From a whole .torrent file; empty when it is not a bencoded dictionary.
UrlList read_url_list(std::string_view torrent_file);

}  // namespace pw::meta
