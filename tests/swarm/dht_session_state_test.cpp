// A Session's DHT routing table (Settings::dht_state_file) is on disk when Session::stop()
// returns: a program may read, move or delete the state directory right after it, while
// the Session object still exists. The save itself is queued by the DHT's stop() and
// written by a thread of its own; stop() waits for it.
#include <gtest/gtest.h>

#include <chrono>

#include "bencode/bencode.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;

TEST(DhtSessionState, OnDiskWhenStopReturns) {
    auto dir = temp_dir("dht-state-stop");
    auto settings = [&](const std::string& ip, const std::string& name) {
        auto s = loopback(ip, dir / name / "resume");
        s.dht = true;
        s.dht_bootstrap = {};
        s.dht_state_file = (dir / name / "dht.state").string();
        return s;
    };
    piecewise::Session boot(settings("127.0.0.2", "boot"));
    // Several sessions, each stopped and its directory removed at once: the writer thread
    // racing the removal shows as "Directory not empty" (or a missing file) in some of them.
    for (int i = 0; i < 20; ++i) {
        const std::string name = "a" + std::to_string(i);
        auto s = settings("127.0.0.3", name);
        s.dht_bootstrap = {endpoint("127.0.0.2", boot)};
        piecewise::Session a(s);
        ASSERT_TRUE(wait_for([&] { return a.session_stats().dht_nodes >= 1; }, std::chrono::seconds(20)))
            << name;
        a.stop();
        const auto state = dir / name / "dht.state";
        ASSERT_TRUE(fs::exists(state)) << name;
        EXPECT_FALSE(fs::exists(dir / name / "dht.state.tmp")) << name;
        // The table it wrote holds the bootstrap node.
        const std::string text = read_file(state);  // the document refers to it
        auto doc = pw::bencode::decode(text);
        auto nodes = doc.root().find_string("nodes");
        ASSERT_TRUE(nodes) << name;
        EXPECT_EQ(nodes->size() % 26, 0u) << name;
        EXPECT_GE(nodes->size(), 26u) << name;
        std::error_code ec;
        fs::remove_all(dir / name, ec);
        EXPECT_FALSE(ec) << name << ": " << ec.message();
    }
    boot.stop();
    fs::remove_all(dir);
}
