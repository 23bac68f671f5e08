// Scraping an HTTP or HTTPS tracker (BEP 48), as a coroutine on the caller's executor.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tracker/parse/scrape.hpp"
#include "tracker/tls_settings.hpp"

namespace pw::tracker {

// Derives the scrape URL from `announce_url` (scrape_url_from_announce), GETs it for
// `hashes` from `bind_ip` (empty: any) within `timeout` (https:// checked per `tls`), and
// parses the reply. Never throws: an announce URL without a scrape convention, network
// and protocol failures all come back in ScrapeReply::failure_reason. A non-empty
// `bind_device` keeps the request on that network interface.
boost::asio::awaitable<ScrapeReply> scrape_http(std::string announce_url,
                                                std::vector<Sha1Digest> hashes, std::string bind_ip,
                                                std::chrono::milliseconds timeout,
                                                TlsSettings tls = {}, std::string bind_device = {});

}  // namespace pw::tracker
