#include "daemon/http/access.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/beast/core/detail/base64.hpp>
#include <stdexcept>

namespace pw::daemon::http {

namespace ip = boost::asio::ip;

std::optional<std::vector<ip::address>> parse_allow_list(std::string_view list) {
    std::vector<ip::address> out;
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.empty()) continue;
        boost::system::error_code ec;
        auto a = ip::make_address(item, ec);
        if (ec) return std::nullopt;
        out.push_back(a);
    }
    return out;
}

bool client_allowed(const std::vector<ip::address>& allow, const ip::address& client) {
    ip::address c = client;
    if (c.is_v6() && c.to_v6().is_v4_mapped()) c = ip::make_address_v4(ip::v4_mapped, c.to_v6());
    for (auto& a : allow)
        if (a == c) return true;
    return false;
}

bool host_allowed(std::string_view host) {
    if (host.empty()) return true;
    std::string_view name = host;
    if (name.front() == '[') {
        auto close = name.find(']');
        if (close == std::string_view::npos) return false;
        auto rest = name.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return false;
        boost::system::error_code ec;
        ip::make_address_v6(name.substr(1, close - 1), ec);
        return !ec;
    }
    if (auto colon = name.rfind(':'); colon != std::string_view::npos) name = name.substr(0, colon);
    if (name == "localhost" || name == "localhost.") return true;
    boost::system::error_code ec;
    ip::make_address_v4(name, ec);
    return !ec;
}

namespace {
std::string sha256(std::string_view s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(s.data(), s.size(), md, &n, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("sha256");
    return std::string(reinterpret_cast<char*>(md), n);
}
}  // namespace

bool basic_auth_ok(std::string_view header, std::string_view expected) {
    constexpr std::string_view scheme = "Basic ";
    if (header.size() < scheme.size() || header.size() > 4096) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) !=
            std::tolower(static_cast<unsigned char>(scheme[i])))
            return false;
    auto b64 = header.substr(scheme.size());
    namespace base64 = boost::beast::detail::base64;
    std::string decoded(base64::decoded_size(b64.size()), '\0');
    auto [written, read] = base64::decode(decoded.data(), b64.data(), b64.size());
    decoded.resize(written);
    // Equal-length digests compared in constant time: the time taken says nothing about
    // how much of the secret matched, nor its length.
    auto a = sha256(decoded), b = sha256(expected);
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string new_session_id() {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char bytes[48];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw std::runtime_error("no randomness for the session id");
    std::string id;
    for (auto b : bytes) id += alphabet[b % 62];
    return id;
}

}  // namespace pw::daemon::http
