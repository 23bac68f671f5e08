// Settings::dht_enforce_node_id (BEP 42 enforcement, `--no-dht-enforce-node-id`) end to end:
// a session bootstrapping from a DHT node whose id does not fit its address keeps it out of
// its routing table when enforcing (the default) and takes it in when not. The addresses
// must not be exempt (loopback and local networks are), so the Bep42LiveSession suite runs
// only where 198.51.100.1/.2 (TEST-NET-2) are local: tests/interop/bep42_netns_test.sh puts
// them on the lo of a network namespace of its own; elsewhere it is skipped.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <thread>

#include "swarm_util.hpp"

using namespace swarm_test;
namespace asio = boost::asio;

namespace {

bool have_test_addresses() {
    asio::io_context io;
    boost::system::error_code ec;
    asio::ip::udp::socket s(io);
    s.open(asio::ip::udp::v4(), ec);
    if (!ec) s.bind(asio::ip::udp::endpoint(asio::ip::make_address("198.51.100.2"), 0), ec);
    return !ec;
}

}  // namespace

TEST(Bep42LiveSession, EnforcementFollowsTheSetting) {
    if (!have_test_addresses())
        GTEST_SKIP() << "198.51.100.1/.2 are not local (run tests/interop/bep42_netns_test.sh)";
    for (bool enforce : {true, false}) {
        auto dir = temp_dir(enforce ? "bep42-enforce" : "bep42-off");
        {
            // The bootstrap node's id is random (a new state file): it does not fit 198.51.100.2.
            auto bs = loopback("198.51.100.2", dir / "boot" / "resume");
            bs.dht = true;
            bs.dht_bootstrap.clear();
            piecewise::Session boot(bs);
            auto as = loopback("198.51.100.1", dir / "a" / "resume");
            as.dht = true;
            as.dht_bootstrap = {endpoint("198.51.100.2", boot)};
            as.dht_enforce_node_id = enforce;
            piecewise::Session a(as);
            // The bootstrap node answered a's queries...
            ASSERT_TRUE(wait_for([&] { return boot.session_stats().dht_queries_served >= 1; }, std::chrono::seconds(20)))
                << (enforce ? "enforcing" : "not enforcing");
            if (enforce) {
                // ...and stays out of a's table (its replies are counted nonconforming).
                std::this_thread::sleep_for(std::chrono::seconds(1));
                EXPECT_EQ(a.session_stats().dht_nodes, 0u);
            } else {
                EXPECT_TRUE(wait_for([&] { return a.session_stats().dht_nodes >= 1; }, std::chrono::seconds(20)));
            }
        }  // both sessions destroyed: their DHT state files are written, nothing writes in dir
        fs::remove_all(dir);
    }
}
