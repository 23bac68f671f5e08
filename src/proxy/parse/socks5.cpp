// SOCKS5 codec (see socks5.hpp; RFC 1928, RFC 1929).
#include "proxy/parse/socks5.hpp"

#include <cstdio>

namespace pw::proxy::socks5 {

namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) {
    return static_cast<std::uint8_t>(s[i]);
}

void put_address(std::string& out, const Address& a) {
    out += static_cast<char>(a.type);
    switch (a.type) {
        case Address::Type::ipv4:
            out.append(reinterpret_cast<const char*>(a.ip.data()), 4);
            break;
        case Address::Type::ipv6:
            out.append(reinterpret_cast<const char*>(a.ip.data()), 16);
            break;
        case Address::Type::domain:
            out += static_cast<char>(a.domain.size());
            out += a.domain;
            break;
    }
    out += static_cast<char>(a.port >> 8);
    out += static_cast<char>(a.port & 0xff);
}

std::optional<std::string> check_address(const Address& a) {
    switch (a.type) {
        case Address::Type::ipv4:
        case Address::Type::ipv6:
            return std::nullopt;
        case Address::Type::domain:
            if (a.domain.empty() || a.domain.size() > 255)
                return "domain name must be 1..255 bytes";
            return std::nullopt;
    }
    return "unknown address type";
}

// Size of the address (ATYP byte included, port included) starting at `s[0]`; 0 when
// more bytes are needed, nullopt for an unknown ATYP or an empty domain name.
std::variant<std::size_t, Error> address_size(std::string_view s) {
    if (s.empty()) return std::size_t{0};
    switch (byte_at(s, 0)) {
        case 1:
            return std::size_t{1 + 4 + 2};
        case 4:
            return std::size_t{1 + 16 + 2};
        case 3:
            if (s.size() < 2) return std::size_t{0};
            if (byte_at(s, 1) == 0) return Error{"empty domain name"};
            return std::size_t{1 + 1 + 2} + byte_at(s, 1);
        default:
            return Error{"unknown address type " + std::to_string(byte_at(s, 0))};
    }
}

// Reads an address of exactly address_size(s) bytes from the front of `s`.
std::variant<Address, Error> get_address(std::string_view s) {
    auto size = address_size(s);
    if (auto* e = std::get_if<Error>(&size)) return *e;
    const std::size_t n = std::get<std::size_t>(size);
    if (n == 0 || s.size() < n) return Error{"truncated address"};
    Address a;
    a.type = static_cast<Address::Type>(byte_at(s, 0));
    switch (a.type) {
        case Address::Type::ipv4:
            for (int i = 0; i < 4; ++i) a.ip[i] = byte_at(s, 1 + i);
            break;
        case Address::Type::ipv6:
            for (int i = 0; i < 16; ++i) a.ip[i] = byte_at(s, 1 + i);
            break;
        case Address::Type::domain:
            a.domain = std::string(s.substr(2, byte_at(s, 1)));
            break;
    }
    a.port = static_cast<std::uint16_t>(byte_at(s, n - 2) << 8 | byte_at(s, n - 1));
    return a;
}

}  // namespace

Address Address::v4(std::array<std::uint8_t, 4> a, std::uint16_t port) {
    Address r;
    r.type = Type::ipv4;
    for (int i = 0; i < 4; ++i) r.ip[i] = a[i];
    r.port = port;
    return r;
}

Address Address::v6(std::array<std::uint8_t, 16> a, std::uint16_t port) {
    Address r;
    r.type = Type::ipv6;
    r.ip = a;
    r.port = port;
    return r;
}

Address Address::name(std::string host, std::uint16_t port) {
    Address r;
    r.type = Type::domain;
    r.domain = std::move(host);
    r.port = port;
    return r;
}

std::string Address::host_text() const {
    char buf[64];
    switch (type) {
        case Type::ipv4:
            std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
            return buf;
        case Type::ipv6: {
            // Full form without zero compression: only for messages and tests.
            std::string s;
            for (int i = 0; i < 16; i += 2) {
                std::snprintf(buf, sizeof buf, "%x", unsigned(ip[i] << 8 | ip[i + 1]));
                if (i) s += ':';
                s += buf;
            }
            return s;
        }
        case Type::domain:
            return domain;
    }
    return {};
}

std::string encode_greeting(bool with_auth) {
    std::string out{char(version), char(with_auth ? 2 : 1), char(Method::none)};
    if (with_auth) out += static_cast<char>(Method::user_pass);
    return out;
}

std::size_t greeting_size(std::string_view prefix) {
    if (prefix.size() < 2) return 0;
    return 2u + byte_at(prefix, 1);
}

std::variant<std::string, Error> decode_greeting(std::string_view msg) {
    if (msg.size() < 2) return Error{"truncated greeting"};
    if (byte_at(msg, 0) != version) return Error{"not SOCKS version 5"};
    const std::size_t n = byte_at(msg, 1);
    if (n == 0) return Error{"no authentication methods offered"};
    if (msg.size() != 2 + n) return Error{"greeting length mismatch"};
    return std::string(msg.substr(2));
}

std::string encode_method_selection(Method m) {
    return std::string{char(version), char(m)};
}

std::variant<Method, Error> decode_method_selection(std::string_view msg) {
    if (msg.size() != 2) return Error{"truncated method selection"};
    if (byte_at(msg, 0) != version) return Error{"not a SOCKS5 proxy"};
    switch (byte_at(msg, 1)) {
        case 0x00:
            return Method::none;
        case 0x02:
            return Method::user_pass;
        case 0xff:
            return Method::unacceptable;
        default:
            return Error{"proxy chose an authentication method that was not offered"};
    }
}

std::variant<std::string, Error> encode_auth_request(std::string_view user, std::string_view pass) {
    if (user.empty() || user.size() > 255) return Error{"proxy user name must be 1..255 bytes"};
    if (pass.empty() || pass.size() > 255) return Error{"proxy password must be 1..255 bytes"};
    std::string out{char(auth_version), char(user.size())};
    out += user;
    out += static_cast<char>(pass.size());
    out += pass;
    return out;
}

std::variant<std::size_t, Error> auth_request_size(std::string_view prefix) {
    if (prefix.size() < 2) return std::size_t{0};
    if (byte_at(prefix, 0) != auth_version) return Error{"bad auth version"};
    const std::size_t ulen = byte_at(prefix, 1);
    if (prefix.size() < 3 + ulen) return std::size_t{0};
    return 3 + ulen + byte_at(prefix, 2 + ulen);
}

std::variant<Credentials, Error> decode_auth_request(std::string_view msg) {
    auto size = auth_request_size(msg);
    if (auto* e = std::get_if<Error>(&size)) return *e;
    const std::size_t n = std::get<std::size_t>(size);
    if (n == 0 || msg.size() != n) return Error{"auth request length mismatch"};
    const std::size_t ulen = byte_at(msg, 1);
    Credentials c{std::string(msg.substr(2, ulen)), std::string(msg.substr(3 + ulen))};
    if (c.user.empty() || c.pass.empty()) return Error{"empty user name or password"};
    return c;
}

std::string encode_auth_reply(bool ok) {
    return std::string{char(auth_version), char(ok ? 0 : 1)};
}

std::variant<bool, Error> decode_auth_reply(std::string_view msg) {
    if (msg.size() != 2) return Error{"truncated auth reply"};
    if (byte_at(msg, 0) != auth_version) return Error{"bad auth reply version"};
    return byte_at(msg, 1) == 0;
}

std::variant<std::string, Error> encode_request(Command cmd, const Address& dst) {
    if (auto err = check_address(dst)) return Error{*err};
    std::string out{char(version), char(cmd), 0};
    put_address(out, dst);
    return out;
}

std::variant<std::size_t, Error> message_size(std::string_view prefix) {
    if (prefix.size() < 4) return std::size_t{0};
    if (byte_at(prefix, 0) != version) return Error{"not SOCKS version 5"};
    auto a = address_size(prefix.substr(3));
    if (auto* e = std::get_if<Error>(&a)) return *e;
    const std::size_t n = std::get<std::size_t>(a);
    if (n == 0) return std::size_t{0};
    return 3 + n;
}

std::variant<Request, Error> decode_request(std::string_view msg) {
    auto size = message_size(msg);
    if (auto* e = std::get_if<Error>(&size)) return *e;
    if (std::get<std::size_t>(size) == 0 || msg.size() != std::get<std::size_t>(size))
        return Error{"request length mismatch"};
    Request r;
    r.command = byte_at(msg, 1);
    auto a = get_address(msg.substr(3));
    if (auto* e = std::get_if<Error>(&a)) return *e;
    r.dst = std::get<Address>(std::move(a));
    return r;
}

std::string encode_reply(ReplyCode code, const Address& bound) {
    std::string out{char(version), char(code), 0};
    put_address(out, bound);
    return out;
}

std::variant<Reply, Error> decode_reply(std::string_view msg) {
    auto size = message_size(msg);
    if (auto* e = std::get_if<Error>(&size)) return *e;
    if (std::get<std::size_t>(size) == 0 || msg.size() != std::get<std::size_t>(size))
        return Error{"reply length mismatch"};
    Reply r;
    r.code = byte_at(msg, 1);
    auto a = get_address(msg.substr(3));
    if (auto* e = std::get_if<Error>(&a)) return *e;
    r.bound = std::get<Address>(std::move(a));
    return r;
}

std::string reply_message(std::uint8_t code) {
    switch (static_cast<ReplyCode>(code)) {
        case ReplyCode::succeeded:
            return "proxy: succeeded";
        case ReplyCode::general_failure:
            return "proxy: general SOCKS server failure";
        case ReplyCode::not_allowed:
            return "proxy: connection not allowed by ruleset";
        case ReplyCode::network_unreachable:
            return "proxy: network unreachable";
        case ReplyCode::host_unreachable:
            return "proxy: host unreachable";
        case ReplyCode::connection_refused:
            return "proxy: connection refused by destination";
        case ReplyCode::ttl_expired:
            return "proxy: TTL expired";
        case ReplyCode::command_not_supported:
            return "proxy: command not supported";
        case ReplyCode::address_type_not_supported:
            return "proxy: address type not supported";
    }
    return "proxy: unknown reply code " + std::to_string(code);
}

std::variant<std::string, Error> encode_udp(const Address& peer, std::string_view payload) {
    if (auto err = check_address(peer)) return Error{*err};
    std::string out{0, 0, 0};  // RSV (2 bytes), FRAG 0
    put_address(out, peer);
    out += payload;
    return out;
}

std::variant<UdpDatagram, Error> decode_udp(std::string_view datagram) {
    if (datagram.size() < 4) return Error{"truncated UDP header"};
    if (byte_at(datagram, 0) != 0 || byte_at(datagram, 1) != 0) return Error{"reserved bytes set"};
    if (byte_at(datagram, 2) != 0) return Error{"fragment dropped"};
    auto size = address_size(datagram.substr(3));
    if (auto* e = std::get_if<Error>(&size)) return *e;
    const std::size_t n = std::get<std::size_t>(size);
    if (n == 0 || datagram.size() < 3 + n) return Error{"truncated UDP header"};
    auto a = get_address(datagram.substr(3, n));
    if (auto* e = std::get_if<Error>(&a)) return *e;
    return UdpDatagram{std::get<Address>(std::move(a)), datagram.substr(3 + n)};
}

}  // namespace pw::proxy::socks5
