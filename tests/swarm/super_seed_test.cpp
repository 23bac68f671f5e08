// Super-seeding (BEP 16): a super-seeding session probed by RawClients (what it announces,
// what it serves, when it offers more), and a small swarm of sessions fed by one.
#include <gtest/gtest.h>

#include <set>

#include "script_peer.hpp"
#include "swarm/super_seed.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

constexpr std::array<std::uint8_t, 8> fast_bit{0, 0, 0, 0, 0, 0, 0, 0x04};
constexpr std::array<std::uint8_t, 8> plain{};
constexpr std::uint8_t id_unchoke = 1, id_have = 4, id_bitfield = 5, id_piece = 7,
                       id_have_all = 0x0e, id_have_none = 0x0f, id_reject = 0x10,
                       id_allowed_fast = 0x11;

struct SuperSeed : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    pw::meta::Metainfo meta;
    int n = 0;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes((40 << 16) - 777, 61);  // 40 pieces of 64 KiB
        write_file(dir / "seed" / "payload.bin", data);
        torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
        meta = pw::meta::load(torrent);
        n = meta.num_pieces();
    }
    void TearDown() override { fs::remove_all(dir); }

    std::unique_ptr<Session> super_seed(const std::string& ip, piecewise::TorrentId* id_out = nullptr) {
        auto s = std::make_unique<Session>(loopback(ip, dir / "rs"));
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "seed").string();
        p.upload_only = true;
        p.super_seeding = true;
        auto id = s->add_torrent(p);
        EXPECT_TRUE(wait_for([&] { return complete(*s, id); }, std::chrono::seconds(30)));
        if (id_out) *id_out = id;
        return s;
    }
    // The HAVEs that arrive within `limit`, in order.
    static std::vector<std::uint32_t> haves(RawClient& c, std::size_t count,
                                            std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        std::vector<std::uint32_t> got;
        auto end = std::chrono::steady_clock::now() + limit;
        while (got.size() < count && std::chrono::steady_clock::now() < end) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            auto m = c.wait_for_id(id_have, std::max(left, std::chrono::milliseconds(1)));
            if (!m) break;
            got.push_back(m->a);
        }
        return got;
    }
};

}  // namespace

// A fast peer sees HAVE NONE (never HAVE ALL, a bitfield or allowed fast pieces), then
// HAVEs for distinct pieces: as the only leecher, `lone_slots` of them and no more. The
// seed serves those and rejects requests for the others.
TEST_F(SuperSeed, AnnouncesNothingThenItsOffersAndServesOnlyThose) {
    auto seed = super_seed("127.0.61.1");
    RawClient client("127.0.61.1", seed->listen_port(), "127.0.61.2");
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.handshake(meta.info_hash, fast_bit));
    auto first = client.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->id, id_have_none);
    const auto lone = static_cast<std::size_t>(pw::swarm::SuperSeed::lone_slots);
    auto offered = haves(client, lone);
    ASSERT_EQ(offered.size(), lone);
    std::set<std::uint32_t> told{offered.begin(), offered.end()};
    EXPECT_EQ(told.size(), lone) << "offers are distinct";
    ASSERT_TRUE(client.send(msg(pw::wire::MsgId::interested)));
    ASSERT_TRUE(client.wait_for_id(id_unchoke));
    std::uint32_t other = 0;
    while (told.count(other)) ++other;
    ASSERT_TRUE(client.send(request(other, 0, 16384)));
    auto rej = client.wait_for_id(id_reject);
    ASSERT_TRUE(rej);
    EXPECT_EQ(rej->a, other);
    ASSERT_TRUE(client.send(request(offered[0], 16384, 16384)));
    auto piece = client.wait_for_id(id_piece);
    ASSERT_TRUE(piece);
    EXPECT_EQ(piece->a, offered[0]);
    EXPECT_EQ(piece->body.substr(8), data.substr(offered[0] * (64u << 10) + 16384, 16384));
    for (auto& m : client.seen) {
        EXPECT_NE(m.id, id_have_all);
        EXPECT_NE(m.id, id_bitfield);
        EXPECT_NE(m.id, id_allowed_fast);
        EXPECT_FALSE(m.id == id_piece && m.a == other) << "served a piece it never offered";
    }
    EXPECT_EQ(haves(client, 1, std::chrono::milliseconds(300)).size(), 0u)
        << "no further offer before one is used up";
}

// Without the fast extension there is no HAVE NONE either: the first message is a HAVE.
TEST_F(SuperSeed, PlainPeerGetsNoBitfield) {
    auto seed = super_seed("127.0.61.3");
    RawClient client("127.0.61.3", seed->listen_port(), "127.0.61.4");
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.handshake(meta.info_hash, plain));
    auto first = client.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->id, id_have);
}

// The BEP's rule: a peer that got its piece is offered another only once the piece shows
// up at a second peer. B, alone, holds `lone_slots` offers and its next comes as soon as
// it announces one (nobody else to pass it to). A joins and is offered two pieces B was
// not; A announcing its first brings A nothing while B lacks it; B announcing it brings A
// a new offer.
TEST_F(SuperSeed, NextOfferWaitsUntilThePieceIsPassedOn) {
    auto seed = super_seed("127.0.61.5");
    const auto lone = static_cast<std::size_t>(pw::swarm::SuperSeed::lone_slots);
    RawClient b("127.0.61.5", seed->listen_port(), "127.0.61.7");
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(b.handshake(meta.info_hash, fast_bit, 'b'));
    ASSERT_TRUE(b.send(msg(pw::wire::MsgId::have_none)));
    auto offered_b = haves(b, lone);
    ASSERT_EQ(offered_b.size(), lone);
    std::set<std::uint32_t> told_b{offered_b.begin(), offered_b.end()};

    // Alone: announcing a piece brings the next offer.
    ASSERT_TRUE(b.send(have(offered_b[0])));
    auto next_b = haves(b, 1);
    ASSERT_EQ(next_b.size(), 1u) << "a lone peer waits for nothing";
    EXPECT_FALSE(told_b.count(next_b[0]));
    told_b.insert(next_b[0]);

    RawClient a("127.0.61.5", seed->listen_port(), "127.0.61.6");
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(a.handshake(meta.info_hash, fast_bit, 'a'));
    ASSERT_TRUE(a.send(msg(pw::wire::MsgId::have_none)));
    auto offered_a = haves(a, 3, std::chrono::milliseconds(1500));
    ASSERT_EQ(offered_a.size(), 2u) << "with another leecher there, two offers";
    for (auto p : offered_a) EXPECT_FALSE(told_b.count(p)) << "a is offered what nobody has yet";
    std::set<std::uint32_t> told_a{offered_a.begin(), offered_a.end()};

    // a has its first offer now, but b lacks it: no new offer for a.
    ASSERT_TRUE(a.send(have(offered_a[0])));
    EXPECT_EQ(haves(a, 1, std::chrono::milliseconds(500)).size(), 0u);
    // b took it from a: a's offer is used up.
    ASSERT_TRUE(b.send(have(offered_a[0])));
    auto again = haves(a, 1);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_FALSE(told_a.count(again[0]));
}

// One super seed, four sessions that know each other: all finish with the right bytes,
// and the seed uploads little more than one copy (an ordinary seed on loopback uploads
// most of every leecher's copy).
TEST_F(SuperSeed, SwarmFinishesWithTheSeedUploadingAboutOneCopy) {
    data = random_bytes(8 << 20, 62);  // 128 pieces of 64 KiB
    write_file(dir / "seed" / "payload.bin", data);
    torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    piecewise::TorrentId seed_id = 0;
    auto seed = super_seed("127.0.61.10", &seed_id);
    constexpr int leechers = 4;
    std::vector<std::unique_ptr<Session>> s;
    std::vector<piecewise::TorrentId> ids;
    std::vector<std::string> eps;
    for (int i = 0; i < leechers; ++i) {
        std::string ip = "127.0.61." + std::to_string(11 + i);
        s.push_back(std::make_unique<Session>(loopback(ip, dir / ("r" + std::to_string(i)))));
        eps.push_back(endpoint(ip, *s.back()));
    }
    for (int i = 0; i < leechers; ++i) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / ("dl" + std::to_string(i))).string();
        p.peers = {endpoint("127.0.61.10", *seed)};
        for (int j = 0; j < i; ++j) p.peers.push_back(eps[static_cast<std::size_t>(j)]);
        ids.push_back(s[static_cast<std::size_t>(i)]->add_torrent(p));
    }
    ASSERT_TRUE(wait_for(
        [&] {
            for (int i = 0; i < leechers; ++i)
                if (!complete(*s[static_cast<std::size_t>(i)], ids[static_cast<std::size_t>(i)]))
                    return false;
            return true;
        },
        std::chrono::seconds(60)));
    for (int i = 0; i < leechers; ++i)
        EXPECT_EQ(read_file(dir / ("dl" + std::to_string(i)) / "payload.bin"), data) << i;
    auto up = seed->status(seed_id)->uploaded;
    std::printf("super seed uploaded %.2f copies to %d leechers\n",
                double(up) / double(data.size()), leechers);
    EXPECT_GE(up, static_cast<std::int64_t>(data.size()));
    EXPECT_LT(up, static_cast<std::int64_t>(data.size()) * 3 / 2);
}
