// TLS client side of https:// trackers (see tls_client.hpp). Certificate checks follow
// RFC 6125 as implemented by OpenSSL's X509_VERIFY_PARAM host and IP matching, which
// reports a mismatch as a verification error with its own reason ("hostname mismatch").
#include "tracker/tls_client.hpp"

#include <future>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <map>
#include <mutex>
#include <utility>

namespace pw::tracker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;

namespace {

struct Built {
    std::shared_ptr<ssl::context> ctx;
    std::string error;
};

// Contexts by (CA file, verify). Only successes are kept, so a CA file fixed after a
// failure is read again on the next request.
std::mutex cache_mutex;
std::map<std::pair<std::string, bool>, std::shared_ptr<ssl::context>> cache;

// The one helper thread that reads trust stores; it lives until the process exits.
asio::thread_pool& loader() {
    static asio::thread_pool pool(1);
    return pool;
}

Built build(const TlsSettings& s) {
    Built out;
    try {
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
        SSL_CTX* native = ctx->native_handle();
        if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
            out.error = "tls: cannot require TLS 1.2 or newer";
            return out;
        }
        ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
        if (!s.verify) {
            ctx->set_verify_mode(ssl::verify_none);
            out.ctx = std::move(ctx);
            return out;
        }
        if (SSL_CTX_set_default_verify_paths(native) != 1) {
            ERR_clear_error();
            out.error = "tls: cannot load the system trust store";
            return out;
        }
        if (!s.ca_file.empty()) {
            const std::string prefix = "tls: cannot load CA file '" + s.ca_file + "': ";
            std::error_code fec;
            // Refuses FIFOs and devices, whose open or read could block this thread for good.
            const auto status = std::filesystem::status(s.ca_file, fec);
            if (fec) {
                out.error = prefix + fec.message();
                return out;
            }
            if (!std::filesystem::is_regular_file(status)) {
                out.error = prefix + "not a regular file";
                return out;
            }
            boost::system::error_code ec;
            ctx->load_verify_file(s.ca_file, ec);
            if (ec) {
                ERR_clear_error();
                out.error = prefix + ec.message();
                return out;
            }
        }
        ctx->set_verify_mode(ssl::verify_peer);
        out.ctx = std::move(ctx);
    } catch (const std::exception& e) {
        out.ctx.reset();
        out.error = std::string("tls: ") + e.what();
    }
    return out;
}

// A coroutine function rather than a lambda: g++ 12 destroys a coroutine lambda's
// captures twice when the lambda copies a parameter of the enclosing coroutine.
asio::awaitable<Built> build_on_loader(TlsSettings s) {
    co_return build(s);
}

}  // namespace

asio::awaitable<std::optional<std::string>> tls_client_context(TlsSettings settings,
                                                               std::shared_ptr<ssl::context>& ctx) {
    if (!settings.verify) settings.ca_file.clear();
    const auto key = std::make_pair(settings.ca_file, settings.verify);
    {
        std::lock_guard lock(cache_mutex);
        if (auto it = cache.find(key); it != cache.end()) {
            ctx = it->second;
            co_return std::nullopt;
        }
    }
    Built built = co_await asio::co_spawn(loader(), build_on_loader(settings), asio::use_awaitable);
    if (!built.ctx) co_return std::move(built.error);
    {
        // Two first requests may race to build; the first stored wins, both work.
        std::lock_guard lock(cache_mutex);
        ctx = cache.emplace(key, std::move(built.ctx)).first->second;
    }
    co_return std::nullopt;
}

void tls_loader_drain() {
    // The helper is one thread running jobs in order: a job posted now runs after every
    // build already queued, and each build hands over its result before its job ends.
    std::promise<void> done;
    auto fut = done.get_future();
    asio::post(loader(), [&done] { done.set_value(); });
    fut.wait();
}

asio::awaitable<std::optional<std::string>> tls_handshake(TlsStream& stream,
                                                          const std::string& host, bool verify) {
    SSL* ssl = stream.native_handle();
    boost::system::error_code aec;
    (void)asio::ip::make_address(host, aec);
    const bool is_name = static_cast<bool>(aec);
    // RFC 6066: SNI carries host names only, never address literals.
    if (is_name && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
        ERR_clear_error();
        co_return "tls: host name '" + host + "' cannot be sent as SNI";
    }
    if (verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = is_name ? X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size())
                               : X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        if (ok != 1) {
            ERR_clear_error();
            co_return "tls: cannot check a certificate against '" + host + "'";
        }
    }
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::client,
                                                asio::as_tuple(asio::use_awaitable));
    if (!ec) co_return std::nullopt;
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
        co_return "tls: handshake timed out";
    const long result = SSL_get_verify_result(ssl);
    if (verify && result != X509_V_OK)
        co_return std::string("tls: certificate verify failed: ") +
            X509_verify_cert_error_string(result);
    co_return "tls: handshake failed: " + ec.message();
}

}  // namespace pw::tracker
