// The Fast Extension (BEP 6) against scripted peers: a session downloading from a
// ScriptPeer that speaks it, and a seeding session probed by a RawClient.
#include "wire/fast.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "script_peer.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

constexpr std::array<std::uint8_t, 8> fast_bit{0, 0, 0, 0, 0, 0, 0, 0x04};
constexpr std::array<std::uint8_t, 8> plain{};
constexpr std::uint8_t id_piece = 7, id_bitfield = 5, id_have_all = 0x0e, id_have_none = 0x0f,
                       id_reject = 0x10, id_allowed_fast = 0x11, id_unchoke = 1;

std::string allowed(std::uint32_t i) {
    std::string m;
    pw::wire::put_allowed_fast(m, i);
    return m;
}
std::string suggest(std::uint32_t i) {
    std::string m;
    pw::wire::put_suggest(m, i);
    return m;
}
std::string reject(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
    std::string m;
    pw::wire::put_reject(m, a, b, c);
    return m;
}

struct Fast : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    pw::meta::Metainfo meta;
    int n = 0;
    std::vector<piecewise::Event> events;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes((18 << 16) - 1000, 31);  // 18 pieces of 64 KiB
        write_file(dir / "src" / "payload.bin", data);
        torrent = make_torrent(dir / "src" / "payload.bin", dir / "t.torrent", 64 << 10);
        meta = pw::meta::load(torrent);
        n = meta.num_pieces();
    }
    void TearDown() override { fs::remove_all(dir); }

    AddTorrentParams get(const std::vector<std::string>& peers) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "dl").string();
        p.peers = peers;
        return p;
    }
    bool disconnected_because(Session& s, const std::string& why) {
        for (auto& e : s.pop_events()) events.push_back(e);
        for (auto& e : events)
            if (e.type == piecewise::EventType::peer_disconnected &&
                e.message.find(why) != std::string::npos)
                return true;
        return false;
    }
    // A seeding (or, with `upto` < n, partial) session on `ip`.
    std::unique_ptr<Session> seed_session(const std::string& ip, int upto) {
        std::string on_disk = data;
        for (std::size_t i = static_cast<std::size_t>(upto) * (64 << 10); i < on_disk.size(); ++i)
            on_disk[i] = 0;
        write_file(dir / "seed" / "payload.bin", on_disk);
        auto s = std::make_unique<Session>(loopback(ip, dir / "rs"));
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "seed").string();
        p.upload_only = true;
        auto id = s->add_torrent(p);
        EXPECT_TRUE(wait_for([&] { return s->status(id) && s->status(id)->pieces_have == upto; },
                             std::chrono::seconds(30)));
        return s;
    }
};

}  // namespace

// ---- Downloading from a fast peer ----

TEST_F(Fast, HaveAllReplacesTheBitfield) {
    ScriptPeer peer("127.0.41.2", meta, data, fast_bit,
                    msg(pw::wire::MsgId::have_all) + msg(pw::wire::MsgId::unchoke));
    Session s(loopback("127.0.41.3", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.41.2")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(30)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_EQ(peer.their_reserved()[7] & 0x04, 0x04) << "our handshake sets the fast bit";
    EXPECT_EQ(peer.connections(), 1);
}

// HAVE NONE, then HAVEs: the pieces announced later are fetched.
TEST_F(Fast, HaveNoneThenHaves) {
    std::string prelude = msg(pw::wire::MsgId::have_none);
    for (int i = 0; i < n; ++i) pw::wire::put_have(prelude, static_cast<std::uint32_t>(i));
    prelude += msg(pw::wire::MsgId::unchoke);
    ScriptPeer peer("127.0.41.4", meta, data, fast_bit, prelude);
    Session s(loopback("127.0.41.5", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.41.4")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(30)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
}

// Every block is rejected once: each reject frees the block, which is asked again long
// before a request timeout (20 s) would have released it.
TEST_F(Fast, RejectFreesTheBlock) {
    std::mutex mu;
    std::set<std::pair<std::uint32_t, std::uint32_t>> rejected;
    ScriptPeer peer("127.0.41.6", meta, data, fast_bit,
                    msg(pw::wire::MsgId::have_all) + msg(pw::wire::MsgId::unchoke),
                    [&](ScriptPeer& self, const WireMsg& m) -> std::string {
                        if (m.id != 6) return {};
                        std::lock_guard lock(mu);
                        if (rejected.insert({m.a, m.b}).second) return reject(m.a, m.b, m.c);
                        return self.block(m.a, m.b, m.c);
                    });
    Session s(loopback("127.0.41.7", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.41.6")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(15)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_EQ(peer.connections(), 1);
}

// A peer that chokes us serves its allowed fast pieces: only those are asked for.
TEST_F(Fast, AllowedFastPiecesAreFetchedWhileChoked) {
    ScriptPeer peer("127.0.41.8", meta, data, fast_bit,
                    msg(pw::wire::MsgId::have_all) + allowed(2) + allowed(5) + allowed(999999),
                    [&](ScriptPeer& self, const WireMsg& m) -> std::string {
                        if (m.id != 6) return {};
                        if (m.a == 2 || m.a == 5) return self.block(m.a, m.b, m.c);
                        return reject(m.a, m.b, m.c);
                    });
    Session s(loopback("127.0.41.9", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.41.8")}));
    ASSERT_TRUE(wait_for([&] { return s.status(id) && s.status(id)->pieces_have == 2; },
                         std::chrono::seconds(15)));
    for (auto& r : peer.received(6)) EXPECT_TRUE(r.a == 2 || r.a == 5) << "asked for piece " << r.a;
    EXPECT_EQ(peer.connections(), 1);
}

// Suggested pieces are started first.
TEST_F(Fast, SuggestedPiecesComeFirst) {
    auto last = static_cast<std::uint32_t>(n - 1), before = static_cast<std::uint32_t>(n - 2);
    ScriptPeer peer("127.0.41.10", meta, data, fast_bit,
                    msg(pw::wire::MsgId::have_all) + suggest(last) + suggest(before) +
                        suggest(last) + msg(pw::wire::MsgId::unchoke));
    Session s(loopback("127.0.41.11", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.41.10")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(30)));
    auto reqs = peer.received(6);
    ASSERT_GE(reqs.size(), 8u);
    // Pieces of 64 KiB are 4 blocks: the first 8 requests are the two suggested pieces.
    EXPECT_EQ(reqs[0].a, last);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_TRUE(reqs[i].a == last || reqs[i].a == before) << i;
}

// BEP 6 messages from a peer that did not set the bit end the connection.
TEST_F(Fast, FastMessageWithoutTheBitCloses) {
    std::string bits(static_cast<std::size_t>((n + 7) / 8), '\xff');
    bits.back() = static_cast<char>(0xff << (8 - n % 8));
    std::string prelude;
    pw::wire::put_bitfield(prelude, bits);
    prelude += suggest(1);
    ScriptPeer peer("127.0.41.12", meta, data, plain, prelude);
    Session s(loopback("127.0.41.13", dir / "r"));
    s.add_torrent(get({peer.endpoint("127.0.41.12")}));
    EXPECT_TRUE(wait_for([&] { return disconnected_because(s, "without it (BEP 6)"); },
                         std::chrono::seconds(10)));
}

// Rejects of requests never sent: a few are ignored, a stream of them ends the connection.
TEST_F(Fast, StrayRejectsAreBounded) {
    std::string few = msg(pw::wire::MsgId::have_none);
    for (int i = 0; i < 20; ++i) few += reject(0, 0, 16384);
    ScriptPeer calm("127.0.41.14", meta, data, fast_bit, few);
    std::string many = msg(pw::wire::MsgId::have_none);
    for (int i = 0; i < 1000; ++i) many += reject(0, 0, 16384);
    ScriptPeer noisy("127.0.41.15", meta, data, fast_bit, many);
    Session s(loopback("127.0.41.16", dir / "r"));
    auto id = s.add_torrent(get({calm.endpoint("127.0.41.14"), noisy.endpoint("127.0.41.15")}));
    EXPECT_TRUE(wait_for([&] { return disconnected_because(s, "rejects of requests never sent"); },
                         std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(s.status(id)->peers, 1) << "the peer with a few stray rejects stays";
}

// ---- A fast peer downloading from our seed ----

TEST_F(Fast, SeedSendsHaveAllAndTheCanonicalAllowedFastSet) {
    auto seed = seed_session("127.0.41.20", n);
    RawClient client("127.0.41.20", seed->listen_port(), "127.0.41.21");
    ASSERT_TRUE(client.ok());
    auto h = client.handshake(meta.info_hash, fast_bit);
    ASSERT_TRUE(h);
    EXPECT_TRUE(h->supports_fast());
    auto first = client.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->id, id_have_all);
    std::set<std::uint32_t> got;
    while (got.size() < 10) {
        auto m = client.wait_for_id(id_allowed_fast, std::chrono::seconds(5));
        ASSERT_TRUE(m);
        got.insert(m->a);
    }
    auto want = pw::wire::allowed_fast_set((127u << 24) | (41u << 8) | 21u, meta.info_hash,
                                           static_cast<std::uint32_t>(n), 10);
    EXPECT_EQ(got, std::set<std::uint32_t>(want.begin(), want.end()));
    for (auto& m : client.seen) EXPECT_NE(m.id, id_bitfield);
}

// While the seed chokes us (we never say interested): allowed fast pieces are served,
// anything else is rejected, and the connection stays up.
TEST_F(Fast, SeedServesAllowedFastAndRejectsTheRestWhileChoking) {
    auto seed = seed_session("127.0.41.22", n);
    RawClient client("127.0.41.22", seed->listen_port(), "127.0.41.23");
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.handshake(meta.info_hash, fast_bit));
    auto af = client.wait_for_id(id_allowed_fast);
    ASSERT_TRUE(af);
    auto want = pw::wire::allowed_fast_set((127u << 24) | (41u << 8) | 23u, meta.info_hash,
                                           static_cast<std::uint32_t>(n), 10);
    std::uint32_t other = 0;
    while (std::find(want.begin(), want.end(), other) != want.end()) ++other;
    ASSERT_TRUE(client.send(request(other, 0, 16384) + request(af->a, 16384, 16384)));
    auto rej = client.wait_for_id(id_reject);
    ASSERT_TRUE(rej);
    EXPECT_EQ(rej->a, other);
    auto piece = client.wait_for_id(id_piece);
    ASSERT_TRUE(piece);
    EXPECT_EQ(piece->a, af->a);
    EXPECT_EQ(piece->b, 16384u);
    EXPECT_EQ(piece->body.substr(8), data.substr(std::size_t(af->a) * (64 << 10) + 16384, 16384));
    for (auto& m : client.seen) EXPECT_NE(m.id, id_unchoke);
    EXPECT_FALSE(client.closed_by_peer(std::chrono::milliseconds(500)));
}

// A partial seed: a request for a piece it lacks is rejected (fast) or ignored (plain),
// not a reason to hang up; the next good request is served.
TEST_F(Fast, RequestForAMissingPieceIsRejectedOrIgnored) {
    int half = n / 2;
    auto seed = seed_session("127.0.41.24", half);
    for (bool fast : {true, false}) {
        SCOPED_TRACE(fast ? "fast" : "plain");
        RawClient client("127.0.41.24", seed->listen_port(), fast ? "127.0.41.25" : "127.0.41.26");
        ASSERT_TRUE(client.ok());
        ASSERT_TRUE(client.handshake(meta.info_hash, fast ? fast_bit : plain));
        auto first = client.next();
        ASSERT_TRUE(first);
        EXPECT_EQ(first->id, id_bitfield);
        ASSERT_TRUE(client.send(msg(pw::wire::MsgId::interested)));
        ASSERT_TRUE(client.wait_for_id(id_unchoke));
        auto missing = static_cast<std::uint32_t>(n - 1);
        ASSERT_TRUE(client.send(request(missing, 0, 16384)));
        if (fast) {
            auto rej = client.wait_for_id(id_reject);
            ASSERT_TRUE(rej);
            EXPECT_EQ(rej->a, missing);
        }
        ASSERT_TRUE(client.send(request(0, 0, 16384)));
        auto piece = client.wait_for_id(id_piece);
        ASSERT_TRUE(piece) << "the connection was closed";
        EXPECT_EQ(piece->a, 0u);
        for (auto& m : client.seen) EXPECT_FALSE(m.id == id_piece && m.a == missing);
    }
}

// A downloading session with nothing yet says HAVE NONE to a fast peer.
TEST_F(Fast, EmptySessionSaysHaveNone) {
    auto seed = seed_session("127.0.41.27", 0);
    RawClient client("127.0.41.27", seed->listen_port(), "127.0.41.28");
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.handshake(meta.info_hash, fast_bit));
    auto first = client.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->id, id_have_none);
}

// BEP 6: a cancelled request still gets its one answer, a REJECT, when it was queued.
TEST_F(Fast, CancelOfAQueuedRequestIsAnsweredWithReject) {
    auto seed = seed_session("127.0.41.29", n);
    RawClient client("127.0.41.29", seed->listen_port(), "127.0.41.30");
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.handshake(meta.info_hash, fast_bit));
    ASSERT_TRUE(client.send(msg(pw::wire::MsgId::interested)));
    ASSERT_TRUE(client.wait_for_id(id_unchoke));
    // Ten requests in ten pieces (ten disk reads; at most four run at once) and the
    // cancel of the last in the same write: it is still queued when the cancel is read.
    std::string batch;
    for (std::uint32_t i = 0; i < 10; ++i) batch += request(i, 0, 16384);
    pw::wire::put_cancel(batch, 9, 0, 16384);
    ASSERT_TRUE(client.send(batch));
    auto rej = client.wait_for_id(id_reject);
    ASSERT_TRUE(rej);
    EXPECT_EQ(rej->a, 9u);
    int pieces = 0;
    while (pieces < 9) {
        auto m = client.wait_for_id(id_piece, std::chrono::seconds(5));
        ASSERT_TRUE(m);
        EXPECT_NE(m->a, 9u);
        ++pieces;
    }
    for (auto& m : client.seen) EXPECT_FALSE(m.id == id_piece && m.a == 9u);
}

// Requests beyond the queue limit are rejected one by one (a plain peer is cut off:
// Hostile.RequestFlood); the connection goes on.
TEST_F(Fast, RequestsBeyondTheQueueLimitAreRejected) {
    auto seed = seed_session("127.0.41.31", n);
    RawClient client("127.0.41.31", seed->listen_port(), "127.0.41.32");
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.handshake(meta.info_hash, fast_bit));
    ASSERT_TRUE(client.send(msg(pw::wire::MsgId::interested)));
    ASSERT_TRUE(client.wait_for_id(id_unchoke));
    std::string batch;
    for (int i = 0; i < 2100; ++i) batch += request(static_cast<std::uint32_t>(i % n), 0, 16384);
    ASSERT_TRUE(client.send(batch));
    auto rej = client.wait_for_id(id_reject, std::chrono::seconds(20));
    ASSERT_TRUE(rej);
    EXPECT_EQ(rej->b, 0u);
    EXPECT_TRUE(client.wait_for_id(id_piece, std::chrono::seconds(20))) << "still served";
}
