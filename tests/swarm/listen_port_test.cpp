// The session's port when the settings say port 0: the system picks it for the first TCP
// listener, and every other socket (UDP for uTP and the DHT, the second listener's TCP
// and UDP) must get the same one. A port the system offers that is taken on another
// address or protocol is skipped, not fatal.
//
// The system's choice is made deterministic by narrowing the network namespace's
// ephemeral port range to four ports (an even first and an odd last one, as the kernel's
// documentation asks) and holding three of them: only in a namespace of the
// test run's own (scripts/test sets PW_NETNS), never on the host's range.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "swarm_util.hpp"

namespace {

using namespace swarm_test;
namespace asio = boost::asio;

constexpr const char* port_range_file = "/proc/sys/net/ipv4/ip_local_port_range";

// The namespace's ephemeral port range, set for one test and put back after it.
class PortRange {
  public:
    bool set(const std::string& range) {
        std::ifstream in(port_range_file);
        std::getline(in, saved_);
        if (saved_.empty()) return false;
        return write(range);
    }
    ~PortRange() {
        if (!saved_.empty()) write(saved_);
    }

  private:
    static bool write(const std::string& range) {
        std::ofstream out(port_range_file);
        out << range << '\n';
        out.flush();
        return static_cast<bool>(out);
    }
    std::string saved_;
};

class ListenPort : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!std::getenv("PW_NETNS")) GTEST_SKIP() << "needs a network namespace of its own (PW_NETNS=1)";
        if (!range.set(std::to_string(first_port) + " " + std::to_string(last_port))) GTEST_SKIP() << "cannot set " << port_range_file;
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override {
        if (!dir.empty()) fs::remove_all(dir);
    }
    piecewise::Settings settings(const std::string& listen) {
        auto s = loopback("127.0.0.2", dir / "resume");
        s.listen = listen;
        return s;
    }
    // Sockets (UDP sockets or TCP listeners) on ADDRESS holding every port of the range
    // but the last, which is then the only one the session can have.
    template <class Socket>
    std::vector<Socket> hold_all_but_the_last(const std::string& address) {
        std::vector<Socket> held;
        for (std::uint16_t port = first_port; port < last_port; ++port)
            held.emplace_back(io, typename Socket::endpoint_type(asio::ip::make_address(address), port));
        return held;
    }
    static constexpr std::uint16_t first_port = 45000, last_port = 45003;
    PortRange range;
    fs::path dir;
    asio::io_context io;
};

TEST_F(ListenPort, AnyPortSkipsPortsTakenOnUdp) {
    auto held = hold_all_but_the_last<asio::ip::udp::socket>("127.0.0.2");
    auto s = settings("127.0.0.2:0");
    s.utp = true;
    piecewise::Session session(s);
    EXPECT_EQ(session.listen_port(), last_port);
}

TEST_F(ListenPort, AnyPortSkipsPortsTakenOnTheSecondListener) {
    auto held = hold_all_but_the_last<asio::ip::tcp::acceptor>("::1");
    auto s = settings("127.0.0.2:0");
    s.listen2 = "[::1]:0";
    piecewise::Session session(s);
    EXPECT_EQ(session.listen_port(), last_port);
}

TEST_F(ListenPort, AGivenPortTakenOnUdpIsAnError) {
    using udp = asio::ip::udp;
    udp::socket a(io, udp::endpoint(asio::ip::make_address("127.0.0.2"), first_port));
    auto s = settings("127.0.0.2:" + std::to_string(first_port));
    s.utp = true;
    EXPECT_THROW(piecewise::Session{s}, piecewise::Error);
}

}  // namespace
