// The one entry point for talking to a tracker, whatever its URL's scheme: http:// and
// https:// go to the Beast client (http_announce, http_scrape; TLS checked per
// TlsSettings), udp:// to the BEP 15 client (udp_announce). Every other scheme fails
// with a reason. Coroutines on the caller's executor; they never throw.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/sha1.hpp"
#include "tracker/parse/announce.hpp"
#include "tracker/tls_settings.hpp"

namespace pw::tracker {

// Announces over HTTP, HTTPS or UDP by the URL's scheme; never throws; failures in
// AnnounceResponse::failure_reason. `req.bind_ip`, when set, is the local address the
// request leaves from; `tls` applies to https:// only.
boost::asio::awaitable<AnnounceResponse> announce(AnnounceRequest req,
                                                  std::chrono::milliseconds timeout,
                                                  TlsSettings tls = {});

// Swarm counts of one torrent; -1 where unknown. failure_reason non-empty: the scrape
// failed (the tracker does not support it, is unreachable, or does not list the torrent).
struct ScrapeResult {
    std::string failure_reason;
    std::int64_t complete = -1, incomplete = -1, downloaded = -1;
};

// Scrapes one torrent from the tracker of `announce_url` (BEP 48 over HTTP(S), BEP 15
// over UDP), from `bind_ip` (empty: any) and by the interface `bind_device` (empty: any),
// within `timeout`.
boost::asio::awaitable<ScrapeResult> scrape(std::string announce_url, Sha1Digest info_hash,
                                            std::string bind_ip, std::chrono::milliseconds timeout,
                                            TlsSettings tls = {}, std::string bind_device = {});

// The lower-cased scheme of a URL ("http", "udp", ...), empty when it has none.
std::string url_scheme(std::string_view url);

}  // namespace pw::tracker
