// Tracker dispatch by URL scheme.
#include "tracker/client.hpp"

#include <algorithm>
#include <vector>

#include "tracker/http_announce.hpp"
#include "tracker/http_scrape.hpp"
#include "tracker/udp_announce.hpp"

namespace pw::tracker {

namespace {

// Why a scheme cannot be used, or nothing when it can.
std::string unsupported(const std::string& scheme) {
    if (scheme.empty()) return "invalid tracker URL: no scheme";
    return "unsupported tracker URL scheme '" + scheme + "'";
}

}  // namespace

std::string url_scheme(std::string_view url) {
    const std::size_t colon = url.find(':');
    if (colon == std::string_view::npos || colon == 0) return {};
    std::string scheme;
    for (char c : url.substr(0, colon)) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (!scheme.empty() && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
        if (!ok) return {};
        scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return scheme;
}

boost::asio::awaitable<AnnounceResponse> announce(AnnounceRequest req,
                                                  std::chrono::milliseconds timeout,
                                                  TlsSettings tls, proxy::ProxyConfig proxy) {
    const std::string scheme = url_scheme(req.url);
    if (scheme == "http" || scheme == "https")
        co_return co_await announce_http(std::move(req), timeout, std::move(tls), std::move(proxy));
    if (scheme == "udp") co_return co_await announce_udp(std::move(req), timeout, std::move(proxy));
    AnnounceResponse r;
    r.failure_reason = unsupported(scheme);
    co_return r;
}

boost::asio::awaitable<AnnounceResponse> announce_from(AnnounceRequest req,
                                                       std::vector<std::string> sources,
                                                       std::chrono::milliseconds timeout,
                                                       TlsSettings tls, proxy::ProxyConfig proxy) {
    if (sources.size() < 2) co_return co_await announce(std::move(req), timeout, std::move(tls), std::move(proxy));
    AnnounceResponse merged;
    bool ok = false;
    std::string failures;
    for (const auto& source : sources) {
        AnnounceRequest one = req;
        one.bind_ip = source;
        AnnounceResponse r = co_await announce(std::move(one), timeout, tls, proxy);
        if (!r.failure_reason.empty()) {
            if (!failures.empty()) failures += "; ";
            failures += "from " + source + ": " + r.failure_reason;
            continue;
        }
        if (!ok) {
            merged = std::move(r);
            ok = true;
            continue;
        }
        if (merged.warning_message.empty()) merged.warning_message = std::move(r.warning_message);
        for (auto& p : r.peers)
            if (std::find(merged.peers.begin(), merged.peers.end(), p) == merged.peers.end())
                merged.peers.push_back(std::move(p));
    }
    if (!ok) merged.failure_reason = std::move(failures);
    co_return merged;
}

boost::asio::awaitable<ScrapeResult> scrape(std::string announce_url, Sha1Digest info_hash,
                                            std::string bind_ip, std::chrono::milliseconds timeout,
                                            TlsSettings tls, std::string bind_device,
                                            proxy::ProxyConfig proxy) {
    ScrapeResult out;
    const std::string scheme = url_scheme(announce_url);
    std::vector<Sha1Digest> hashes{info_hash};
    ScrapeReply reply;
    if (scheme == "http" || scheme == "https") {
        reply = co_await scrape_http(std::move(announce_url), std::move(hashes), std::move(bind_ip),
                                     timeout, std::move(tls), std::move(bind_device), std::move(proxy));
    } else if (scheme == "udp") {
        reply = co_await scrape_udp(std::move(announce_url), std::move(hashes), std::move(bind_ip),
                                    timeout, std::move(bind_device), std::move(proxy));
    } else {
        out.failure_reason = unsupported(scheme);
        co_return out;
    }
    if (!reply.failure_reason.empty()) {
        out.failure_reason = std::move(reply.failure_reason);
        co_return out;
    }
    auto it = reply.files.find(info_hash);
    if (it == reply.files.end()) {
        out.failure_reason = "scrape reply does not list this torrent";
        co_return out;
    }
    out.complete = it->second.complete;
    out.incomplete = it->second.incomplete;
    out.downloaded = it->second.downloaded;
    co_return out;
}

}  // namespace pw::tracker
