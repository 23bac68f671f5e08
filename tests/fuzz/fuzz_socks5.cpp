// libFuzzer target for the SOCKS5 codec (RFC 1928, RFC 1929) and the --proxy URL parser.
// Besides "no crash", it checks the codec's promises: every refusal has a reason; a
// size function never asks for fewer bytes than it has already seen as a prefix, nor more
// than the protocol's maximum; and whatever decodes re-encodes to the same bytes
// (requests, replies, auth requests, UDP datagrams).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/parse/proxy_url.hpp"
#include "proxy/parse/socks5.hpp"

using namespace pw::proxy;
using namespace pw::proxy::socks5;

namespace {

template <class T>
bool failed(const std::variant<T, Error>& v) {
    if (auto* e = std::get_if<Error>(&v)) {
        if (e->reason.empty()) __builtin_trap();
        return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    // Requests and replies share a layout: size first, then the decoders.
    auto ms = message_size(in);
    if (!failed(ms)) {
        const std::size_t n = std::get<std::size_t>(ms);
        if (n > 4 + 1 + 255 + 2) __builtin_trap();
        if (n != 0 && n <= in.size()) {
            const std::string_view msg = in.substr(0, n);
            auto rep = decode_reply(msg);
            if (!failed(rep)) {
                const auto& r = std::get<Reply>(rep);
                // RSV (byte 2) is not checked on decode; everything else must round-trip.
                const std::string again = encode_reply(static_cast<ReplyCode>(r.code), r.bound);
                if (again.substr(0, 2) != msg.substr(0, 2) || again.substr(3) != msg.substr(3))
                    __builtin_trap();
                if (reply_message(r.code).rfind("proxy: ", 0) != 0) __builtin_trap();
            }
            auto req = decode_request(msg);
            if (!failed(req)) {
                const auto& r = std::get<Request>(req);
                auto again = encode_request(static_cast<Command>(r.command), r.dst);
                if (failed(again) || std::get<std::string>(again).substr(3) != msg.substr(3))
                    __builtin_trap();
            }
        }
    }
    (void)failed(decode_reply(in));
    (void)failed(decode_request(in));

    auto as = auth_request_size(in);
    if (!failed(as)) {
        const std::size_t n = std::get<std::size_t>(as);
        if (n > 3 + 255 + 255) __builtin_trap();
        if (n != 0 && n <= in.size()) {
            auto c = decode_auth_request(in.substr(0, n));
            if (!failed(c)) {
                const auto& cr = std::get<Credentials>(c);
                auto again = encode_auth_request(cr.user, cr.pass);
                if (failed(again) || std::get<std::string>(again) != in.substr(0, n))
                    __builtin_trap();
            }
        }
    }
    (void)failed(decode_auth_reply(in));
    (void)failed(decode_method_selection(in));
    if (greeting_size(in) > 2 + 255) __builtin_trap();
    (void)failed(decode_greeting(in));

    auto dg = decode_udp(in);
    if (!failed(dg)) {
        const auto& u = std::get<UdpDatagram>(dg);
        if (u.payload.size() > in.size()) __builtin_trap();
        auto again = encode_udp(u.peer, u.payload);
        if (failed(again) || std::get<std::string>(again) != in) __builtin_trap();
    }

    auto url = parse_proxy_url(in);
    if (auto* c = std::get_if<ProxyConfig>(&url)) {
        if (c->host.empty() || c->port == 0 || c->user.size() > 255 || c->pass.size() > 255)
            __builtin_trap();
        if (c->user.empty() != c->pass.empty()) __builtin_trap();
    } else if (std::get<std::string>(url).empty()) {
        __builtin_trap();
    }
    return 0;
}
