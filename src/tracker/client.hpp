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
#include <vector>

#include "crypto/sha1.hpp"
#include "proxy/parse/proxy_url.hpp"
#include "tracker/parse/announce.hpp"
#include "tracker/tls_settings.hpp"

namespace pw::tracker {

// Announces over HTTP, HTTPS or UDP by the URL's scheme; never throws; failures in
// AnnounceResponse::failure_reason. `req.bind_ip`, when set, is the local address the
// request leaves from; `tls` applies to https:// only. With `proxy` enabled, every
// request goes through that SOCKS5 proxy (see http_announce.hpp, udp_announce.hpp).
boost::asio::awaitable<AnnounceResponse> announce(AnnounceRequest req,
                                                  std::chrono::milliseconds timeout,
                                                  TlsSettings tls = {},
                                                  proxy::ProxyConfig proxy = {});

// BEP 7: a peer announces once from each local address it listens on, so that the
// tracker records every address it can be reached at (an IPv4 and an IPv6 one). Sends
// `req` from each of `sources` in turn (bind_ip values, see AnnounceRequest), each
// within `timeout`; with fewer than two sources, a single announce from req.bind_ip.
// The reply merges them: the peers of all (each once), the rest from the first that
// succeeded; it fails only when every announce failed (a source of a family the
// tracker has no address of fails like any other).
boost::asio::awaitable<AnnounceResponse> announce_from(AnnounceRequest req,
                                                       std::vector<std::string> sources,
                                                       std::chrono::milliseconds timeout,
                                                       TlsSettings tls = {},
                                                       proxy::ProxyConfig proxy = {});

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
                                            TlsSettings tls = {}, std::string bind_device = {},
                                            proxy::ProxyConfig proxy = {});

// The lower-cased scheme of a URL ("http", "udp", ...), empty when it has none.
std::string url_scheme(std::string_view url);

}  // namespace pw::tracker
