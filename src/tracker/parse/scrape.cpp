// HTTP scrape (BEP 48): scrape URL derivation, request URL and reply parsing.
#include "tracker/parse/scrape.hpp"

#include <algorithm>

#include "bencode/bencode.hpp"
#include "tracker/parse/announce.hpp"

namespace pw::tracker {

namespace {

constexpr std::size_t max_message_len = 1024;

std::string printable(std::string_view s) {
    std::string out(s.substr(0, max_message_len));
    for (char& c : out) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = '?';
    }
    return out;
}

ScrapeReply malformed(std::string reason) {
    ScrapeReply r;
    r.failure_reason = "scrape reply: " + std::move(reason);
    return r;
}

std::int64_t count(const bencode::Node& d, std::string_view key) {
    auto v = d.find_int(key);
    return v && *v >= 0 ? *v : -1;
}

}  // namespace

std::optional<std::string> scrape_url_from_announce(std::string_view announce_url) {
    std::string_view url = announce_url.substr(0, announce_url.find('#'));
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const std::size_t path_begin = url.find_first_of("/?", scheme_end + 3);
    if (path_begin == std::string_view::npos || url[path_begin] != '/') return std::nullopt;
    const std::size_t path_end = std::min(url.find('?', path_begin), url.size());
    const std::size_t last = url.rfind('/', path_end - 1);  // >= path_begin
    constexpr std::string_view announce = "announce";
    if (url.substr(last + 1, path_end - last - 1).substr(0, announce.size()) != announce)
        return std::nullopt;
    std::string out(url.substr(0, last + 1));
    out += "scrape";
    out += url.substr(last + 1 + announce.size());
    return out;
}

std::string build_scrape_url(std::string_view scrape_url, std::span<const Sha1Digest> hashes) {
    std::string url(scrape_url.substr(0, scrape_url.find('#')));
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    if (!url.empty() && (url.back() == '?' || url.back() == '&')) sep = 0;
    for (const Sha1Digest& h : hashes) {
        if (sep) url += sep;
        sep = '&';
        url += "info_hash=" + url_encode(h.view());
    }
    return url;
}

ScrapeReply parse_scrape_response(std::string_view body, std::size_t max_files) {
    if (body.empty()) return malformed("empty body");
    bencode::Limits limits;
    limits.max_depth = 8;
    // Each file costs about eight values; the cap also bounds the decoder's duplicate-key check.
    limits.max_tokens = 8 * max_files + 64;
    limits.max_string = body.size();
    bencode::Document doc;
    try {
        doc = bencode::decode(body, limits);
    } catch (const bencode::DecodeError& e) {
        return malformed(e.reason() + " at byte " + std::to_string(e.offset()));
    }
    const bencode::Node root = doc.root();
    if (!root.is_dict()) return malformed("not a dictionary");

    ScrapeReply r;
    if (bencode::Node f = root.find("failure reason")) {
        r.failure_reason = printable(f.as_string());
        if (r.failure_reason.empty()) r.failure_reason = "tracker reported a failure";
        return r;
    }
    const bencode::Node files = root.find("files");
    if (!files.is_dict()) return malformed("no 'files' dictionary");
    for (const auto& [key, value] : files.items()) {
        if (r.files.size() >= max_files) break;
        if (key.size() != 20 || !value.is_dict()) continue;
        ScrapeStats s;
        s.complete = count(value, "complete");
        s.incomplete = count(value, "incomplete");
        s.downloaded = count(value, "downloaded");
        r.files[Sha1Digest::from_bytes(key)] = s;
    }
    return r;
}

}  // namespace pw::tracker
