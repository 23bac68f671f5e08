// Web seed request planning (see web_seed_plan.hpp).
#include "swarm/web_seed_plan.hpp"

#include <algorithm>

namespace pw::swarm {

std::string percent_encode_component(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

namespace {
// Appends the '/'-separated `path`, each component percent-encoded.
void append_path(std::string& url, std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (end > start) {
            if (url.empty() || url.back() != '/') url.push_back('/');
            url += percent_encode_component(path.substr(start, end - start));
        }
        start = end + 1;
    }
}
}  // namespace

std::string web_seed_file_url(std::string_view base, const meta::Metainfo& m, int file) {
    std::string url(base);
    if (!m.multi_file) {
        if (!url.empty() && url.back() == '/') append_path(url, m.name);
        return url;
    }
    if (url.empty() || url.back() != '/') url.push_back('/');
    // FileEntry::path already starts with the torrent's name for multi-file torrents.
    append_path(url, m.files[static_cast<std::size_t>(file)].path);
    return url;
}

std::vector<WebSeedRequest> plan_web_seed_range(std::string_view base, const meta::Metainfo& m,
                                                std::int64_t offset, std::int64_t length) {
    std::vector<WebSeedRequest> out;
    if (offset < 0 || length <= 0 || offset >= m.total_size) return out;
    std::int64_t end = std::min(m.total_size, offset + length);
    // The first file that ends after `offset` (files are in offset order).
    auto it = std::upper_bound(
        m.files.begin(), m.files.end(), offset,
        [](std::int64_t o, const meta::FileEntry& f) { return o < f.offset + f.length; });
    for (; it != m.files.end() && it->offset < end; ++it) {
        if (it->length == 0) continue;
        std::int64_t from = std::max(offset, it->offset);
        std::int64_t to = std::min(end, it->offset + it->length);
        if (to <= from) continue;
        WebSeedRequest r;
        r.file = static_cast<int>(it - m.files.begin());
        if (!it->pad) r.url = web_seed_file_url(base, m, r.file);
        r.file_offset = from - it->offset;
        r.file_size = it->length;
        r.length = to - from;
        r.torrent_offset = from;
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace pw::swarm
