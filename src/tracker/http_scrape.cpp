// HTTP and HTTPS scrape (BEP 48) over the Beast transport of http_announce.cpp.
#include "tracker/http_scrape.hpp"

#include "tracker/http_announce.hpp"

namespace pw::tracker {

namespace {

ScrapeReply failed(std::string reason) {
    ScrapeReply r;
    r.failure_reason = std::move(reason);
    return r;
}

}  // namespace

boost::asio::awaitable<ScrapeReply> scrape_http(std::string announce_url,
                                                std::vector<Sha1Digest> hashes, std::string bind_ip,
                                                std::chrono::milliseconds timeout,
                                                TlsSettings tls, std::string bind_device) {
    try {
        if (hashes.empty()) co_return failed("scrape: no info-hashes");
        auto scrape_url = scrape_url_from_announce(announce_url);
        if (!scrape_url)
            co_return failed(
                "tracker does not support scrape (announce URL path does not end "
                "in 'announce')");
        HttpTrackerReply reply = co_await http_tracker_get(
            build_scrape_url(*scrape_url, hashes), std::move(bind_ip), timeout, std::move(tls),
            std::move(bind_device));
        if (!reply.failure_reason.empty()) co_return failed(std::move(reply.failure_reason));
        if (reply.status != 200) {
            // A bencoded failure reason in an error reply is the tracker's own explanation.
            ScrapeReply r = parse_scrape_response(reply.body);
            if (!r.failure_reason.empty() && r.failure_reason.rfind("scrape reply: ", 0) != 0)
                co_return r;
            std::string why = "HTTP " + std::to_string(reply.status);
            if (!reply.reason.empty()) why += " " + reply.reason;
            co_return failed(std::move(why));
        }
        co_return parse_scrape_response(reply.body);
    } catch (const std::exception& e) {
        co_return failed(std::string("scrape: ") + e.what());
    }
}

}  // namespace pw::tracker
