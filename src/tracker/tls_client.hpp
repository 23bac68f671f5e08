// TLS for https:// tracker requests: the client context and the handshake, over
// Boost.Asio SSL (OpenSSL).
//
// Contexts are built once per distinct TlsSettings and shared process-wide (the CA files
// are read when a setting is first used; later edits to a file need a restart). A context
// requires TLS 1.2 or newer and, when verifying, trusts the system store
// (SSL_CTX_set_default_verify_paths) plus the optional CA file. The handshake sends SNI
// for host names and checks the certificate against the host (OpenSSL's RFC 6125
// matching: DNS names for names, IP addresses for address literals).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <string>

#include "tracker/tls_settings.hpp"

namespace pw::tracker {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The client context for `settings`, built on a helper thread the first time (loading
// the trust store is file I/O, kept off the network thread). On failure `ctx` stays
// empty and the reason is returned ("tls: cannot load CA file '...': ...").
boost::asio::awaitable<std::optional<std::string>> tls_client_context(
    TlsSettings settings, std::shared_ptr<boost::asio::ssl::context>& ctx);

// Blocks until every context build already started has handed its result to the
// executor of the coroutine that asked for it. The helper thread outlives the
// io_contexts that await it: an owner calls this after its io_context stopped running
// and before destroying it, so that no build completes into a destroyed io_context
// (the results then wait in its queue and are destroyed with it).
void tls_loader_drain();

// Runs the client handshake on a connected stream, bounded by the expiry already set on
// its tcp_stream. `host` is the URL's host (a name, or an address without brackets).
// Returns nothing on success, else "tls: certificate verify failed: <why>",
// "tls: handshake timed out" or "tls: handshake failed: <why>".
boost::asio::awaitable<std::optional<std::string>> tls_handshake(TlsStream& stream,
                                                                 const std::string& host,
                                                                 bool verify);

}  // namespace pw::tracker
