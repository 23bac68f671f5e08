// BEP 52 hash requests against a seeding session: the piece layer of a v2 file comes
// back with the uncle hashes that prove it against the file's pieces root, what the
// seed cannot serve is rejected, and malformed hash messages end the connection.
#include <gtest/gtest.h>

#include "meta/creator.hpp"
#include "meta/leaf_check.hpp"
#include "meta/merkle.hpp"
#include "fake_peer.hpp"
#include "script_peer.hpp"
#include "swarm_util.hpp"
#include "wire/hash_messages.hpp"

using namespace swarm_test;

namespace {

bool has_event(std::vector<piecewise::Event>& log, piecewise::Session& s, piecewise::EventType t,
               const std::string& text) {
    for (auto& e : s.pop_events()) log.push_back(e);
    for (auto& e : log)
        if (e.type == t && e.message.find(text) != std::string::npos) return true;
    return false;
}

std::array<std::uint8_t, 8> v2_reserved() {
    pw::wire::Handshake h;
    h.set_v2();
    return h.reserved;
}

struct HashRequests : ::testing::Test {
    fs::path dir;
    std::string data;
    pw::meta::Metainfo meta;
    std::unique_ptr<piecewise::Session> seed;
    int piece_level = 2;  // 64 KiB pieces: 4 leaves each
    int root_level = 0;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes((19 << 16) - 5000, 52);  // 19 pieces of 64 KiB, the last short
        write_file(dir / "src" / "payload.bin", data);
        pw::meta::CreateOptions o;
        o.piece_size = 64 << 10;
        o.creation_date = 0;
        o.format = pw::meta::Format::v2;
        write_file(dir / "t.torrent", pw::meta::create_torrent(dir / "src" / "payload.bin", o));
        meta = pw::meta::load(dir / "t.torrent");
        ASSERT_EQ(meta.num_pieces(), 19);
        root_level = pw::meta::log2_exact(pw::meta::next_pow2((data.size() + 16383) / 16384));
        seed = std::make_unique<piecewise::Session>(loopback("127.0.52.2", dir / "rs"));
        piecewise::AddTorrentParams p;
        p.torrent_file = (dir / "t.torrent").string();
        p.save_path = (dir / "src").string();
        p.upload_only = true;
        auto id = seed->add_torrent(p);
        ASSERT_TRUE(wait_for([&] { return complete(*seed, id); }, std::chrono::seconds(30)));
    }
    void TearDown() override {
        seed.reset();
        fs::remove_all(dir);
    }

    pw::wire::HashRequest request(std::uint32_t base, std::uint32_t index, std::uint32_t length,
                                  std::uint32_t proof) const {
        pw::wire::HashRequest r;
        r.pieces_root = meta.files[0].pieces_root;
        r.base = base;
        r.index = index;
        r.length = length;
        r.proof_layers = proof;
        return r;
    }
};

}  // namespace

TEST_F(HashRequests, PieceLayerServedWithProof) {
    RawClient c("127.0.52.2", seed->listen_port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.handshake(meta.info_hash, v2_reserved()));
    const auto base = static_cast<std::uint32_t>(piece_level);
    const auto full_proof = static_cast<std::uint32_t>(root_level - piece_level - 1);
    // The whole layer (32 wide: 19 pieces and padding), then runs of 4 and 2 with their uncles.
    for (auto [index, length] : {std::pair<std::uint32_t, std::uint32_t>{0, 32}, {16, 4}, {8, 2}}) {
        std::string out;
        auto req = request(base, index, length, full_proof);
        pw::wire::put_hash_request(out, req);
        ASSERT_TRUE(c.send(out));
        auto m = c.wait_for_id(static_cast<std::uint8_t>(pw::wire::MsgId::hashes));
        ASSERT_TRUE(m) << index;
        pw::wire::HashesMsg hm;
        const char* why = nullptr;
        ASSERT_TRUE(pw::wire::decode_hashes(m->body, hm, why)) << why;
        EXPECT_EQ(hm.req, req);
        EXPECT_TRUE(pw::meta::merkle_verify(meta.files[0].pieces_root, root_level, piece_level,
                                            index, length, hm.hashes));
        for (std::uint32_t i = 0; i < length && index + i < 19; ++i)
            EXPECT_EQ(hm.hashes[i], meta.piece_hashes_v2[index + i]);
    }
}

TEST_F(HashRequests, UnservableRequestsRejected) {
    RawClient c("127.0.52.2", seed->listen_port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.handshake(meta.info_hash, v2_reserved()));
    auto other_root = request(2, 0, 2, 0);
    other_root.pieces_root.bytes[0] ^= 1;
    // Leaves past their layer, an unknown root, past the layer, a proof to the root.
    for (auto req : {request(0, 0, 256, 0), other_root, request(2, 32, 2, 0),
                     request(2, 0, 2, static_cast<std::uint32_t>(root_level - 2))}) {
        std::string out;
        pw::wire::put_hash_request(out, req);
        ASSERT_TRUE(c.send(out));
        auto m = c.wait_for_id(static_cast<std::uint8_t>(pw::wire::MsgId::hash_reject));
        ASSERT_TRUE(m);
        pw::wire::HashRequest back;
        const char* why = nullptr;
        ASSERT_TRUE(pw::wire::decode_hash_request(m->body, back, why)) << why;
        EXPECT_EQ(back, req);
    }
    // The connection stays open for the next request.
    std::string out;
    pw::wire::put_hash_request(out, request(2, 0, 2, 0));
    ASSERT_TRUE(c.send(out));
    EXPECT_TRUE(c.wait_for_id(static_cast<std::uint8_t>(pw::wire::MsgId::hashes)));
}

TEST_F(HashRequests, MalformedHashMessagesClose) {
    auto bad_request = [&] {
        std::string out;
        pw::wire::put_hash_request(out, request(2, 0, 3, 0));  // length not a power of two
        return out;
    };
    auto wrong_count = [&] {
        std::string out;  // proof layers 3 want 2 uncles after 2 hashes; none follow
        pw::wire::put_hashes(out, request(2, 0, 2, 3), {pw::Sha256Digest{}, pw::Sha256Digest{}});
        return out;
    };
    auto short_reject = [&] {
        std::string out;
        pw::wire::put_hash_reject(out, request(2, 0, 2, 0));
        out[3] = static_cast<char>(out[3] - 4);  // 45 bytes announced
        return out.substr(0, out.size() - 4);
    };
    for (const auto& bad : {bad_request(), wrong_count(), short_reject()}) {
        RawClient c("127.0.52.2", seed->listen_port());
        ASSERT_TRUE(c.ok());
        ASSERT_TRUE(c.handshake(meta.info_hash, v2_reserved()));
        ASSERT_TRUE(c.send(bad));
        EXPECT_TRUE(c.closed_by_peer());
    }
}

// A btmh magnet alone (the seed given as a peer, not in the link): the metadata is checked
// by SHA-256, the piece layer fetched by hash requests, and the saved .torrent has it.
TEST_F(HashRequests, BtmhMagnetDownloadsWithTheLayersFetched) {
    piecewise::Session leecher(loopback("127.0.52.3", dir / "rl"));
    piecewise::AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btmh:1220" + meta.info_hash_v2->hex() + "&dn=payload.bin";
    p.peers = {endpoint("127.0.52.2", *seed)};
    p.save_path = (dir / "dl").string();
    p.save_torrent = (dir / "fetched.torrent").string();
    auto id = leecher.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(60)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    ASSERT_TRUE(wait_for([&] { return fs::exists(dir / "fetched.torrent"); }, std::chrono::seconds(5)));
    auto fetched = pw::meta::load(dir / "fetched.torrent");
    EXPECT_EQ(fetched.info_hash_v2, meta.info_hash_v2);
    EXPECT_EQ(fetched.piece_hashes_v2, meta.piece_hashes_v2);
    EXPECT_GT(seed->session_stats().hash_requests_served, 0u);
    leecher.stop();
}

// A peer that serves the true metadata but piece-layer hashes that do not prove out
// against the pieces root is banned; the layer then comes from an honest seed.
TEST_F(HashRequests, PeerSendingBadLayerHashesIsBanned) {
    FakePeer liar("127.0.52.5", meta, std::string(), {.bad_layer_hashes = true});
    auto ls = loopback("127.0.52.4", dir / "rl");
    ls.encryption = piecewise::Encryption::disable;  // the fake peer speaks plaintext only
    piecewise::Session leecher(ls);
    piecewise::AddTorrentParams p;
    p.magnet = "magnet:?xt=urn:btmh:1220" + meta.info_hash_v2->hex() + "&x.pe=127.0.52.5:" +
               std::to_string(liar.port());
    p.save_path = (dir / "dl").string();
    auto id = leecher.add_torrent(p);
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] {
        return has_event(log, leecher, piecewise::EventType::peer_banned, "do not match the pieces root");
    }, std::chrono::seconds(30)));
    EXPECT_GT(liar.metadata_sent(), 0);
    EXPECT_GT(liar.hashes_sent(), 0);
    EXPECT_FALSE(complete(leecher, id));
    auto ss = loopback("127.0.52.6", dir / "rs2");
    ss.encryption = piecewise::Encryption::disable;
    piecewise::Session honest(ss);
    piecewise::AddTorrentParams hp;
    hp.torrent_file = (dir / "t.torrent").string();
    hp.save_path = (dir / "src").string();
    hp.upload_only = true;
    hp.peers = {endpoint("127.0.52.4", leecher)};
    honest.add_torrent(hp);
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(60)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    leecher.stop();
    honest.stop();
}

// Leaf hashes (base layer 0) come back read from the disk: a run inside one piece, with
// uncles proving it against its piece hash or up to below the root; runs of several pieces
// (BEP 52 allows any power of two; ours go up to 512 leaves), padding pieces past the
// file's end included, and libtorrent's form of the request (one piece, proof layers
// above the piece layer). Each answer equals the proof over the file's whole tree.
TEST_F(HashRequests, LeafHashesServedFromTheDisk) {
    RawClient c("127.0.52.2", seed->listen_port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.handshake(meta.info_hash, v2_reserved()));
    const auto leaves = pw::meta::leaf_hashes(data);
    const pw::meta::MerkleTree whole(leaves, 0);
    ASSERT_EQ(whole.root(), meta.files[0].pieces_root);
    ASSERT_EQ(whole.root_level(), root_level);  // 7: 128 leaves, 32 pieces wide
    const auto top = static_cast<std::uint32_t>(root_level - 1);
    using Req = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>;
    for (auto [index, length, proof] :
         {Req{8, 4, 1}, Req{72, 4, 1}, Req{2, 2, top}, Req{8, 4, 3} /* libtorrent's: 2k-1 */,
          Req{0, 8, 2}, Req{16, 16, top}, Req{64, 64, top}, Req{0, 128, top}, Req{32, 32, 4}}) {
        std::string out;
        auto req = request(0, index, length, proof);
        pw::wire::put_hash_request(out, req);
        ASSERT_TRUE(c.send(out));
        auto m = c.wait_for_id(static_cast<std::uint8_t>(pw::wire::MsgId::hashes));
        ASSERT_TRUE(m) << index << " " << length;
        pw::wire::HashesMsg hm;
        const char* why = nullptr;
        ASSERT_TRUE(pw::wire::decode_hashes(m->body, hm, why)) << why;
        EXPECT_EQ(hm.req, req);
        for (std::uint32_t i = 0; i < length; ++i)
            EXPECT_EQ(hm.hashes[i], index + i < leaves.size() ? leaves[index + i] : pw::Sha256Digest{});
        auto want = pw::meta::merkle_proof(whole, 0, index, length, static_cast<int>(proof));
        ASSERT_TRUE(want);
        EXPECT_EQ(hm.hashes, *want) << index << " " << length;
        if (proof == top) {
            EXPECT_TRUE(pw::meta::merkle_verify(meta.files[0].pieces_root, root_level, 0, index, length, hm.hashes));
        }
    }
    // Leaves of a piece past the file, a run of padding pieces only, a run past the layer,
    // a proof reaching the root: rejected.
    for (auto req : {request(0, 76, 4, 1), request(0, 96, 32, 0), request(0, 0, 256, 0),
                     request(0, 0, 8, static_cast<std::uint32_t>(root_level))}) {
        std::string out;
        pw::wire::put_hash_request(out, req);
        ASSERT_TRUE(c.send(out));
        auto m = c.wait_for_id(static_cast<std::uint8_t>(pw::wire::MsgId::hash_reject));
        ASSERT_TRUE(m) << req.index << " " << req.length;
        pw::wire::HashRequest back;
        const char* why = nullptr;
        ASSERT_TRUE(pw::wire::decode_hash_request(m->body, back, why)) << why;
        EXPECT_EQ(back, req);
    }
}

// A peer that corrupts one 16 KiB block of each 64 KiB piece it serves, and an honest v2
// seed: each failed piece is narrowed to its bad block by leaf hashes the seed serves, the
// corrupt peer alone is banned, and only one block per failed piece is fetched again.
TEST_F(HashRequests, CorruptBlockFoundByLeafHashes) {
    FakePeer liar("127.0.52.7", meta, data, {.corrupt_block = 1});
    piecewise::Session leecher(loopback("127.0.52.8", dir / "rl"));
    piecewise::AddTorrentParams p;
    p.torrent_file = (dir / "t.torrent").string();
    p.save_path = (dir / "dl").string();
    p.peers = {"127.0.52.7:" + std::to_string(liar.port()), endpoint("127.0.52.2", *seed)};
    auto id = leecher.add_torrent(p);
    std::vector<piecewise::Event> log;
    ASSERT_TRUE(wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(60)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_GT(liar.blocks_sent(), 0);
    auto st = leecher.status(id);
    ASSERT_GE(st->hash_failures, 1);
    EXPECT_EQ(st->failures_narrowed, st->hash_failures);
    EXPECT_EQ(st->refetched, std::int64_t(st->hash_failures) * 16384);
    EXPECT_LT(st->refetched, std::int64_t(st->hash_failures) * meta.piece_length);
    EXPECT_EQ(st->banned_peers, 1);
    EXPECT_TRUE(has_event(log, leecher, piecewise::EventType::peer_banned, "leaf hash differs"));
    for (auto& e : log) {
        if (e.type == piecewise::EventType::peer_banned) {
            EXPECT_NE(e.message.find("127.0.52.7"), std::string::npos) << e.message;
        }
    }
    auto ss = leecher.session_stats();
    EXPECT_EQ(ss.refetched_bytes, static_cast<std::uint64_t>(st->refetched));
    EXPECT_EQ(ss.failures_narrowed, static_cast<std::uint64_t>(st->failures_narrowed));
    EXPECT_GT(seed->session_stats().hash_requests_served, 0u);
    leecher.stop();
}

// No peer serves leaf hashes (the honest one is not a v2 peer, the corrupt one answers
// with hashes that do not prove out and is banned for it): the failed piece is blamed and
// fetched again as a whole, as for v1.
TEST_F(HashRequests, WithoutLeafHashesTheWholePieceIsBlamed) {
    FakePeer liar("127.0.52.9", meta, data, {.bad_layer_hashes = true, .corrupt_block = 2, .v2 = true});
    FakePeer honest("127.0.52.10", meta, data, {});
    auto ls = loopback("127.0.52.11", dir / "rl");
    ls.encryption = piecewise::Encryption::disable;
    piecewise::Session leecher(ls);
    piecewise::AddTorrentParams p;
    p.torrent_file = (dir / "t.torrent").string();
    p.save_path = (dir / "dl").string();
    p.peers = {"127.0.52.9:" + std::to_string(liar.port()), "127.0.52.10:" + std::to_string(honest.port())};
    auto id = leecher.add_torrent(p);
    std::vector<piecewise::Event> log;
    bool done = wait_for([&] { return complete(leecher, id); }, std::chrono::seconds(60));
    has_event(log, leecher, piecewise::EventType::peer_banned, "");
    ASSERT_TRUE(done);
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    auto st = leecher.status(id);
    ASSERT_GE(st->hash_failures, 1);
    EXPECT_EQ(st->failures_narrowed, 0);
    EXPECT_GE(st->refetched, std::int64_t(st->hash_failures) * (meta.piece_length - 5000));
    EXPECT_EQ(st->banned_peers, 1);
    EXPECT_TRUE(has_event(log, leecher, piecewise::EventType::peer_banned, "127.0.52.9"));
    EXPECT_GT(liar.hashes_sent(), 0);
    leecher.stop();
}
