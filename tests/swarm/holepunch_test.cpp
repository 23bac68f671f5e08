// BEP 55 holepunching between sessions on 127.0.56.x. A and B sit behind a simulated NAT
// (Settings::simulate_nat: no incoming TCP, a uTP SYN only from an endpoint dialled
// recently); C is reachable and connected to both. B seeds; C holds half of the data, so
// A completes only if it reaches B. A learns B through C's PEX, its direct dial fails,
// it asks C for a rendezvous, C sends `connect` to both, and both dial over uTP.
// Without a relay that speaks ut_holepunch (C with uTP off) A cannot reach B.
#include <gtest/gtest.h>

#include <algorithm>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Event;
using piecewise::EventType;
using piecewise::Session;

namespace {

struct Holepunch : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(1 << 20, 55);
        write_file(dir / "full" / "payload.bin", data);
        torrent = make_torrent(dir / "full" / "payload.bin", dir / "t.torrent", 32 << 10);
        write_file(dir / "half" / "payload.bin", data.substr(0, data.size() / 2));
    }
    void TearDown() override { fs::remove_all(dir); }

    AddTorrentParams params(const fs::path& save, std::vector<std::string> peers, bool upload_only) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }

    struct Outcome {
        bool a_complete = false;
        std::int64_t b_uploaded = 0;  // payload B sent: to A only (C is upload-only)
        int a_known = 0;            // peers A knows of (C, and B once C's PEX named it)
        std::vector<std::string> a_events, c_events;
    };

    // C at .2 (uTP on per `relay_utp`), B at .3 behind NAT (seed, no PEX, so it never
    // learns A by itself), A at .4 behind NAT.
    Outcome run(bool relay_utp, std::chrono::seconds wait) {
        Outcome out;
        auto cs = loopback("127.0.56.2", dir / "rc");
        cs.utp = relay_utp;
        Session c(cs);
        auto cid = c.add_torrent(params(dir / "half", {}, true));
        EXPECT_TRUE(wait_for([&] { auto st = c.status(cid); return st && st->pieces_have > 0; },
                             std::chrono::seconds(20)));
        auto bs = loopback("127.0.56.3", dir / "rb");
        bs.simulate_nat = true;
        bs.pex = false;
        Session b(bs);
        auto bid = b.add_torrent(params(dir / "full", {endpoint("127.0.56.2", c)}, true));
        auto as = loopback("127.0.56.4", dir / "ra");
        as.simulate_nat = true;
        Session a(as);
        auto aid = a.add_torrent(params(dir / "dl", {endpoint("127.0.56.2", c)}, false));
        auto collect = [](Session& s, std::vector<std::string>& into) {
            for (auto& e : s.pop_events())
                if (e.type == EventType::holepunch) into.push_back(e.message);
        };
        out.a_complete = wait_for([&] {
            collect(a, out.a_events);
            collect(c, out.c_events);
            return complete(a, aid);
        }, wait);
        if (auto st = a.status(aid)) out.a_known = st->known_peers;
        if (auto st = b.status(bid)) out.b_uploaded = st->uploaded;
        collect(a, out.a_events);
        collect(c, out.c_events);
        a.stop();
        b.stop();
        c.stop();
        return out;
    }
};

bool any_with(const std::vector<std::string>& v, const std::string& part) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

}  // namespace

TEST_F(Holepunch, RelayIntroducesTwoNattedPeers) {
    // C's first PEX goes out five seconds after its torrent starts; A's dial to B fails
    // at once (B's NAT closes TCP), then the rendezvous and the uTP connects follow.
    auto out = run(true, std::chrono::seconds(60));
    ASSERT_TRUE(out.a_complete);
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_GE(out.b_uploaded, std::int64_t(data.size() / 2));
    EXPECT_TRUE(any_with(out.a_events, "holepunch: asked 127.0.56.2:")) << ::testing::PrintToString(out.a_events);
    EXPECT_TRUE(any_with(out.a_events, "holepunch: connecting to 127.0.56.3:"));
    EXPECT_TRUE(any_with(out.c_events, "holepunch: relayed")) << ::testing::PrintToString(out.c_events);
}

TEST_F(Holepunch, NatBlocksWithoutRelay) {
    // The same swarm with a relay that does not speak ut_holepunch (no uTP): A gets C's
    // half and learns B by PEX, but its dials to B never get in.
    auto out = run(false, std::chrono::seconds(25));
    EXPECT_FALSE(out.a_complete);
    EXPECT_GE(out.a_known, 2);
    EXPECT_EQ(out.b_uploaded, 0);
    EXPECT_FALSE(any_with(out.a_events, "holepunch: asked"));
}
