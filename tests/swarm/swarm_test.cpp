// In-process swarms on 127.0.0.x: whole downloads through real sockets, checked
// byte for byte against the original.
#include <gtest/gtest.h>

#include <map>

#include "fake_peer.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct Swarm : ::testing::Test {
    fs::path dir;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override { fs::remove_all(dir); }

    AddTorrentParams params(const fs::path& torrent, const fs::path& save,
                            std::vector<std::string> peers = {}, bool upload_only = false) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }
    // A loopback session with the DHT on, bootstrapping from `boot` only.
    piecewise::Settings with_dht(const std::string& ip, const std::string& name,
                                 std::vector<std::string> boot) {
        auto s = loopback(ip, dir / name);
        s.dht = true;
        s.dht_bootstrap = std::move(boot);
        return s;
    }
};

bool has_event(std::vector<piecewise::Event>& log, Session& s, piecewise::EventType t,
               const std::string& text = "") {
    for (auto& e : s.pop_events()) log.push_back(e);
    for (auto& e : log)
        if (e.type == t && e.message.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_F(Swarm, OneSeedFiveLeechers) {
    std::string data = random_bytes(6 << 20, 1);
    write_file(dir / "seed" / "payload.bin", data);
    auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);

    Session seed(loopback("127.0.0.2", dir / "r-seed"));
    auto sid = seed.add_torrent(params(torrent, dir / "seed", {}, true));
    std::vector<std::unique_ptr<Session>> leechers;
    std::vector<piecewise::TorrentId> ids;
    std::vector<std::string> known = {endpoint("127.0.0.2", seed)};
    for (int i = 0; i < 5; ++i) {
        std::string ip = "127.0.0." + std::to_string(3 + i);
        leechers.push_back(std::make_unique<Session>(loopback(ip, dir / ("r" + std::to_string(i)))));
        ids.push_back(leechers.back()->add_torrent(
            params(torrent, dir / ("l" + std::to_string(i)), known)));
        known.push_back(endpoint(ip, *leechers.back()));
    }
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(wait_for([&] { return complete(*leechers[i], ids[i]); }, limit)) << "leecher " << i;
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(read_file(dir / ("l" + std::to_string(i)) / "payload.bin"), data) << "leecher " << i;
    EXPECT_GE(seed.status(sid)->uploaded, std::int64_t(data.size()));
}

TEST_F(Swarm, FiveSeedsOneLeecher) {
    std::string data = random_bytes(8 << 20, 2);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 32 << 10);
    std::vector<std::unique_ptr<Session>> seeds;
    std::vector<piecewise::TorrentId> sids;
    std::vector<std::string> peers;
    for (int i = 0; i < 5; ++i) {
        std::string ip = "127.0.1." + std::to_string(2 + i);
        seeds.push_back(std::make_unique<Session>(loopback(ip, dir / ("rs" + std::to_string(i)))));
        sids.push_back(seeds.back()->add_torrent(params(torrent, dir / "src", {}, true)));
        peers.push_back(endpoint(ip, *seeds.back()));
    }
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(wait_for([&] { return complete(*seeds[i], sids[i]); }, limit));
    Session leecher(loopback("127.0.1.10", dir / "rl"));
    auto id = leecher.add_torrent(params(torrent, dir / "dl", peers));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    int contributed = 0;
    for (int i = 0; i < 5; ++i) contributed += seeds[i]->status(sids[i])->uploaded > 0;
    EXPECT_GE(contributed, 3) << "pieces should come from several seeds at once";
}

TEST_F(Swarm, CorruptPeerIsBannedAndDataStillCorrect) {
    std::string data = random_bytes(4 << 20, 3);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
    FakePeer liar("127.0.2.2", pw::meta::load(torrent), data, {.corrupt = true});
    Session seed(loopback("127.0.2.3", dir / "rs"));
    seed.add_torrent(params(torrent, dir / "src", {}, true));
    Session leecher(loopback("127.0.2.4", dir / "rl"));
    auto id = leecher.add_torrent(params(
        torrent, dir / "dl", {"127.0.2.2:" + std::to_string(liar.port()), endpoint("127.0.2.3", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    auto st = leecher.status(id);
    EXPECT_GT(liar.blocks_sent(), 0);
    EXPECT_GE(st->hash_failures, 1);
    EXPECT_GE(st->banned_peers, 1);
}

TEST_F(Swarm, PeerDroppingMidPieceDoesNotStall) {
    std::string data = random_bytes(3 << 20, 4);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
    FakePeer dropper("127.0.3.2", pw::meta::load(torrent), data, {.drop_after_blocks = 3});
    Session seed(loopback("127.0.3.3", dir / "rs"));
    seed.add_torrent(params(torrent, dir / "src", {}, true));
    Session leecher(loopback("127.0.3.4", dir / "rl"));
    auto id = leecher.add_torrent(params(
        torrent, dir / "dl", {"127.0.3.2:" + std::to_string(dropper.port()), endpoint("127.0.3.3", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_GE(dropper.blocks_sent(), 1);
}

TEST_F(Swarm, MultiFileWithSpanningPiecesAndEmptyFile) {
    std::map<std::string, std::string> files = {{"a.bin", random_bytes(100000, 5)},
                                                {"empty.txt", ""},
                                                {"b.bin", random_bytes(70001, 6)},
                                                {"sub/c.bin", random_bytes(200003, 7)},
                                                {"sub/deeper/d.bin", random_bytes(5, 8)}};
    for (auto& [name, content] : files) write_file(dir / "src" / "album" / name, content);
    auto torrent = make_torrent(dir / "src" / "album", dir / "t.torrent", 32 << 10);
    Session seed(loopback("127.0.4.2", dir / "rs"));
    auto sid = seed.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    Session leecher(loopback("127.0.4.3", dir / "rl"));
    auto id = leecher.add_torrent(params(torrent, dir / "dl", {endpoint("127.0.4.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    for (auto& [name, content] : files) {
        ASSERT_TRUE(fs::exists(dir / "dl" / "album" / name)) << name;
        EXPECT_EQ(read_file(dir / "dl" / "album" / name), content) << name;
    }
}

TEST_F(Swarm, RestartHalfwayKeepsVerifiedPieces) {
    std::string data = random_bytes(4 << 20, 9);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
    auto meta = pw::meta::load(torrent);
    int have_before = 0;
    {
        // The only source sends half of the blocks and then hangs up.
        FakePeer half("127.0.5.2", meta, data, {.drop_after_blocks = meta.num_pieces() * 2});
        Session leecher(loopback("127.0.5.3", dir / "rl"));
        auto id = leecher.add_torrent(params(torrent, dir / "dl", {"127.0.5.2:" + std::to_string(half.port())}));
        ASSERT_TRUE(wait_for([&] {
            auto st = leecher.status(id);
            return st && st->pieces_have >= meta.num_pieces() / 2 - 2 && half.connections() > 0 &&
                   half.blocks_sent() >= meta.num_pieces() * 2;
        }, limit));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        have_before = leecher.status(id)->pieces_have;
        leecher.stop();
    }
    ASSERT_GT(have_before, 0);
    ASSERT_LT(have_before, meta.num_pieces());
    ASSERT_TRUE(fs::exists(dir / "rl" / (meta.info_hash.hex() + ".resume")));

    Session seed(loopback("127.0.5.4", dir / "rs"));
    seed.add_torrent(params(torrent, dir / "src", {}, true));
    Session again(loopback("127.0.5.3", dir / "rl"));
    auto id = again.add_torrent(params(torrent, dir / "dl", {endpoint("127.0.5.4", seed)}));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] { return has_event(log, again, piecewise::EventType::torrent_checked); }, limit));
    EXPECT_TRUE(has_event(log, again, piecewise::EventType::torrent_checked, "resume data"));
    ASSERT_TRUE(wait_for([&] { return complete(again, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    auto st = again.status(id);
    EXPECT_LE(st->downloaded, std::int64_t(meta.num_pieces() - have_before + 1) * meta.piece_length)
        << "verified pieces must not be downloaded again";
}

TEST_F(Swarm, RestartWithoutResumeDataRechecksExistingFiles) {
    std::string data = random_bytes(2 << 20, 10);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
    // Half of the data already on disk, one piece of it damaged; no resume file.
    std::string partial = data.substr(0, 1 << 20);
    partial[70000] ^= 1;
    write_file(dir / "dl" / "payload.bin", partial);
    Session seed(loopback("127.0.6.2", dir / "rs"));
    seed.add_torrent(params(torrent, dir / "src", {}, true));
    Session leecher(loopback("127.0.6.3", dir / "rl"));
    auto id = leecher.add_torrent(params(torrent, dir / "dl", {endpoint("127.0.6.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    auto st = leecher.status(id);
    EXPECT_LE(st->downloaded, std::int64_t((1 << 20) + (64 << 10)));
}

TEST_F(Swarm, StaleResumeDataRechecksOnlyTheChangedFiles) {
    // Three files of four 64 KiB pieces each. After a clean stop, b.bin is damaged behind
    // the engine's back: the restart trusts the record for a.bin and c.bin and hashes only
    // b.bin's four pieces, finding the damaged one.
    std::map<std::string, std::string> files = {{"a.bin", random_bytes(256 << 10, 21)},
                                                {"b.bin", random_bytes(256 << 10, 22)},
                                                {"c.bin", random_bytes(256 << 10, 23)}};
    for (auto& [name, content] : files) write_file(dir / "src" / "set" / name, content);
    auto torrent = make_torrent(dir / "src" / "set", dir / "t.torrent", 64 << 10);
    {
        Session first(loopback("127.0.6.4", dir / "rs"));
        auto id = first.add_torrent(params(torrent, dir / "src", {}, true));
        std::vector<piecewise::Event> log;
        ASSERT_TRUE(wait_for(
            [&] { return has_event(log, first, piecewise::EventType::torrent_checked); }, limit));
        EXPECT_TRUE(has_event(log, first, piecewise::EventType::torrent_checked,
                              "12 of 12 pieces present (checked)"));
        ASSERT_TRUE(complete(first, id));
        first.stop();
    }
    std::string damaged = files["b.bin"];
    damaged[(64 << 10) + 7] ^= 1;  // b.bin's second piece, piece 5 of the torrent
    write_file(dir / "src" / "set" / "b.bin", damaged);

    Session again(loopback("127.0.6.4", dir / "rs"));
    auto id = again.add_torrent(params(torrent, dir / "src", {}, true));
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for(
        [&] { return has_event(log, again, piecewise::EventType::torrent_checked); }, limit));
    EXPECT_TRUE(
        has_event(log, again, piecewise::EventType::torrent_checked,
                  "11 of 12 pieces present (resume data, 4 pieces of changed files checked)"));
    auto st = again.status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->pieces_have, 11);
}

TEST_F(Swarm, TinyWriteCacheStillCompletes) {
    // With room for only two pieces in memory, requesting pauses whenever the cache is
    // full and must resume as soon as hashed pieces leave it.
    std::string data = random_bytes(4 << 20, 12);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
    Session seed(loopback("127.0.8.2", dir / "rs"));
    seed.add_torrent(params(torrent, dir / "src", {}, true));
    auto settings = loopback("127.0.8.3", dir / "rl");
    settings.cache_bytes = 128 << 10;
    Session leecher(settings);
    auto id = leecher.add_torrent(params(torrent, dir / "dl", {endpoint("127.0.8.2", seed)}));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(20)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
}

TEST_F(Swarm, MagnetFetchesMetadataFromPeersThenDownloads) {
    std::map<std::string, std::string> files = {{"one.bin", random_bytes(6000000, 13)},
                                                {"two/three.bin", random_bytes(8000001, 14)}};
    for (auto& [name, content] : files) write_file(dir / "src" / "set" / name, content);
    auto torrent = make_torrent(dir / "src" / "set", dir / "t.torrent", 16 << 10);  // metadata > 16 KiB
    auto meta = pw::meta::load(torrent);
    ASSERT_GT(meta.info_bytes.size(), 16384u);
    Session seed(loopback("127.0.9.2", dir / "rs"));
    auto sid = seed.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    Session leecher(loopback("127.0.9.3", dir / "rl"));
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:" + meta.info_hash.hex() + "&dn=set&x.pe=" + endpoint("127.0.9.2", seed);
    p.save_path = (dir / "dl").string();
    p.save_torrent = (dir / "fetched.torrent").string();
    auto id = leecher.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    for (auto& [name, content] : files) EXPECT_EQ(read_file(dir / "dl" / "set" / name), content) << name;
    ASSERT_TRUE(wait_for([&] { return fs::exists(dir / "fetched.torrent"); }, std::chrono::seconds(5)));
    EXPECT_EQ(pw::meta::load(dir / "fetched.torrent").info_hash, meta.info_hash);
}

TEST_F(Swarm, MagnetWithTheDhtAsOnlyPeerSource) {
    std::string data = random_bytes(2 << 20, 15);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 32 << 10);
    auto meta = pw::meta::load(torrent);
    // A node everyone bootstraps from, a seed that announces itself, a leecher with only a magnet.
    Session boot(with_dht("127.0.10.1", "rb", {}));
    std::string boot_ep = endpoint("127.0.10.1", boot);
    Session seed(with_dht("127.0.10.2", "rs", {boot_ep}));
    auto sid = seed.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    std::this_thread::sleep_for(std::chrono::seconds(2));  // its first DHT announce
    Session leecher(with_dht("127.0.10.3", "rl", {boot_ep}));
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:" + meta.info_hash.hex();
    p.save_path = (dir / "dl").string();
    auto id = leecher.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
}

// The seed's first DHT announce reaches nobody (its bootstrap node is not up yet): it must
// announce again soon, not 15 minutes later, so a leecher with only a magnet finds it.
TEST_F(Swarm, DhtAnnounceThatNoNodeHeardIsRetried) {
    std::string data = random_bytes(1 << 20, 16);
    write_file(dir / "src" / "payload.bin", data);
    auto torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 32 << 10);
    auto meta = pw::meta::load(torrent);
    const std::string boot_ep = "127.0.12.1:41873";
    Session seed(with_dht("127.0.12.2", "rs", {boot_ep}));
    auto sid = seed.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    std::this_thread::sleep_for(std::chrono::seconds(3));  // its first lookup: no answer
    auto boot_settings = with_dht("127.0.12.1", "rb", {});
    boot_settings.listen = boot_ep;
    Session boot(boot_settings);
    Session leecher(with_dht("127.0.12.3", "rl", {boot_ep}));
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:" + meta.info_hash.hex();
    p.save_path = (dir / "dl").string();
    auto id = leecher.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
}

TEST_F(Swarm, PeerServingWrongMetadataIsBanned) {
    // Long file names make the info dictionary span many 16 KiB metadata pieces: the fetch
    // asks each peer for two at a time, so the seed alone needs many round trips and the
    // liar has surely been asked for some by then.
    for (int i = 0; i < 1200; ++i)
        write_file(dir / "src" / "named" / (std::string(200, 'n') + std::to_string(i)), random_bytes(1000, 20 + i));
    auto torrent = make_torrent(dir / "src" / "named", dir / "t.torrent", 16 << 10);
    auto meta = pw::meta::load(torrent);
    ASSERT_GT(meta.info_bytes.size(), 14u * 16384);
    FakePeer liar("127.0.11.2", meta, std::string(), {.bad_metadata = true});
    // The liar is the leecher's only source at first, so its garbage is surely fetched
    // (with both known from the start, the seed could deliver everything first on a
    // loaded machine); the seed dials in once the liar has been caught.
    // Plaintext: the liar (like the fake peers) hangs up on an encrypted handshake.
    auto ls = loopback("127.0.11.4", dir / "rl");
    ls.encryption = piecewise::Encryption::disable;
    Session leecher(ls);
    AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btih:" + meta.info_hash.hex() + "&x.pe=127.0.11.2:" + std::to_string(liar.port());
    p.save_path = (dir / "dl").string();
    auto id = leecher.add_torrent(p);
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] {
        return has_event(log, leecher, piecewise::EventType::peer_banned, "does not match the info-hash");
    }, limit));
    EXPECT_GT(liar.metadata_sent(), 0);
    auto ss = loopback("127.0.11.3", dir / "rs");
    ss.encryption = piecewise::Encryption::disable;  // the leecher takes plaintext only
    Session seed(ss);
    seed.add_torrent(params(torrent, dir / "src", {endpoint("127.0.11.4", leecher)}, true));
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, limit));
    EXPECT_EQ(read_file(dir / "dl" / "named" / (std::string(200, 'n') + "7")), random_bytes(1000, 27));
}

TEST_F(Swarm, PeerExchangeIntroducesPeers) {
    // A and B know only S, which holds half of the data, so all three stay connected
    // (nobody becomes a seed); S tells each about the other by ut_pex (BEP 11).
    std::string data = random_bytes(1 << 20, 16);
    write_file(dir / "full" / "payload.bin", data);
    auto torrent = make_torrent(dir / "full" / "payload.bin", dir / "t.torrent", 32 << 10);
    write_file(dir / "src" / "payload.bin", data.substr(0, data.size() / 2));
    Session s(loopback("127.0.12.2", dir / "rs"));
    auto sid = s.add_torrent(params(torrent, dir / "src", {}, true));
    ASSERT_TRUE(wait_for([&] { auto st = s.status(sid); return st && st->pieces_have > 0; }, limit));
    Session a(loopback("127.0.12.3", dir / "ra"));
    auto aid = a.add_torrent(params(torrent, dir / "da", {endpoint("127.0.12.2", s)}));
    Session b(loopback("127.0.12.4", dir / "rb"));
    auto bid = b.add_torrent(params(torrent, dir / "db", {endpoint("127.0.12.2", s)}));
    // The first PEX message goes out five seconds after a torrent starts; then A and B
    // know each other and connect.
    ASSERT_TRUE(wait_for([&] { return a.status(aid)->known_peers >= 2 && b.status(bid)->known_peers >= 2; },
                         std::chrono::seconds(20)));
    EXPECT_TRUE(wait_for([&] { return a.status(aid)->peers >= 2 && b.status(bid)->peers >= 2; },
                         std::chrono::seconds(10)));
}
