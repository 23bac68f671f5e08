// Wire compatibility: what real clients send that BEP 3 does not spell out, accepted
// the way libtorrent and Transmission accept it (a later bitfield replaces the earlier
// one, spare bitfield bits, message order, keep-alives and unknown ids anywhere).
#include <gtest/gtest.h>

#include "script_peer.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

constexpr std::array<std::uint8_t, 8> plain{};

struct WireCompat : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    pw::meta::Metainfo meta;
    int n = 0;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        // 18 pieces of 64 KiB: the bitfield has 6 spare bits.
        data = random_bytes((18 << 16) - 1000, 21);
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
    static std::string msg(pw::wire::MsgId id) {
        std::string m;
        pw::wire::put_simple(m, id);
        return m;
    }
    static std::string bitfield(const std::string& bits) {
        std::string m;
        pw::wire::put_bitfield(m, bits);
        return m;
    }
};

}  // namespace

// aria2 sends a whole BITFIELD instead of HAVEs when 20+ pieces wait to be announced.
TEST_F(WireCompat, LaterBitfieldAddsPieces) {
    int half = n / 2;
    std::atomic<int> served{0};
    ScriptPeer peer("127.0.40.2", meta, data, plain,
                    bitfield(prefix_bits(n, half)) + msg(pw::wire::MsgId::unchoke),
                    [&](ScriptPeer& self, const WireMsg& m) -> std::string {
                        if (m.id != 6) return {};
                        std::string out = self.block(m.a, m.b, m.c);
                        if (++served == 4) out += bitfield(all_bits(n));
                        return out;
                    });
    Session s(loopback("127.0.40.3", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.40.2")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(30)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_EQ(peer.connections(), 1);
}

// A later bitfield may also withdraw pieces: the blocks asked of those are cancelled
// and go back to the pool, the rest keeps coming.
TEST_F(WireCompat, LaterBitfieldWithdrawsPieces) {
    int half = n / 2;
    std::atomic<bool> withdrawn{false};
    ScriptPeer peer("127.0.40.4", meta, data, plain,
                    bitfield(all_bits(n)) + msg(pw::wire::MsgId::unchoke),
                    [&](ScriptPeer& self, const WireMsg& m) -> std::string {
                        if (m.id != 6) return {};
                        if (m.a < static_cast<std::uint32_t>(half))
                            return self.block(m.a, m.b, m.c);
                        if (withdrawn.exchange(true)) return {};
                        return bitfield(prefix_bits(n, half));
                    });
    Session s(loopback("127.0.40.5", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.40.4")}));
    ASSERT_TRUE(wait_for([&] { return s.status(id) && s.status(id)->pieces_have == half; },
                         std::chrono::seconds(30)));
    ASSERT_TRUE(withdrawn);
    // Every block asked of a withdrawn piece was cancelled, before any request timeout.
    auto requests = peer.received(6), cancels = peer.received(8);
    int withdrawn_requests = 0;
    for (auto& r : requests) withdrawn_requests += r.a >= static_cast<std::uint32_t>(half);
    int withdrawn_cancels = 0;
    for (auto& c : cancels) withdrawn_cancels += c.a >= static_cast<std::uint32_t>(half);
    EXPECT_GT(withdrawn_requests, 0);
    EXPECT_EQ(withdrawn_cancels, withdrawn_requests);
    EXPECT_EQ(peer.connections(), 1);
    EXPECT_EQ(s.status(id)->peers, 1);
}

// Spare bits after the last piece are ignored, not a reason to hang up.
TEST_F(WireCompat, BitfieldSpareBitsIgnored) {
    ASSERT_NE(n % 8, 0);
    std::string bits = all_bits(n);
    bits.back() = '\xff';
    ScriptPeer peer("127.0.40.6", meta, data, plain,
                    bitfield(bits) + msg(pw::wire::MsgId::unchoke));
    Session s(loopback("127.0.40.7", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.40.6")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(30)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_EQ(peer.connections(), 1);
}

// Haves before the bitfield, keep-alives, unknown ids, an extension message before any
// extension handshake, repeated choke/unchoke/interested: all accepted.
TEST_F(WireCompat, NoisyPeer) {
    std::string prelude;
    pw::wire::put_have(prelude, 0);
    pw::wire::put_keepalive(prelude);
    prelude += std::string("\0\0\0\x03\x42xy", 7);  // unknown id 0x42
    pw::wire::put_extended(prelude, 7, "junk");     // no extension handshake was sent
    pw::wire::put_have(prelude, 1);
    prelude += bitfield(prefix_bits(n, n - 1));
    pw::wire::put_have(prelude, 1);  // duplicate
    prelude += msg(pw::wire::MsgId::interested) + msg(pw::wire::MsgId::interested);
    prelude +=
        msg(pw::wire::MsgId::unchoke) + msg(pw::wire::MsgId::choke) + msg(pw::wire::MsgId::choke);
    prelude += msg(pw::wire::MsgId::unchoke) + msg(pw::wire::MsgId::unchoke);
    pw::wire::put_keepalive(prelude);
    pw::wire::put_have(prelude, static_cast<std::uint32_t>(n - 1));
    ScriptPeer peer("127.0.40.8", meta, data, plain, prelude);
    Session s(loopback("127.0.40.9", dir / "r"));
    auto id = s.add_torrent(get({peer.endpoint("127.0.40.8")}));
    ASSERT_TRUE(wait_for([&] { return complete(s, id); }, std::chrono::seconds(30)));
    EXPECT_EQ(read_file(dir / "dl" / "payload.bin"), data);
    EXPECT_EQ(peer.connections(), 1);
}
