// Announcing to and scraping a UDP tracker (BEP 15, BEP 41 URLData), as coroutines on
// the caller's executor.
//
// Each call resolves the udp://host:port[/path?query] URL, opens its own UDP socket
// (bound to the request's bind address when one is given, per BEP 7, and to its network
// interface when one is named), obtains a
// connection id (action 0) unless one less than a minute old is cached for that
// tracker endpoint and local address, then sends the announce (action 1) or scrape
// (action 2). Requests are retransmitted after base * 2^n (n capped at 8; base 15 s by
// default), every wait bounded by the caller's `timeout`; a cached id that goes
// unanswered for min(base, half the time left) is dropped and a new one fetched, since
// trackers ignore ids they no longer accept. Replies from other addresses
// or with another transaction id are ignored. Never throws: failures are reported in
// failure_reason, the tracker's error message (action 3) included.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "tracker/parse/announce.hpp"
#include "tracker/parse/scrape.hpp"

namespace pw::tracker {

boost::asio::awaitable<AnnounceResponse> announce_udp(AnnounceRequest req,
                                                      std::chrono::milliseconds timeout);

// Scrapes `hashes` (74 per packet, packets one after another) from the UDP tracker of
// `url`. Every hash asked for has an entry in `files` unless failure_reason is set;
// BEP 15 names the fields seeders/completed/leechers, reported here as
// complete/downloaded/incomplete.
// A non-empty `bind_device` keeps the socket on that network interface, as
// AnnounceRequest::bind_device does for announces.
boost::asio::awaitable<ScrapeReply> scrape_udp(std::string url, std::vector<Sha1Digest> hashes,
                                               std::string bind_ip,
                                               std::chrono::milliseconds timeout,
                                               std::string bind_device = {});

// The first retransmission interval of BEP 15 (15 s). Tests shorten it. Process-wide;
// read at the start of every request.
void set_udp_retransmit_base(std::chrono::milliseconds base);
std::chrono::milliseconds udp_retransmit_base();

// Forgets every cached connection id (the cache is process-wide and guarded by a mutex,
// so any thread may call this; in the engine only the network thread uses it).
void clear_udp_connection_cache();

}  // namespace pw::tracker
