// session-set / session-get dht-enabled, lpd-enabled and utp-enabled: live in the engine
// (a KRPC ping or a uTP SYN to the peer port is answered, or not), in both dialects, kept
// across a restart, and the command line's value winning again once it changed.
// LpdLive needs PW_LSD_NETNS=1 in a loopback-only network namespace with multicast routed
// to lo (as tests/interop/lsd_netns_test.sh sets up); elsewhere it is skipped.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "daemon/state/store.hpp"
#include "rpc_fixture.hpp"
#include "utp/packet.hpp"

namespace {

// Sends `datagram` from a fresh UDP socket on 127.0.0.1 to 127.0.0.1:port and returns the
// first answer that comes within `wait` (empty: none).
std::string udp_exchange(std::uint16_t port, const std::string& datagram,
                         std::chrono::milliseconds wait = std::chrono::milliseconds(1500)) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return {};
    timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    char buf[2048];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    ::close(fd);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A KRPC ping (BEP 5); true when the peer port answers it with a response.
bool dht_answers(std::uint16_t port) {
    std::string ping = "d1:ad2:id20:" + std::string(20, 'q') + "e1:q4:ping1:t2:pw1:y1:qe";
    return udp_exchange(port, ping).find("1:y1:r") != std::string::npos;
}

// A uTP SYN (BEP 29); true when the peer port answers it with ST_STATE.
bool utp_answers(std::uint16_t port) {
    static std::uint16_t conn = 4000;
    pw::utp::Header h;
    h.type = pw::utp::Type::syn;
    h.conn_id = ++conn;
    h.seq_nr = 1;
    h.wnd_size = 1 << 20;
    std::string syn;
    pw::utp::encode(syn, h, {}, {});
    auto reply = udp_exchange(port, syn);
    auto p = pw::utp::decode(reply);
    return p && p->h.type == pw::utp::Type::state;
}

struct NetworkToggles : DaemonRpc {
    bool cli_dht = false, cli_lsd = false, cli_utp = true, cli_tcp = true;
    void SetUp() override {
        // As if given on the command line; never a public bootstrap node.
        tweak = [this](piecewise::Settings& s) {
            s.dht = cli_dht;
            s.dht_bootstrap.clear();
            s.lsd = cli_lsd;
            s.utp = cli_utp;
            s.tcp = cli_tcp;
        };
        DaemonRpc::SetUp();
    }
    std::uint16_t port() const { return daemon->peer_port(); }
    bool legacy_flag(const char* key) {
        auto a = legacy("session-get", std::string(R"({"fields":[")") + key + R"("]})");
        EXPECT_EQ(a.size(), 1u) << json::serialize(a);
        return a.contains(key) && a.at(key).as_bool();
    }
    bool jrpc_flag(const char* key) {
        auto a = jrpc("session_get", std::string(R"({"fields":[")") + key + R"("]})");
        EXPECT_EQ(a.size(), 1u) << json::serialize(a);
        return a.contains(key) && a.at(key).as_bool();
    }
};

TEST_F(NetworkToggles, DhtTurnsOnAndOffLiveInBothDialects) {
    EXPECT_FALSE(legacy_flag("dht-enabled"));
    EXPECT_FALSE(dht_answers(port()));
    legacy("session-set", R"({"dht-enabled":true})");
    EXPECT_TRUE(legacy_flag("dht-enabled"));
    EXPECT_TRUE(jrpc_flag("dht_enabled"));
    EXPECT_TRUE(dht_answers(port()));
    jrpc("session_set", R"({"dht_enabled":false})");
    EXPECT_FALSE(legacy_flag("dht-enabled"));
    EXPECT_FALSE(jrpc_flag("dht_enabled"));
    EXPECT_FALSE(dht_answers(port()));
    // On again: the same node starts again (0/1 as old clients send it).
    legacy("session-set", R"({"dht-enabled":1})");
    EXPECT_TRUE(dht_answers(port()));
    EXPECT_EQ(jrpc_error("session_set", R"({"dht_enabled":"yes"})"), -32602);
    EXPECT_TRUE(jrpc_flag("dht_enabled"));
}

TEST_F(NetworkToggles, StoredValueWinsUntilTheCommandLineChanges) {
    legacy("session-set", R"({"dht-enabled":true,"utp-enabled":false})");
    restart();  // the same command line: what was set over the RPC stays
    EXPECT_TRUE(legacy_flag("dht-enabled"));
    EXPECT_FALSE(jrpc_flag("utp_enabled"));
    EXPECT_TRUE(dht_answers(port()));
    EXPECT_FALSE(utp_answers(port()));
    cli_utp = false;
    restart();  // --no-utp added: the command line wins (and says what was stored anyway)
    EXPECT_FALSE(legacy_flag("utp-enabled"));
    legacy("session-set", R"({"utp-enabled":true})");
    restart();  // same command line as the last start: the RPC's value wins
    EXPECT_TRUE(legacy_flag("utp-enabled"));
    EXPECT_TRUE(utp_answers(port()));
    cli_utp = true;
    cli_dht = true;
    jrpc("session_set", R"({"dht_enabled":false})");
    restart();  // --dht given now (it was not): the command line wins for the DHT only
    EXPECT_TRUE(legacy_flag("dht-enabled"));
    EXPECT_TRUE(dht_answers(port()));
    EXPECT_TRUE(legacy_flag("utp-enabled"));
}

TEST_F(NetworkToggles, UtpOffRefusesNewConnectionsOnAgainAcceptsThem) {
    EXPECT_TRUE(legacy_flag("utp-enabled"));
    EXPECT_TRUE(utp_answers(port()));
    jrpc("session_set", R"({"utp_enabled":false})");
    EXPECT_FALSE(jrpc_flag("utp_enabled"));
    EXPECT_FALSE(utp_answers(port()));
    EXPECT_FALSE(dht_answers(port()));  // the DHT stays off meanwhile
    legacy("session-set", R"({"utp-enabled":true})");
    EXPECT_TRUE(legacy_flag("utp-enabled"));
    EXPECT_TRUE(utp_answers(port()));
}

TEST_F(NetworkToggles, UtpAndDhtOnWhenNoUdpSocketWasOpen) {
    cli_utp = false;  // no DHT, no uTP: the session opened no UDP socket
    restart();
    EXPECT_FALSE(utp_answers(port()));
    legacy("session-set", R"({"utp-enabled":true})");
    EXPECT_TRUE(utp_answers(port()));
    legacy("session-set", R"({"dht-enabled":true})");
    EXPECT_TRUE(dht_answers(port()));
}

TEST_F(NetworkToggles, UtpCannotGoOffWithoutTcp) {
    cli_tcp = false;
    restart();
    EXPECT_NE(legacy_error("session-set", R"({"utp-enabled":false})").find("uTP and TCP cannot both be off"),
              std::string::npos);
    EXPECT_EQ(jrpc_error("session_set", R"({"utp_enabled":false})"), -32603);
    EXPECT_TRUE(legacy_flag("utp-enabled"));
    EXPECT_TRUE(utp_answers(port()));
    restart();
    EXPECT_TRUE(legacy_flag("utp-enabled"));
}

TEST_F(NetworkToggles, ProxyKeepsTheDhtOffWithAClearError) {
    tweak = [](piecewise::Settings& s) {
        s.dht = false;
        s.dht_bootstrap.clear();
        s.proxy = "socks5://127.0.0.1:9";
    };
    restart();
    auto why = legacy_error("session-set", R"({"dht-enabled":true})");
    EXPECT_NE(why.find("proxy"), std::string::npos) << why;
    EXPECT_FALSE(legacy_flag("dht-enabled"));
    // uTP is on in the settings (the default) but does not run: session-get says so.
    EXPECT_FALSE(legacy_flag("utp-enabled"));
    EXPECT_FALSE(jrpc_flag("utp_enabled"));
    EXPECT_FALSE(utp_answers(port()));
}

// The DHT asked for on the command line with a proxy: it does not run, and session-get
// does not claim it does.
TEST_F(NetworkToggles, ProxyDhtFromTheCommandLineIsReportedOff) {
    tweak = [](piecewise::Settings& s) {
        s.dht = true;
        s.dht_bootstrap.clear();
        s.proxy = "socks5://127.0.0.1:9";
    };
    restart();
    EXPECT_FALSE(legacy_flag("dht-enabled"));
    EXPECT_FALSE(jrpc_flag("dht_enabled"));
    EXPECT_FALSE(dht_answers(port()));
}

// Whether multicast may be sent here: PW_LSD_NETNS=1 and only the loopback interface.
bool lsd_namespace(std::string& why) {
    const char* env = std::getenv("PW_LSD_NETNS");
    if (!env || std::string(env) != "1") {
        why = "needs PW_LSD_NETNS=1 in a loopback-only network namespace with multicast on lo";
        return false;
    }
    std::ifstream dev("/proc/self/net/dev");
    std::string line;
    int row = 0;
    while (std::getline(dev, line)) {
        if (++row <= 2) continue;
        std::string name = line.substr(0, line.find(':'));
        name.erase(0, name.find_first_not_of(' '));
        if (name != "lo") {
            why = "interface " + name + " besides lo: multicast could leave";
            return false;
        }
    }
    return row > 2;
}

// Receives the BEP 14 announces of the group on 127.0.0.1 for up to `wait`; returns the
// first one naming `hash` (empty: none).
std::string lsd_announce_of(const std::string& hash, std::chrono::milliseconds wait) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(6771);
    at.sin_addr.s_addr = inet_addr("239.192.152.143");
    ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at);
    ip_mreq m{};
    m.imr_multiaddr.s_addr = inet_addr("239.192.152.143");
    m.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
    ::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string found;
    auto end = std::chrono::steady_clock::now() + wait;
    char buf[2048];
    while (found.empty() && std::chrono::steady_clock::now() < end) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::string d(buf, static_cast<std::size_t>(n));
        std::string lower = d;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.find(hash) != std::string::npos) found = d;
    }
    ::close(fd);
    return found;
}

TEST_F(NetworkToggles, LpdLive) {
    std::string why;
    if (!lsd_namespace(why)) GTEST_SKIP() << why;
    EXPECT_FALSE(legacy_flag("lpd-enabled"));
    auto added = add_file();
    std::string hash(added.at("torrent-added").at("hashString").as_string());
    ASSERT_TRUE(wait_status(6));  // seeding: announced from now on while LSD is on
    // Listening before LSD starts: its first announce comes at once.
    std::string got;
    std::thread listen([&] { got = lsd_announce_of(hash, std::chrono::seconds(5)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    jrpc("session_set", R"({"lpd_enabled":true})");
    listen.join();
    EXPECT_NE(got.find("Port: " + std::to_string(port())), std::string::npos) << got;
    EXPECT_TRUE(legacy_flag("lpd-enabled"));
    legacy("session-set", R"({"lpd-enabled":false})");
    EXPECT_FALSE(jrpc_flag("lpd_enabled"));
    restart();
    EXPECT_FALSE(legacy_flag("lpd-enabled"));
    legacy("session-set", R"({"lpd-enabled":true})");
    restart();
    EXPECT_TRUE(jrpc_flag("lpd_enabled"));
}

}  // namespace

namespace {

// A port free on 127.0.0.1 for TCP and UDP just now (bound to 0, then let go).
std::uint16_t free_port() {
    for (int i = 0; i < 20; ++i) {
        int t = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::getsockname(t, reinterpret_cast<sockaddr*>(&a), &len);
        int u = ::socket(AF_INET, SOCK_DGRAM, 0);
        bool ok = ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(u);
        ::close(t);
        if (ok) return ntohs(a.sin_port);
    }
    return 0;
}

// Holds 127.0.0.1:port with a socket of `type` (SOCK_STREAM listening, or SOCK_DGRAM).
struct Holder {
    int fd = -1;
    Holder(std::uint16_t port, int type) {
        fd = ::socket(AF_INET, type, 0);
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (type == SOCK_STREAM && ::listen(fd, 4) != 0)) {
            ::close(fd);
            fd = -1;
        }
    }
    ~Holder() {
        if (fd >= 0) ::close(fd);
    }
};

bool tcp_connects(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::int64_t peer_port_of(const json::object& a) {
    return a.at(a.contains("peer-port") ? "peer-port" : "peer_port").to_number<std::int64_t>();
}

}  // namespace

TEST_F(NetworkToggles, PeerPortMovesTheListenersAndIsKept) {
    cli_dht = true;  // the UDP socket carries the DHT and uTP
    restart();
    const std::uint16_t old_port = port();
    EXPECT_EQ(peer_port_of(legacy("session-get", R"({"fields":["peer-port"]})")), old_port);
    std::uint16_t p1 = free_port();
    ASSERT_NE(p1, 0);
    legacy("session-set", R"({"peer-port":)" + std::to_string(p1) + "}");
    EXPECT_EQ(peer_port_of(jrpc("session_get", R"({"fields":["peer_port"]})")), p1);
    EXPECT_EQ(port(), p1);
    EXPECT_TRUE(tcp_connects(p1));
    EXPECT_FALSE(tcp_connects(old_port));
    EXPECT_TRUE(utp_answers(p1));
    EXPECT_TRUE(dht_answers(p1));
    EXPECT_FALSE(dht_answers(old_port));
    restart();  // --listen 127.0.0.1:0 as before: the stored port wins
    EXPECT_EQ(port(), p1);
    EXPECT_EQ(peer_port_of(jrpc("session_get", R"({"fields":["peer_port"]})")), p1);
    EXPECT_TRUE(tcp_connects(p1));
}

// A stored peer-port that another program took while the daemon was down: the daemon
// starts anyway on --listen's port, answers the RPC, and keeps the stored value for the
// next start.
TEST_F(NetworkToggles, StoredPeerPortTakenAtStartFallsBackToListen) {
    std::uint16_t p1 = free_port();
    ASSERT_NE(p1, 0);
    legacy("session-set", R"({"peer-port":)" + std::to_string(p1) + "}");
    EXPECT_EQ(port(), p1);
    rpc.reset();
    daemon.reset();
    {
        Holder holder(p1, SOCK_STREAM);
        ASSERT_GE(holder.fd, 0);
        start();  // --listen 127.0.0.1:0
        ASSERT_TRUE(daemon);
        EXPECT_NE(port(), p1);
        EXPECT_NE(port(), 0);
        EXPECT_EQ(peer_port_of(jrpc("session_get", R"({"fields":["peer_port"]})")), port());
        EXPECT_TRUE(tcp_connects(port()));
        EXPECT_TRUE(utp_answers(port()));
        rpc.reset();
        daemon.reset();
    }
    start();  // the port is free again: the stored value is used
    EXPECT_EQ(port(), p1);
    EXPECT_TRUE(tcp_connects(p1));
}

TEST_F(NetworkToggles, PeerPortThatCannotBeTakenKeepsTheOldOne) {
    const std::uint16_t old_port = port();
    std::uint16_t busy_tcp = free_port();
    Holder tcp_holder(busy_tcp, SOCK_STREAM);
    ASSERT_GE(tcp_holder.fd, 0);
    auto why = legacy_error("session-set", R"({"peer-port":)" + std::to_string(busy_tcp) + "}");
    EXPECT_NE(why.find("stays " + std::to_string(old_port)), std::string::npos) << why;
    EXPECT_EQ(jrpc_error("session_set", R"({"peer_port":)" + std::to_string(busy_tcp) + "}"), -32603);
    // Only the UDP port taken: the TCP listener bound meanwhile is let go again.
    std::uint16_t busy_udp = free_port();
    Holder udp_holder(busy_udp, SOCK_DGRAM);
    ASSERT_GE(udp_holder.fd, 0);
    why = legacy_error("session-set", R"({"peer-port":)" + std::to_string(busy_udp) + "}");
    EXPECT_NE(why.find("UDP"), std::string::npos) << why;
    EXPECT_FALSE(tcp_connects(busy_udp));
    EXPECT_EQ(port(), old_port);
    EXPECT_EQ(peer_port_of(legacy("session-get", R"({"fields":["peer-port"]})")), old_port);
    EXPECT_TRUE(tcp_connects(old_port));
    EXPECT_TRUE(utp_answers(old_port));
    for (const char* bad : {R"({"peer_port":0})", R"({"peer_port":65536})", R"({"peer_port":"6881"})",
                            R"({"peer_port_random_low":70000})"})
        EXPECT_EQ(jrpc_error("session_set", bad), -32602) << bad;
    // low above high: refused, nothing stored.
    EXPECT_EQ(jrpc_error("session_set", R"({"peer_port_random_low":60000,"peer_port_random_high":50000})"), -32602);
    EXPECT_EQ(legacy("session-get").at("peer-port-random-low").to_number<std::int64_t>(), 49152);
}

TEST_F(NetworkToggles, PeerPortRandomOnStartPicksFromTheRange) {
    EXPECT_EQ(legacy("session-get").at("peer-port-random-on-start"), false);
    std::uint16_t p = free_port();
    ASSERT_NE(p, 0);
    jrpc("session_set", R"({"peer_port_random_on_start":true,"peer_port_random_low":)" + std::to_string(p) +
                            R"(,"peer_port_random_high":)" + std::to_string(p) + "}");
    auto a = jrpc("session_get", R"({"fields":["peer_port_random_on_start","peer_port_random_low","peer_port_random_high"]})");
    EXPECT_EQ(a.at("peer_port_random_on_start"), true);
    EXPECT_EQ(a.at("peer_port_random_low").to_number<std::int64_t>(), p);
    restart();
    EXPECT_EQ(port(), p);
    EXPECT_EQ(peer_port_of(legacy("session-get", R"({"fields":["peer-port"]})")), p);
    EXPECT_TRUE(tcp_connects(p));
    legacy("session-set", R"({"peer-port-random-on-start":false})");
    restart();
    EXPECT_EQ(legacy("session-get").at("peer-port-random-on-start"), false);
}

namespace {

// A stand-in NAT-PMP/PCP gateway on 127.0.0.1 that only records whether a request came.
struct GatewaySocket {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    std::uint16_t port = 0;
    GatewaySocket() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        timeval tv{0, 200000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~GatewaySocket() { ::close(fd); }
    void drain() {
        char b[64];
        while (::recv(fd, b, sizeof b, MSG_DONTWAIT) > 0) {
        }
    }
    // True when a PCP (version 2, asked first) or NAT-PMP (version 0) request arrives within
    // about 5 s.
    bool request_arrives() {
        char b[128];
        for (int i = 0; i < 25; ++i) {
            auto n = ::recv(fd, b, sizeof b, 0);
            if (n >= 2 && (b[0] == 0 || b[0] == 2)) return true;
        }
        return false;
    }
};

}  // namespace

TEST_F(NetworkToggles, PortForwardingTurnsNatPmpOnAndOffAndIsKept) {
    GatewaySocket gw;
    tweak = [&gw](piecewise::Settings& s) {
        s.dht = false;
        s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.port);
        s.upnp_igd = "http://127.0.0.1:9/desc.xml";  // nothing listens there: UPnP fails at once
    };
    restart();
    EXPECT_FALSE(legacy_flag("port-forwarding-enabled"));
    legacy("session-set", R"({"port-forwarding-enabled":true})");
    EXPECT_TRUE(legacy_flag("port-forwarding-enabled"));
    EXPECT_TRUE(jrpc_flag("port_forwarding_enabled"));
    EXPECT_TRUE(gw.request_arrives());
    restart();  // kept: mapped again at start
    EXPECT_TRUE(jrpc_flag("port_forwarding_enabled"));
    gw.drain();
    EXPECT_TRUE(gw.request_arrives());
    jrpc("session_set", R"({"port_forwarding_enabled":false})");
    EXPECT_FALSE(legacy_flag("port-forwarding-enabled"));
    restart();
    EXPECT_FALSE(jrpc_flag("port_forwarding_enabled"));
    gw.drain();
    EXPECT_FALSE(gw.request_arrives());  // off: nothing reaches the gateway at start
}

TEST_F(NetworkToggles, NatPmpAndUpnpAreEachKeptByTheCommandLineRule) {
    GatewaySocket gw;
    bool cli_natpmp = true, cli_upnp = false;
    tweak = [&](piecewise::Settings& s) {
        s.dht = false;
        s.natpmp = cli_natpmp;
        s.upnp = cli_upnp;
        s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.port);
        s.upnp_igd = "http://127.0.0.1:9/desc.xml";  // nothing listens there: UPnP fails at once
    };
    auto running = [&] { return std::pair(daemon->config().settings.natpmp, daemon->config().settings.upnp); };
    restart();  // --natpmp
    EXPECT_EQ(running(), std::pair(true, false));
    EXPECT_TRUE(jrpc_flag("port_forwarding_enabled"));
    jrpc("session_set", R"({"port_forwarding_enabled":false})");
    restart();  // the same command line: off stays off
    EXPECT_EQ(running(), std::pair(false, false));
    gw.drain();
    EXPECT_FALSE(gw.request_arrives());
    jrpc("session_set", R"({"port_forwarding_enabled":true})");  // on: NAT-PMP and UPnP
    EXPECT_EQ(running(), std::pair(true, true));
    restart();  // what ran before the restart runs after it
    EXPECT_EQ(running(), std::pair(true, true));
    cli_natpmp = false;
    cli_upnp = true;
    restart();  // --natpmp replaced by --upnp: the command line wins, for each flag
    EXPECT_EQ(running(), std::pair(false, true));
    EXPECT_TRUE(jrpc_flag("port_forwarding_enabled"));
    gw.drain();
    EXPECT_FALSE(gw.request_arrives());
    restart();  // and stays so
    EXPECT_EQ(running(), std::pair(false, true));
}

TEST_F(NetworkToggles, AStoredPortForwardingOfBeforeIsCarriedOver) {
    GatewaySocket gw;
    tweak = [&](piecewise::Settings& s) {
        s.dht = false;
        s.natpmp = true;  // --natpmp
        s.natpmp_gateway = "127.0.0.1:" + std::to_string(gw.port);
        s.upnp_igd = "http://127.0.0.1:9/desc.xml";
    };
    rpc.reset();
    daemon.reset();
    fs::remove_all(dir / "state");  // nothing of this version's first start
    fs::create_directories(dir / "state");
    {
        // What an earlier version kept after `--natpmp` and port-forwarding-enabled off.
        pw::daemon::state::Store store((dir / "state" / "state.sqlite").string());
        store.set_setting("port_forwarding_enabled_cli", "1");
        store.set_setting("port_forwarding_enabled", "0");
    }
    start();
    EXPECT_EQ(daemon->config().settings.natpmp, false);
    EXPECT_FALSE(jrpc_flag("port_forwarding_enabled"));
    restart();
    EXPECT_EQ(daemon->config().settings.natpmp, false);
    gw.drain();
    EXPECT_FALSE(gw.request_arrives());
}

TEST_F(NetworkToggles, PortForwardingWithABadGatewayIsAClearError) {
    tweak = [](piecewise::Settings& s) {
        s.dht = false;
        s.natpmp_gateway = "not-an-address";
    };
    restart();
    auto why = legacy_error("session-set", R"({"port-forwarding-enabled":true})");
    EXPECT_NE(why.find("NAT-PMP gateway"), std::string::npos) << why;
    EXPECT_EQ(jrpc_error("session_set", R"({"port_forwarding_enabled":true})"), -32603);
    EXPECT_FALSE(legacy_flag("port-forwarding-enabled"));
}
