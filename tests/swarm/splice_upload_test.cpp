// Uploads by splice (session/torrent_upload.cpp): a plaintext TCP peer gets its blocks
// through a pipe. The bytes are the file's, a peer that resets the connection while
// blocks are in flight costs the seeder nothing (no SIGPIPE, no leaked pipe), and the
// seeder goes on serving others.
#include <gtest/gtest.h>

#include <csignal>

#include "script_peer.hpp"
#include "storage/splice_pipe.hpp"
#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Session;

namespace {

constexpr std::array<std::uint8_t, 8> fast_bit{0, 0, 0, 0, 0, 0, 0, 0x04};
constexpr std::uint8_t id_unchoke = 1, id_piece = 7;
constexpr std::uint32_t piece_size = 256 << 10, block = 16 << 10;

struct SpliceUpload : ::testing::Test {
    fs::path dir;
    std::string data;
    pw::meta::Metainfo meta;
    std::unique_ptr<Session> seed;

    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(32 << 20, 71);  // 128 pieces of 256 KiB
        write_file(dir / "seed" / "payload.bin", data);
        auto torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", piece_size);
        meta = pw::meta::load(torrent);
        // A program that left SIGPIPE at its default: the session must not die of it.
        std::signal(SIGPIPE, SIG_DFL);
        seed = std::make_unique<Session>(loopback("127.0.62.1", dir / "rs"));
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = (dir / "seed").string();
        auto id = seed->add_torrent(p);
        ASSERT_TRUE(wait_for([&] { return complete(*seed, id); }, std::chrono::seconds(30)));
    }
    void TearDown() override {
        seed.reset();
        fs::remove_all(dir);
    }

    // A plaintext peer, unchoked and interested.
    std::unique_ptr<RawClient> client(const std::string& ip, char id) {
        auto c = std::make_unique<RawClient>("127.0.62.1", seed->listen_port(), ip);
        EXPECT_TRUE(c->ok());
        EXPECT_TRUE(c->handshake(meta.info_hash, fast_bit, id));
        EXPECT_TRUE(c->send(msg(pw::wire::MsgId::interested)));
        EXPECT_TRUE(c->wait_for_id(id_unchoke));
        return c;
    }
};

}  // namespace

TEST_F(SpliceUpload, SigpipeIsIgnoredWhenLeftAtItsDefault) {
    struct sigaction now {};
    ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, SIG_IGN);
}

// Whole pieces, requested block by block, arrive as the file has them.
TEST_F(SpliceUpload, BlocksAreTheFilesBytes) {
    auto c = client("127.0.62.2", 'a');
    for (std::uint32_t piece : {0u, 77u, 127u}) {
        std::string req;
        for (std::uint32_t b = 0; b < piece_size; b += block) req += request(piece, b, block);
        ASSERT_TRUE(c->send(req));
        for (std::uint32_t b = 0; b < piece_size; b += block) {
            auto m = c->wait_for_id(id_piece);
            ASSERT_TRUE(m);
            EXPECT_EQ(m->a, piece);
            EXPECT_EQ(m->body.size(), 8 + block);
            auto begin = static_cast<std::uint32_t>(static_cast<unsigned char>(m->body[4]) << 24 |
                                                    static_cast<unsigned char>(m->body[5]) << 16 |
                                                    static_cast<unsigned char>(m->body[6]) << 8 |
                                                    static_cast<unsigned char>(m->body[7]));
            EXPECT_TRUE(m->body.substr(8) ==
                        data.substr(std::size_t(piece) * piece_size + begin, block))
                << "piece " << piece << " block at " << begin;
        }
    }
}

// A peer asks for 16 MiB, reads none of it and resets the connection: the seeder's
// splices into that socket fail (EPIPE, ECONNRESET) without a signal, its pipes are given
// back, and another peer is served right after.
TEST_F(SpliceUpload, APeerResettingMidUploadCostsNothing) {
    const int pipes_before = pw::storage::SplicePipe::live();
    for (int round = 0; round < 3; ++round) {
        auto c = client("127.0.62.3", static_cast<char>('b' + round));
        std::string req;
        for (std::uint32_t piece = 0; piece < 64; ++piece)
            for (std::uint32_t b = 0; b < piece_size; b += block) req += request(piece, b, block);
        ASSERT_TRUE(c->send(req));
        ASSERT_TRUE(c->wait_for_id(id_piece));  // uploading has begun
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        c->reset();
    }
    auto other = client("127.0.62.4", 'z');
    ASSERT_TRUE(other->send(request(5, block, block)));
    auto m = other->wait_for_id(id_piece);
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->body.substr(8) == data.substr(5 * std::size_t(piece_size) + block, block));
    EXPECT_TRUE(wait_for([&] { return pw::storage::SplicePipe::live() == pipes_before; },
                         std::chrono::seconds(10)))
        << pw::storage::SplicePipe::live() << " pipes still open";
}
