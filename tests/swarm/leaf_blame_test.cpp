// Block-level blame of failed v2/hybrid pieces (BEP 52) in whole downloads: a piece put
// together by several peers of which one sent a bad block (only that one is banned); a
// hybrid piece of one data block and padding, judged without asking anyone (no v2 peer
// in the swarm); and a piece that fails twice, the second time judged by the leaf hashes
// proven the first time, with no second hash request. Web seeds: web_seed_test.cpp.
#include <gtest/gtest.h>

#include <regex>

#include "fake_peer.hpp"
#include "meta/creator.hpp"
#include "meta/leaf_check.hpp"
#include "script_peer.hpp"
#include "swarm_util.hpp"
#include "wire/hash_messages.hpp"

using namespace swarm_test;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct LeafBlame : ::testing::Test {
    fs::path dir;
    std::vector<piecewise::Event> log;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    void TearDown() override { fs::remove_all(dir); }

    pw::meta::Metainfo make(const fs::path& content, std::int64_t piece, pw::meta::Format f) {
        pw::meta::CreateOptions o;
        o.piece_size = piece;
        o.creation_date = 0;
        o.format = f;
        write_file(dir / "t.torrent", pw::meta::create_torrent(content, o));
        return pw::meta::load(dir / "t.torrent");
    }
    // The torrent's byte stream as peers send it: the files under `root`, pad files as zeros.
    static std::string stream(const pw::meta::Metainfo& m, const fs::path& root) {
        std::string out;
        for (const auto& f : m.files)
            out += f.pad ? std::string(static_cast<std::size_t>(f.length), '\0') : read_file(root / f.path);
        return out;
    }
    static piecewise::Settings plain(const std::string& ip, const fs::path& resume) {
        auto s = loopback(ip, resume);
        s.encryption = piecewise::Encryption::disable;  // fake peers speak plaintext only
        return s;
    }
    piecewise::AddTorrentParams params(const fs::path& save, std::vector<std::string> peers,
                                       bool upload_only = false) const {
        piecewise::AddTorrentParams p;
        p.torrent_file = (dir / "t.torrent").string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }
    void drain(piecewise::Session& s) {
        for (auto& e : s.pop_events()) log.push_back(e);
    }
    int count(piecewise::EventType t, const std::string& text) const {
        int n = 0;
        for (auto& e : log)
            if (e.type == t && e.message.find(text) != std::string::npos) ++n;
        return n;
    }
    std::string dump() const {
        std::string out;
        for (auto& e : log) out += std::to_string(static_cast<int>(e.type)) + " " + e.message + "\n";
        return out;
    }
};

std::array<std::uint8_t, 8> v2_reserved() {
    pw::wire::Handshake h;
    h.set_v2();
    return h.reserved;
}

}  // namespace

// One piece of 64 blocks (a v2 file of one piece) fetched from three plain peers and a
// Piecewise seed; one plain peer corrupts the first block it sends. The failed piece is
// narrowed by the seed's leaf hashes: that peer alone is banned, one block is fetched
// again, the others go on, and the file is byte-identical.
TEST_F(LeafBlame, OneBadBlockAmongSeveralSenders) {
    const std::string data = random_bytes((1 << 20) - 3000, 61);
    write_file(dir / "src" / "one.bin", data);
    auto meta = make(dir / "src" / "one.bin", 1 << 20, pw::meta::Format::v2);
    ASSERT_EQ(meta.num_pieces(), 1);
    piecewise::Session seed(plain("127.0.54.2", dir / "r-seed"));
    auto sp = params(dir / "src", {}, true);
    sp.upload_limit = 128 << 10;  // slow: the plain peers send most of the piece
    auto sid = seed.add_torrent(sp);
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    FakePeer liar("127.0.54.3", meta, data, {.block_delay_ms = 3, .corrupt_once = true});
    FakePeer h1("127.0.54.4", meta, data, {.block_delay_ms = 3});
    FakePeer h2("127.0.54.5", meta, data, {.block_delay_ms = 3});
    piecewise::Session leech(plain("127.0.54.6", dir / "r-leech"));
    auto id = leech.add_torrent(params(
        dir / "dl", {"127.0.54.3:" + std::to_string(liar.port()), "127.0.54.4:" + std::to_string(h1.port()),
                     "127.0.54.5:" + std::to_string(h2.port()), endpoint("127.0.54.2", seed)}));
    const bool done = wait_for([&] { return complete(leech, id); }, limit);
    drain(leech);
    ASSERT_TRUE(done) << dump();
    EXPECT_EQ(read_file(dir / "dl" / "one.bin"), data);
    ASSERT_GE(liar.blocks_sent(), 1);
    EXPECT_GT(h1.blocks_sent(), 0);
    EXPECT_GT(h2.blocks_sent(), 0);
    auto st = leech.status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->hash_failures, 1) << dump();
    EXPECT_EQ(st->failures_narrowed, 1);
    EXPECT_EQ(st->refetched, 16384);
    EXPECT_EQ(st->banned_peers, 1);
    // The piece came from several senders.
    std::smatch sm;
    int senders = 0;
    for (auto& e : log)
        if (e.type == piecewise::EventType::piece_failed &&
            std::regex_search(e.message, sm, std::regex(R"(\((\d+) peer\(s\) sent it\))")))
            senders = std::stoi(sm[1]);
    EXPECT_GE(senders, 2) << dump();
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "127.0.54.3"), 1) << dump();
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "leaf hash differs"), 1);
    EXPECT_EQ(count(piecewise::EventType::peer_banned, ""), 1);
    EXPECT_GT(seed.session_stats().hash_requests_served, 0u);
    leech.stop();
    seed.stop();
}

// A hybrid of small files: each piece is one block of a file's data and three of BEP 47
// padding. No peer speaks v2, so no leaf hashes can be asked for; the piece hash alone
// pins the one data block. One peer corrupts each piece's data block, another its first
// padding block: both are banned by the block they sent (one block fetched again per
// failure), the honest peer is kept, and the files are byte-identical.
TEST_F(LeafBlame, HybridPieceOfOneDataBlockJudgedWithoutAsking) {
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < 12; ++i)
        files.emplace_back("set/f" + std::to_string(i) + ".bin",
                           random_bytes(static_cast<std::size_t>(2000 + i * 1100), static_cast<std::uint32_t>(70 + i)));
    for (auto& [p, d] : files) write_file(dir / "src" / p, d);
    auto meta = make(dir / "src" / "set", 64 << 10, pw::meta::Format::hybrid);
    ASSERT_EQ(meta.num_pieces(), 12);
    const std::string all = stream(meta, dir / "src");
    FakePeer data_liar("127.0.54.12", meta, all, {.corrupt_block = 0});
    FakePeer pad_liar("127.0.54.13", meta, all, {.corrupt_block = 1});
    FakePeer honest("127.0.54.14", meta, all, {.block_delay_ms = 2});
    piecewise::Session leech(plain("127.0.54.15", dir / "r-leech"));
    auto id = leech.add_torrent(params(dir / "dl", {"127.0.54.12:" + std::to_string(data_liar.port()),
                                                    "127.0.54.13:" + std::to_string(pad_liar.port()),
                                                    "127.0.54.14:" + std::to_string(honest.port())}));
    const bool done = wait_for([&] { return complete(leech, id); }, limit);
    drain(leech);
    ASSERT_TRUE(done) << dump();
    for (auto& [p, d] : files) EXPECT_EQ(read_file(dir / "dl" / p), d) << p;
    ASSERT_GT(data_liar.blocks_sent(), 0);
    ASSERT_GT(pad_liar.blocks_sent(), 0);
    auto st = leech.status(id);
    ASSERT_TRUE(st);
    ASSERT_GE(st->hash_failures, 2) << dump();
    EXPECT_EQ(st->failures_narrowed, st->hash_failures);
    EXPECT_GT(st->refetched, 0);
    EXPECT_LE(st->refetched, std::int64_t(st->hash_failures) * 16384);
    EXPECT_EQ(st->banned_peers, 2) << dump();
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "127.0.54.12"), 1) << dump();
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "leaf hash differs"), 1);
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "127.0.54.13"), 1);
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "padding is not zeros"), 1);
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "127.0.54.14"), 0);
    leech.stop();
}

// Two v2 peers that both corrupt block 5 of the one piece and both serve true leaf hashes.
// The first failure is narrowed by one hash request and bans the sender of block 5; block
// 5 comes again from the other, the piece fails again and is judged by the leaf hashes
// proven the first time: the second sender is banned with no second request. An honest
// seed that joins later completes the download.
TEST_F(LeafBlame, ProvenLeavesJudgeASecondFailure) {
    const std::string data = random_bytes((256 << 10) - 100, 81);
    write_file(dir / "src" / "one.bin", data);
    auto meta = make(dir / "src" / "one.bin", 256 << 10, pw::meta::Format::v2);
    ASSERT_EQ(meta.num_pieces(), 1);
    std::string piece = data;
    piece.resize(static_cast<std::size_t>(meta.piece_size(0)), '\0');
    const auto leaves = pw::meta::piece_leaf_hashes(meta, 0, piece);
    ASSERT_EQ(leaves.size(), 16u);
    auto hook = [&](ScriptPeer& sp, const WireMsg& m) -> std::string {
        if (m.id == 6) {
            std::string msg = sp.block(m.a, m.b, m.c);
            if (m.b == 5 * 16384 && msg.size() > 20) msg[20] = static_cast<char>(~msg[20]);
            return msg;
        }
        if (m.id == 21) {
            pw::wire::HashRequest r;
            const char* why = nullptr;
            if (!pw::wire::decode_hash_request(m.body, r, why)) return {};
            auto hs = pw::meta::leaf_proof(leaves, nullptr, 0, 16, r.index, r.length,
                                           static_cast<int>(r.proof_layers));
            std::string out;
            if (r.base == 0 && r.pieces_root == meta.files[0].pieces_root && hs)
                pw::wire::put_hashes(out, r, *hs);
            else
                pw::wire::put_hash_reject(out, r);
            return out;
        }
        return {};
    };
    std::string prelude;
    pw::wire::put_bitfield(prelude, all_bits(1));
    pw::wire::put_simple(prelude, pw::wire::MsgId::unchoke);
    ScriptPeer a("127.0.54.22", meta, data, v2_reserved(), prelude, hook);
    ScriptPeer b("127.0.54.23", meta, data, v2_reserved(), prelude, hook);
    piecewise::Session leech(plain("127.0.54.24", dir / "r-leech"));
    auto id = leech.add_torrent(params(dir / "dl", {a.endpoint("127.0.54.22"), b.endpoint("127.0.54.23")}));
    const bool both = wait_for([&] {
        drain(leech);
        return count(piecewise::EventType::peer_banned, "") >= 2;
    }, limit);
    ASSERT_TRUE(both) << dump();
    EXPECT_EQ(count(piecewise::EventType::peer_banned, "leaf hash differs"), 2) << dump();
    auto st = leech.status(id);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->hash_failures, 2);
    EXPECT_EQ(st->failures_narrowed, 2);
    EXPECT_EQ(st->refetched, 2 * 16384);
    EXPECT_EQ(a.received(21).size() + b.received(21).size(), 1u);
    EXPECT_FALSE(complete(leech, id));
    // An honest seed dials in: block 5 comes right and the piece passes.
    piecewise::Session seed(plain("127.0.54.25", dir / "r-seed"));
    auto sp = params(dir / "src", {endpoint("127.0.54.24", leech)}, true);
    seed.add_torrent(sp);
    const bool done = wait_for([&] { return complete(leech, id); }, limit);
    drain(leech);
    ASSERT_TRUE(done) << dump();
    EXPECT_EQ(read_file(dir / "dl" / "one.bin"), data);
    st = leech.status(id);
    EXPECT_EQ(st->hash_failures, 2);
    leech.stop();
    seed.stop();
}
