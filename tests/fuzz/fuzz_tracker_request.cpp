// libFuzzer target for the tracker server's request parsers: HTTP announce and scrape
// query strings (BEP 3, 23, 48) and BEP 15 UDP packets. Besides "no crash", it checks
// their promises: a parse either fails with a reason or yields the required fields in
// range; scrape hash lists are bounded and duplicate-free.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "text/percent.hpp"
#include "tracker/parse/server_request.hpp"

using namespace pw::tracker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    AnnounceParse a = parse_http_announce(in);
    if (a.error.empty()) {
        if (a.announce.port == 0) __builtin_trap();
        if (a.announce.uploaded < 0 || a.announce.downloaded < 0 || a.announce.left < 0)
            __builtin_trap();
        if (a.announce.numwant < -1 || a.announce.numwant > 1'000'000) __builtin_trap();
    }

    ScrapeParse s = parse_http_scrape(in);
    if (!s.error.empty() && !s.info_hashes.empty()) __builtin_trap();
    if (s.info_hashes.size() > max_http_scrape_hashes) __builtin_trap();
    std::set<pw::Sha1Digest> seen(s.info_hashes.begin(), s.info_hashes.end());
    if (seen.size() != s.info_hashes.size()) __builtin_trap();

    for (bool plus : {true, false})
        if (auto d = pw::text::percent_decode(in, plus); d && d->size() > in.size()) __builtin_trap();
    SplitTarget t = split_target(in);
    if (t.path.size() + t.query.size() > in.size()) __builtin_trap();

    UdpParse u = parse_udp_request(in);
    if (u.error.empty()) {
        const UdpRequest& q = u.request;
        if (size < 16) __builtin_trap();
        if (q.action == UdpAction::announce && (size < 98 || q.port == 0 || q.left < 0))
            __builtin_trap();
        if (q.action == UdpAction::scrape &&
            (q.info_hashes.empty() || q.info_hashes.size() > max_udp_scrape_hashes))
            __builtin_trap();
        if (q.action == UdpAction::connect && q.connection_id != udp_protocol_id)
            __builtin_trap();
    }
    return 0;
}
