// The BEP 19 url-list (see url_list.hpp).
#include "meta/url_list.hpp"

#include <algorithm>
#include <cctype>

namespace pw::meta {

namespace {
bool has_scheme(std::string_view u, std::string_view scheme) {
    if (u.size() <= scheme.size()) return false;
    for (char c : u)
        if (c <= 0x20 || c >= 0x7f) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(u[i])) != scheme[i]) return false;
    return true;
}
}  // namespace

UrlList parse_url_list(const bencode::Node& root) {
    UrlList out;
    bencode::Node n = root.find("url-list");
    std::size_t ignored = 0, over = 0;
    auto add = [&](const bencode::Node& u) {
        if (!u.is_string()) {
            ++ignored;
            return;
        }
        if (u.as_string().empty()) return;  // libtorrent writes "" for "no web seeds"
        std::string_view s = u.as_string();
        if (!(has_scheme(s, "http://") || has_scheme(s, "https://")) ||
            s.size() > max_web_seed_url_length) {
            ++ignored;
            return;
        }
        if (std::find(out.urls.begin(), out.urls.end(), s) != out.urls.end()) return;
        if (out.urls.size() == max_web_seeds) {
            ++over;
            return;
        }
        out.urls.emplace_back(s);
    };
    if (n.is_string()) add(n);
    for (const bencode::Node& u : n.elements()) add(u);
    if (ignored)
        out.warnings.push_back("url-list: ignored " + std::to_string(ignored) +
                               " entries that are not http(s) URLs of printable ASCII up to " +
                               std::to_string(max_web_seed_url_length) + " bytes");
    if (over)
        out.warnings.push_back("url-list: ignored " + std::to_string(over) +
                               " URLs past the first " + std::to_string(max_web_seeds));
    return out;
}

UrlList read_url_list(std::string_view torrent_file) {
    try {
        bencode::Document doc = bencode::decode(torrent_file);
        if (!doc.root().is_dict()) return {};
        return parse_url_list(doc.root());
    } catch (const bencode::DecodeError&) {
        return {};
    }
}

}  // namespace pw::meta
