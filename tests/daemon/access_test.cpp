// RPC access checks: allow-list, Host header, Basic credentials, session ids.
#include "daemon/http/access.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/detail/base64.hpp>

using namespace pw::daemon::http;
namespace ip = boost::asio::ip;

namespace {
std::string basic(const std::string& cred) {
    namespace b64 = boost::beast::detail::base64;
    std::string out(b64::encoded_size(cred.size()), '\0');
    out.resize(b64::encode(out.data(), cred.data(), cred.size()));
    return "Basic " + out;
}
}  // namespace

TEST(Access, AllowList) {
    auto allow = parse_allow_list("127.0.0.1, ::1");
    ASSERT_TRUE(allow);
    EXPECT_TRUE(client_allowed(*allow, ip::make_address("127.0.0.1")));
    EXPECT_TRUE(client_allowed(*allow, ip::make_address("::1")));
    EXPECT_TRUE(client_allowed(*allow, ip::make_address("::ffff:127.0.0.1")));
    EXPECT_FALSE(client_allowed(*allow, ip::make_address("127.0.0.2")));
    EXPECT_FALSE(client_allowed(*allow, ip::make_address("127.1.0.1")));
    EXPECT_FALSE(parse_allow_list("127.0.0.1,example.com"));
    EXPECT_FALSE(parse_allow_list("127.0.0.*"));
    EXPECT_TRUE(parse_allow_list("")->empty());
}

TEST(Access, HostHeaderAllowsLocalhostAndIpLiteralsOnly) {
    for (auto h : {"", "localhost", "localhost:9091", "localhost.", "127.0.0.1", "127.0.0.1:9091",
                   "[::1]:9091", "[::1]", "127.0.0.5:80"})
        EXPECT_TRUE(host_allowed(h)) << h;
    for (auto h : {"evil.example", "evil.example:9091", "localhost.evil.example",
                   "127.0.0.1.nip.io", "[::1", "[::1]x", "[nothex]:1", "1.2.3:80"})
        EXPECT_FALSE(host_allowed(h)) << h;
}

TEST(Access, BasicAuth) {
    EXPECT_TRUE(basic_auth_ok(basic("alice:s3cret"), "alice:s3cret"));
    EXPECT_TRUE(basic_auth_ok("basic " + basic("alice:s3cret").substr(6), "alice:s3cret"));
    EXPECT_FALSE(basic_auth_ok(basic("alice:s3cre"), "alice:s3cret"));
    EXPECT_FALSE(basic_auth_ok(basic("alice:s3cret "), "alice:s3cret"));
    EXPECT_FALSE(basic_auth_ok(basic("bob:s3cret"), "alice:s3cret"));
    EXPECT_FALSE(basic_auth_ok("", "alice:s3cret"));
    EXPECT_FALSE(basic_auth_ok("Bearer x", "alice:s3cret"));
    EXPECT_FALSE(basic_auth_ok("Basic !!!!", "alice:s3cret"));
}

TEST(Access, SessionIdsAreFreshAndLong) {
    auto a = new_session_id(), b = new_session_id();
    EXPECT_EQ(a.size(), 48u);
    EXPECT_NE(a, b);
}
