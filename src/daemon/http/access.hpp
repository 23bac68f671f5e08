// Who may talk to the RPC endpoint (rpc-spec.md 2.2): pure checks the HTTP server runs
// on every request, in this order:
//  1. the client address is on the allow-list (else 403);
//  2. the Host header names localhost or an IP literal (DNS rebinding, else 421);
//  3. HTTP Basic credentials match, when configured (RFC 7617; else 401), compared in
//     constant time;
//  4. X-Transmission-Session-Id is the current one (CSRF, else 409 carrying it).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pw::daemon::http {

// "127.0.0.1,::1" -> addresses; nullopt if one is not an IP address.
std::optional<std::vector<boost::asio::ip::address>> parse_allow_list(std::string_view list);
// An IPv4-mapped IPv6 client is matched as its IPv4 address.
bool client_allowed(const std::vector<boost::asio::ip::address>& allow,
                    const boost::asio::ip::address& client);

// `host` is the Host header's value (empty: absent, allowed: HTTP/1.0 clients).
bool host_allowed(std::string_view host);

// `header` is the Authorization header's value; `expected` is "user:pass".
bool basic_auth_ok(std::string_view header, std::string_view expected);

// A fresh random session id (48 characters from [A-Za-z0-9]).
std::string new_session_id();

}  // namespace pw::daemon::http
