// Web seeds (BEP 19, GetRight-style `url-list`): which HTTP requests fetch a run of
// pieces. Pure: no I/O.
//
// The URL of a file: for a single-file torrent the url-list entry is the file itself,
// unless it ends in '/', when the torrent's name is appended. For a multi-file torrent
// the entry is a folder (a missing trailing '/' is added, as libtorrent does) to which
// the name and the file's path are appended. Every appended path component is
// percent-encoded on its own (RFC 3986: unreserved characters stay, all else is %XX),
// so '/' inside a component cannot create a new path segment. A run of pieces maps to
// one ranged request per file it touches; empty files are skipped, and BEP 47 padding
// files are not requested (they are zeros, supplied locally).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meta/metainfo.hpp"

namespace pw::swarm {

// One ranged GET: `length` bytes from `file_offset` of the file at `url`, which land at
// `torrent_offset` of the torrent's byte stream. `url` is empty for padding (zeros).
struct WebSeedRequest {
    std::string url;
    int file = 0;
    std::int64_t file_offset = 0;
    std::int64_t file_size = 0;
    std::int64_t length = 0;
    std::int64_t torrent_offset = 0;
};

// Percent-encodes one path component (RFC 3986 unreserved characters stay as they are).
std::string percent_encode_component(std::string_view s);

// The URL of file `file` of `m` on the web seed `base`.
std::string web_seed_file_url(std::string_view base, const meta::Metainfo& m, int file);

// The requests that fetch `length` bytes of the torrent from `offset` (clamped to the
// torrent's size), in byte order.
std::vector<WebSeedRequest> plan_web_seed_range(std::string_view base, const meta::Metainfo& m,
                                                std::int64_t offset, std::int64_t length);

}  // namespace pw::swarm
