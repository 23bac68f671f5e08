#include "daemon/url_fetch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <optional>
#include <variant>

#include "proxy/parse/proxy_url.hpp"
#include "tracker/http_announce.hpp"
#include "tracker/tls_client.hpp"

namespace pw::daemon {

namespace asio = boost::asio;

bool is_http_url(std::string_view s) {
    auto starts = [&](std::string_view p) {
        if (s.size() < p.size()) return false;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(s[i])) != p[i]) return false;
        return true;
    };
    return starts("http://") || starts("https://");
}

std::string check_cookies(std::string_view c) {
    if (c.size() > max_cookies_length)
        return "cookies longer than " + std::to_string(max_cookies_length) + " bytes";
    for (char ch : c)
        if (ch == '\r' || ch == '\n' || ch == '\0') return "cookies must not hold CR, LF or NUL";
    return {};
}

std::string fetch_torrent_url(const std::string& url, const UrlFetchOptions& o) {
    // Never echo more than a line of what the client sent.
    const std::string shown = url.size() > 200 ? url.substr(0, 200) + "..." : url;
    auto fail = [&](const std::string& why) -> piecewise::Error {
        return piecewise::Error("cannot fetch URL " + shown + ": " + why);
    };
    proxy::ProxyConfig via;
    if (!o.proxy.empty()) {
        auto parsed = proxy::parse_proxy_url(o.proxy);
        if (auto* why = std::get_if<std::string>(&parsed)) throw fail("bad proxy: " + *why);
        via = std::get<proxy::ProxyConfig>(parsed);
    }
    std::optional<tracker::HttpTrackerReply> reply;
    std::string error;
    {
        asio::io_context io;
        asio::co_spawn(io,
                       tracker::http_tracker_get(url, "", o.timeout,
                                                 tracker::TlsSettings{o.ca_file, o.verify_tls},
                                                 o.bind_interface, via, o.max_bytes, o.cookies),
                       [&](std::exception_ptr e, tracker::HttpTrackerReply r) {
                           if (e)
                               error = "internal error";
                           else
                               reply = std::move(r);
                       });
        io.run();
        // TLS contexts are built on a helper thread that posts back into `io`.
        tracker::tls_loader_drain();
    }
    if (!reply) throw fail(error);
    if (!reply->failure_reason.empty()) {
        auto& why = reply->failure_reason;
        if (why.find("body limit") != std::string::npos)
            throw fail("larger than " + std::to_string(o.max_bytes >> 20) + " MiB");
        if (why.rfind("invalid tracker URL", 0) == 0) throw fail("not a valid URL");
        throw fail(why);
    }
    if (reply->status != 200) {
        std::string why = "HTTP " + std::to_string(reply->status);
        if (!reply->reason.empty()) why += " " + reply->reason;
        throw fail(why);
    }
    if (reply->body.empty()) throw fail("empty answer");
    return std::move(reply->body);
}

}  // namespace pw::daemon
