// An in-process mainline DHT of 100+ nodes on 127.0.0.1 (distinct ports, one io_context),
// bootstrapped from 3 nodes: one node announces a peer for an info-hash, others find it
// with get_peers. Prints hops and time. Every wait is bounded by run_for.
//
// All nodes share 127.0.0.1, so the per-address query rate limit is raised here: with
// the default of 50/s every node would be throttled by the others' combined traffic.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "dht/node_id.hpp"
#include "dht/udp_dht_node.hpp"

using namespace pw::dht;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

constexpr int node_count = 120;
constexpr int router_count = 3;

DhtSettings swarm_settings() {
    DhtSettings s;
    s.max_queries_per_second_per_ip = 1'000'000;
    // Generous for 120 nodes on one thread of a loaded 2-core machine under ASan: a reply
    // that is merely late must not count as a dead node (the routing table drops those).
    s.query_timeout = 2s;
    s.lookup_timeout = 10s;
    s.maintenance_interval = 250ms;
    s.bootstrap_retry = 500ms;
    return s;
}

// Runs the io_context until pred() holds or `limit` passes; returns pred().
bool run_until(asio::io_context& io, std::chrono::milliseconds limit,
               const std::function<bool()>& pred) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
        io.restart();
        io.run_for(20ms);
    }
    return pred();
}

struct Swarm {
    asio::io_context io;
    std::vector<std::unique_ptr<UdpDhtNode>> nodes;

    explicit Swarm(int n) {
        auto lo = asio::ip::make_address("127.0.0.1");
        std::vector<std::string> routers;
        for (int i = 0; i < n; ++i) {
            DhtSettings s = swarm_settings();
            if (i > 0) {
                // Every node knows the routers before it, as real clients ship with
                // several well-known routers. (With one router each, the young network
                // splits into one cluster per router whose members know hardly anyone
                // of the other clusters; a lookup then converges, correctly, on the
                // closest nodes of its own cluster, which may not be the announcer's.)
                s.bootstrap.assign(routers.begin(), routers.end());
            }
            nodes.push_back(std::make_unique<UdpDhtNode>(io, udp::endpoint(lo, 0), s));
            if (i < router_count)
                routers.push_back("127.0.0.1:" +
                                  std::to_string(nodes.back()->local_endpoint().port()));
        }
        for (auto& node : nodes) node->start();
    }

    std::size_t min_table() const {
        std::size_t m = SIZE_MAX;
        for (const auto& n : nodes) m = std::min(m, n->node().routing_table_size());
        return m;
    }
    double avg_table() const {
        double sum = 0;
        for (const auto& n : nodes) sum += static_cast<double>(n->node().routing_table_size());
        return sum / static_cast<double>(nodes.size());
    }
};

}  // namespace

TEST(DhtSwarm, AnnounceThenFindAcrossHundredNodes) {
    Swarm sw(node_count);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(sw.io, 60s, [&] { return sw.min_table() >= 8; }))
        << "smallest routing table: " << sw.min_table();
    // Let bootstrap lookups and verification pings settle a little.
    run_until(sw.io, 1s, [] { return false; });
    auto boot_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    std::printf(
        "[dht swarm] %d nodes bootstrapped from %d in %lld ms; routing table min %zu avg %.1f\n",
        node_count, router_count, static_cast<long long>(boot_ms.count()), sw.min_table(),
        sw.avg_table());

    pw::Sha1Digest info_hash = random_node_id();
    const std::uint16_t peer_port = 51413;
    auto& announcer = sw.nodes[57]->node();

    bool announced = false;
    LookupStats ann{};
    announcer.get_peers_with_stats(
        info_hash, peer_port, [](std::vector<udp::endpoint>) {},
        [&](const LookupStats& st) {
            ann = st;
            announced = true;
        });
    ASSERT_TRUE(run_until(sw.io, 15s, [&] { return announced; }));
    std::printf(
        "[dht swarm] announce: %zu get_peers queries, %zu replies, announced to %zu nodes, "
        "%d hops, %lld ms\n",
        ann.queries, ann.responses, ann.announced, ann.hops,
        static_cast<long long>(ann.elapsed.count()));
    EXPECT_GE(ann.announced, 1u);
    EXPECT_LE(ann.announced, 8u);

    // Several other nodes look the info-hash up; each must find the announced peer.
    for (int idx : {3, 91, 119, 10}) {
        auto& seeker = sw.nodes[static_cast<std::size_t>(idx)]->node();
        bool done = false, found = false;
        LookupStats st{};
        auto start = std::chrono::steady_clock::now();
        std::chrono::milliseconds first_peer{-1};
        seeker.get_peers_with_stats(
            info_hash, 0,
            [&](std::vector<udp::endpoint> peers) {
                for (const auto& p : peers)
                    if (p == udp::endpoint(asio::ip::make_address("127.0.0.1"), peer_port) &&
                        !found) {
                        found = true;
                        first_peer = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start);
                    }
            },
            [&](const LookupStats& s) {
                st = s;
                done = true;
            });
        ASSERT_TRUE(run_until(sw.io, 15s, [&] { return done; }));
        std::printf(
            "[dht swarm] node %d get_peers: found=%d, %d hops, first peer after %lld ms, "
            "converged after %lld ms, %zu queries\n",
            idx, found ? 1 : 0, st.hops, static_cast<long long>(first_peer.count()),
            static_cast<long long>(st.elapsed.count()), st.queries);
        EXPECT_TRUE(found) << "node " << idx << " did not find the announced peer";
        EXPECT_EQ(st.peers, 1u);
        EXPECT_GE(st.hops, 1);
        EXPECT_LT(st.elapsed, 10s);
    }

    // An info-hash nobody announced gives no peers, and the lookup still ends.
    bool done = false;
    std::size_t got = 0;
    sw.nodes[5]->node().get_peers(
        random_node_id(), 0, [&](std::vector<udp::endpoint> p) { got += p.size(); },
        [&] { done = true; });
    ASSERT_TRUE(run_until(sw.io, 15s, [&] { return done; }));
    EXPECT_EQ(got, 0u);

    std::uint64_t served = 0, timeouts = 0, malformed = 0;
    for (const auto& n : sw.nodes) {
        served += n->node().queries_served();
        timeouts += n->node().stats().timeouts;
        malformed += n->node().stats().malformed;
    }
    std::printf("[dht swarm] queries served in total %llu, timeouts %llu\n",
                static_cast<unsigned long long>(served), static_cast<unsigned long long>(timeouts));
    EXPECT_EQ(malformed, 0u);
    for (auto& n : sw.nodes) n->stop();
}
