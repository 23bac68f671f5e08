// BEP 55 holepunching between sessions on 127.0.56.x. A and B sit behind a simulated NAT
// (Settings::simulate_nat: no incoming TCP, a uTP SYN only from an endpoint dialled
// recently); C is reachable and connected to both. B seeds; C holds half of the data, so
// A completes only if it reaches B. A learns B through C's PEX, its direct dial fails,
// it asks C for a rendezvous, C sends `connect` to both, and both dial over uTP.
// Without a relay that speaks ut_holepunch (C with uTP off) A cannot reach B.
// The relay's answers (every error code, connect to both, silence for a peer that did not
// announce the extension and beyond the rate) are checked with raw wire clients.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>

#include "meta/metainfo.hpp"
#include "script_peer.hpp"
#include "swarm_util.hpp"
#include "wire/holepunch.hpp"
#include "wire/messages.hpp"

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

namespace {

using pw::wire::HolepunchMsg;

// A raw client that announces ut_holepunch (as id 7, when `holepunch`) and listen port
// `port`, and learns the session's id for it.
struct HpClient {
    RawClient raw;
    std::uint8_t their_id = 0;
    bool ok = false;
    HpClient(const std::string& to_ip, std::uint16_t to_port, const std::string& local_ip,
             const pw::Sha1Digest& ih, std::uint16_t port, bool holepunch)
        : raw(to_ip, to_port, local_ip) {
        if (!raw.ok()) return;
        std::array<std::uint8_t, 8> reserved{};
        reserved[5] = 0x10;  // BEP 10
        auto h = raw.handshake(ih, reserved, static_cast<char>('0' + port % 10));
        if (!h) return;
        pw::wire::ExtHandshake eh;
        eh.p = port;
        if (holepunch) eh.m.emplace_back("ut_holepunch", 7);
        eh.m.emplace_back("ut_pex", 1);
        std::string msg;
        pw::wire::put_extended(msg, 0, pw::wire::encode_ext_handshake(eh));
        raw.send(msg);
        for (int i = 0; i < 20 && their_id == 0; ++i) {
            auto m = raw.wait_for_id(20, std::chrono::seconds(5));
            if (!m) return;
            if (m->body.empty() || m->body[0] != 0) continue;
            auto theirs = pw::wire::decode_ext_handshake(std::string_view(m->body).substr(1));
            if (!theirs) return;
            for (auto& [name, id] : theirs->m)
                if (name == "ut_holepunch") their_id = static_cast<std::uint8_t>(id);
            break;
        }
        ok = true;
    }
    void rendezvous(const std::string& ip, std::uint16_t port, std::uint8_t id = 0) {
        HolepunchMsg m;
        m.type = HolepunchMsg::rendezvous;
        auto a = boost::asio::ip::make_address_v4(ip).to_bytes();
        std::copy(a.begin(), a.end(), m.addr.begin());
        m.port = port;
        std::string out;
        pw::wire::put_extended(out, id != 0 ? id : their_id, pw::wire::encode_holepunch(m));
        raw.send(out);
    }
    // The next ut_holepunch message sent to us (our id 7), within `limit`.
    std::optional<HolepunchMsg> next(std::chrono::milliseconds limit) {
        auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            auto m = raw.wait_for_id(20, std::max(left, std::chrono::milliseconds(1)));
            if (!m) return std::nullopt;
            if (!m->body.empty() && static_cast<std::uint8_t>(m->body[0]) == 7)
                return pw::wire::decode_holepunch(std::string_view(m->body).substr(1));
        }
        return std::nullopt;
    }
};

std::string ip_of(const HolepunchMsg& m) {
    return boost::asio::ip::address_v4({m.addr[0], m.addr[1], m.addr[2], m.addr[3]}).to_string();
}

}  // namespace

TEST_F(Holepunch, RelayAnswers) {
    Session c(loopback("127.0.56.20", dir / "rc"));
    AddTorrentParams p = params(dir / "full", {}, true);
    auto cid = c.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(c, cid); }, std::chrono::seconds(20)));
    const auto ih = pw::meta::load(torrent).info_hash;
    const auto cport = c.listen_port();
    const auto ms = std::chrono::milliseconds(3000);

    HpClient x("127.0.56.20", cport, "127.0.56.21", ih, 7001, true);
    ASSERT_TRUE(x.ok);
    ASSERT_NE(x.their_id, 0) << "the extension handshake announces ut_holepunch";
    HpClient y("127.0.56.20", cport, "127.0.56.22", ih, 7002, false);  // no ut_holepunch
    HpClient z("127.0.56.20", cport, "127.0.56.23", ih, 7003, true);
    ASSERT_TRUE(y.ok && z.ok);
    ASSERT_TRUE(wait_for([&] { return c.status(cid)->peers == 3; }, std::chrono::seconds(10)));

    struct Case {
        std::string ip;
        std::uint16_t port;
        std::uint32_t code;
    };
    const Case cases[] = {
        {"127.0.56.99", 1234, HolepunchMsg::not_connected},
        {"127.0.56.20", cport, HolepunchMsg::no_self},
        {"127.0.56.23", 0, HolepunchMsg::no_such_peer},
        {"127.0.56.21", 7001, HolepunchMsg::no_such_peer},  // the sender itself
        {"127.0.56.22", 7002, HolepunchMsg::no_support},
    };
    for (const auto& k : cases) {
        x.rendezvous(k.ip, k.port);
        auto m = x.next(ms);
        ASSERT_TRUE(m) << k.ip << ":" << k.port;
        EXPECT_EQ(m->type, HolepunchMsg::error);
        EXPECT_EQ(m->error_code, k.code) << k.ip << ":" << k.port;
        EXPECT_EQ(ip_of(*m), k.ip);  // the rendezvous's address fields, repeated
        EXPECT_EQ(m->port, k.port);
    }
    // A target that speaks it: connect to both, each naming the other's listen endpoint.
    x.rendezvous("127.0.56.23", 7003);
    auto to_x = x.next(ms);
    ASSERT_TRUE(to_x);
    EXPECT_EQ(to_x->type, HolepunchMsg::connect);
    EXPECT_EQ(ip_of(*to_x), "127.0.56.23");
    EXPECT_EQ(to_x->port, 7003);
    auto to_z = z.next(ms);
    ASSERT_TRUE(to_z);
    EXPECT_EQ(to_z->type, HolepunchMsg::connect);
    EXPECT_EQ(ip_of(*to_z), "127.0.56.21");
    EXPECT_EQ(to_z->port, 7001);
    // Six rendezvous so far; two more are answered, then the rate limit drops them.
    for (int i = 0; i < 2; ++i) {
        x.rendezvous("127.0.56.99", 1234);
        EXPECT_TRUE(x.next(ms)) << i;
    }
    x.rendezvous("127.0.56.99", 1234);
    EXPECT_FALSE(x.next(std::chrono::milliseconds(1500))) << "over the rate: no answer";
    // A peer that did not announce ut_holepunch is ignored, whatever id it uses.
    y.rendezvous("127.0.56.99", 1234, x.their_id);
    EXPECT_FALSE(y.next(std::chrono::milliseconds(1500)));
    EXPECT_EQ(c.status(cid)->peers, 3) << "nobody was disconnected";
}
