// Message Stream Encryption between sessions on 127.0.0.x (specs/mse.md): the
// encryption policies (Settings::encryption) meeting each other, in both dialling
// directions, and a magnet's metadata fetch over an encrypted connection.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Encryption;
using piecewise::Session;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct Encrypted : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(3 << 20, 7);
        write_file(dir / "seed" / "payload.bin", data);
        torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    }
    void TearDown() override { fs::remove_all(dir); }

    piecewise::Settings settings(const std::string& ip, const std::string& name, Encryption e) {
        auto s = loopback(ip, dir / ("r-" + name));
        s.encryption = e;
        return s;
    }
    AddTorrentParams params(const fs::path& save, std::vector<std::string> peers,
                            bool upload_only) {
        AddTorrentParams p;
        p.torrent_file = torrent.string();
        p.save_path = save.string();
        p.peers = std::move(peers);
        p.upload_only = upload_only;
        return p;
    }

    // The leecher at 127.0.0.3 downloads from the seed at 127.0.0.2; `seed_dials`: the
    // seed is told about the leecher (so it is the one that dials) instead of the reverse.
    // Returns whether the download completed within `wait`.
    bool transfer(Encryption seed_policy, Encryption leech_policy, bool seed_dials,
                  std::chrono::seconds wait) {
        Session leech(settings("127.0.0.3", "leech", leech_policy));
        std::vector<std::string> to_leech;
        if (seed_dials) to_leech.push_back(endpoint("127.0.0.3", leech));
        Session seed(settings("127.0.0.2", "seed", seed_policy));
        auto sid = seed.add_torrent(params(dir / "seed", to_leech, true));
        std::vector<std::string> to_seed;
        if (!seed_dials) to_seed.push_back(endpoint("127.0.0.2", seed));
        auto lid = leech.add_torrent(params(dir / "leech", to_seed, false));
        bool done = wait_for([&] { return complete(leech, lid); }, wait);
        if (done) {
            leech.stop();
            EXPECT_EQ(read_file(dir / "leech" / "payload.bin"), data);
        } else {
            // Never even a partial transfer.
            EXPECT_EQ(leech.status(lid)->downloaded, 0);
            EXPECT_EQ(seed.status(sid)->uploaded, 0);
            EXPECT_EQ(leech.status(lid)->peers, 0);
        }
        return done;
    }
};

}  // namespace

TEST_F(Encrypted, RequireToRequireTransfers) {
    EXPECT_TRUE(transfer(Encryption::require, Encryption::require, false, limit));
}

TEST_F(Encrypted, RequireToRequireTransfersWhenTheSeedDials) {
    EXPECT_TRUE(transfer(Encryption::require, Encryption::require, true, limit));
}

TEST_F(Encrypted, PreferMeetsRequireEncrypted) {
    EXPECT_TRUE(transfer(Encryption::prefer, Encryption::require, false, limit));
    fs::remove_all(dir / "leech");
    fs::remove_all(dir / "r-leech");
    EXPECT_TRUE(transfer(Encryption::require, Encryption::prefer, false, limit));
}

TEST_F(Encrypted, RequireAndDisableNeverConnect) {
    EXPECT_FALSE(
        transfer(Encryption::disable, Encryption::require, false, std::chrono::seconds(6)));
    EXPECT_FALSE(
        transfer(Encryption::require, Encryption::disable, false, std::chrono::seconds(6)));
}

TEST_F(Encrypted, PreferFallsBackToPlaintextAgainstDisable) {
    // The leecher dials encrypted first, the seed closes, the leecher redials in plaintext.
    EXPECT_TRUE(transfer(Encryption::disable, Encryption::prefer, false, limit));
    fs::remove_all(dir / "leech");
    fs::remove_all(dir / "r-leech");
    EXPECT_TRUE(transfer(Encryption::prefer, Encryption::disable, false, limit));
}

TEST_F(Encrypted, MagnetMetadataOverEncryptedConnections) {
    Session seed(settings("127.0.0.2", "seed", Encryption::require));
    auto sid = seed.add_torrent(params(dir / "seed", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    Session leech(settings("127.0.0.3", "leech", Encryption::require));
    AddTorrentParams p;
    auto meta = pw::meta::load(torrent.string());
    p.magnet =
        "magnet:?xt=urn:btih:" + meta.info_hash.hex() + "&x.pe=" + endpoint("127.0.0.2", seed);
    p.save_path = (dir / "leech").string();
    auto lid = leech.add_torrent(p);
    ASSERT_TRUE(wait_for([&] { return complete(leech, lid); }, limit));
    leech.stop();
    EXPECT_EQ(read_file(dir / "leech" / "payload.bin"), data);
}

TEST_F(Encrypted, RequireClosesAPlaintextHandshake) {
    Session seed(settings("127.0.0.2", "seed", Encryption::require));
    seed.add_torrent(params(dir / "seed", {}, true));
    auto meta = pw::meta::load(torrent.string());
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.2"), seed.listen_port()});
    std::string hs = std::string("\x13") + "BitTorrent protocol" + std::string(8, '\0') +
                     std::string(meta.info_hash.view()) + std::string(20, 'p');
    asio::write(s, asio::buffer(hs));
    char buf[68];
    boost::system::error_code ec;
    std::size_t n = asio::read(s, asio::buffer(buf), ec);  // the session closes: EOF, no reply
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

// set_encryption changes the policy of a running session: after `require`, the plaintext
// handshake that was answered before is closed.
TEST_F(Encrypted, SetEncryptionAppliesToNewConnections) {
    Session seed(settings("127.0.0.2", "seed", Encryption::prefer));
    auto sid = seed.add_torrent(params(dir / "seed", {}, true));
    ASSERT_TRUE(wait_for([&] { return complete(seed, sid); }, limit));
    auto meta = pw::meta::load(torrent.string());
    namespace asio = boost::asio;
    auto plaintext_reply = [&] {
        asio::io_context io;
        asio::ip::tcp::socket s(io);
        s.connect({asio::ip::make_address("127.0.0.2"), seed.listen_port()});
        std::string hs = std::string("\x13") + "BitTorrent protocol" + std::string(8, '\0') +
                         std::string(meta.info_hash.view()) + std::string(20, 'p');
        asio::write(s, asio::buffer(hs));
        char buf[68];
        boost::system::error_code ec;
        return asio::read(s, asio::buffer(buf), ec);
    };
    EXPECT_EQ(plaintext_reply(), 68u);  // prefer answers a plaintext handshake
    ASSERT_TRUE(seed.set_encryption(Encryption::require));
    EXPECT_EQ(plaintext_reply(), 0u);   // require closes it
}
