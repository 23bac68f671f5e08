// uTP (BEP 29) between sessions on 127.0.0.x: uTP only (Settings::tcp = false) in both
// dialling directions, with and without MSE, byte-identical; a TCP-first dialler falling
// back to uTP for a peer that refuses TCP; and uTP through a UDP relay that delays,
// drops, reorders and duplicates datagrams.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <random>
#include <thread>

#include "swarm_util.hpp"

using namespace swarm_test;
using piecewise::AddTorrentParams;
using piecewise::Encryption;
using piecewise::Session;

namespace {

constexpr auto limit = std::chrono::seconds(60);

struct Utp : ::testing::Test {
    fs::path dir;
    std::string data;
    fs::path torrent;
    void SetUp() override {
        dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        data = random_bytes(6 << 20, 11);
        write_file(dir / "seed" / "payload.bin", data);
        torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    }
    void TearDown() override { fs::remove_all(dir); }

    piecewise::Settings settings(const std::string& ip, const std::string& name, bool tcp,
                                 bool utp = true) {
        auto s = loopback(ip, dir / ("r-" + name));
        s.tcp = tcp;
        s.utp = utp;
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
    // The leecher at 127.0.0.3 downloads from the seed at 127.0.0.2 (or the seed dials).
    bool transfer(piecewise::Settings seed_s, piecewise::Settings leech_s, bool seed_dials,
                  std::chrono::seconds wait) {
        Session leech(leech_s);
        std::vector<std::string> to_leech;
        if (seed_dials) to_leech.push_back(endpoint("127.0.0.3", leech));
        Session seed(seed_s);
        seed.add_torrent(params(dir / "seed", to_leech, true));
        std::vector<std::string> to_seed;
        if (!seed_dials) to_seed.push_back(endpoint("127.0.0.2", seed));
        auto lid = leech.add_torrent(params(dir / "leech", to_seed, false));
        bool done = wait_for([&] { return complete(leech, lid); }, wait);
        leech.stop();
        if (done) {
            EXPECT_TRUE(read_file(dir / "leech" / "payload.bin") == data);
        }
        return done;
    }
};

}  // namespace

TEST_F(Utp, UtpOnlyLeecherDials) {
    EXPECT_TRUE(transfer(settings("127.0.0.2", "seed", false),
                         settings("127.0.0.3", "leech", false), false, limit));
}

TEST_F(Utp, UtpOnlySeedDials) {
    EXPECT_TRUE(transfer(settings("127.0.0.2", "seed", false),
                         settings("127.0.0.3", "leech", false), true, limit));
}

TEST_F(Utp, UtpOnlyPlaintext) {
    auto s = settings("127.0.0.2", "seed", false);
    auto l = settings("127.0.0.3", "leech", false);
    s.encryption = l.encryption = Encryption::disable;
    EXPECT_TRUE(transfer(s, l, false, limit));
}

TEST_F(Utp, TcpFirstFallsBackToUtp) {
    // The leecher speaks both and does not know the seed speaks uTP: TCP is refused,
    // uTP gets through.
    EXPECT_TRUE(transfer(settings("127.0.0.2", "seed", false), settings("127.0.0.3", "leech", true),
                         false, limit));
}

TEST_F(Utp, NoUtpMeetsUtpOnly) {
    // A TCP-only peer and a uTP-only one have no transport in common.
    EXPECT_FALSE(transfer(settings("127.0.0.2", "seed", false),
                          settings("127.0.0.3", "leech", true, false), false,
                          std::chrono::seconds(5)));
}

namespace {

// A UDP relay on 127.0.0.9: datagrams from `a` go to `b` and back, each delayed by
// `delay` plus up to `jitter` (which reorders them), a fraction `loss` dropped and
// `dup` duplicated. Runs on its own thread until destroyed.
class Relay {
  public:
    Relay(std::uint16_t listen_port, boost::asio::ip::udp::endpoint target,
          std::chrono::milliseconds delay, std::chrono::milliseconds jitter, double loss,
          double dup)
        : sock_(io_, {boost::asio::ip::make_address("127.0.0.9"), listen_port}),
          target_(target),
          delay_(delay),
          jitter_(jitter),
          loss_(loss),
          dup_(dup) {
        read();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Relay() {
        io_.stop();
        thread_.join();
    }
    boost::asio::ip::udp::endpoint endpoint() const { return sock_.local_endpoint(); }
    std::uint64_t dropped() const { return dropped_; }

  private:
    void read() {
        sock_.async_receive_from(
            boost::asio::buffer(buf_), from_, [this](boost::system::error_code ec, std::size_t n) {
                if (ec) return;
                // The first sender other than the target is the client side.
                if (from_ != target_ && client_.port() == 0) client_ = from_;
                auto to = from_ == target_ ? client_ : target_;
                std::uniform_real_distribution<double> u(0, 1);
                if (u(rng_) < loss_) {
                    ++dropped_;
                } else {
                    int copies = u(rng_) < dup_ ? 2 : 1;
                    for (int i = 0; i < copies; ++i) {
                        auto d = delay_ + std::chrono::milliseconds(rng_() % (jitter_.count() + 1));
                        auto t = std::make_shared<boost::asio::steady_timer>(io_, d);
                        auto bytes = std::make_shared<std::string>(buf_.data(), n);
                        t->async_wait([this, t, bytes, to](boost::system::error_code) {
                            boost::system::error_code e;
                            sock_.send_to(boost::asio::buffer(*bytes), to, 0, e);
                        });
                    }
                }
                read();
            });
    }
    boost::asio::io_context io_;
    boost::asio::ip::udp::socket sock_;
    boost::asio::ip::udp::endpoint target_, client_, from_;
    std::chrono::milliseconds delay_, jitter_;
    double loss_, dup_;
    std::mt19937 rng_{5};
    std::array<char, 65536> buf_{};
    std::uint64_t dropped_ = 0;
    std::thread thread_;
};

}  // namespace

TEST_F(Utp, LossyRelay) {
    // 25 ms each way (50 ms round trip) plus up to 10 ms of jitter, 1% loss, 1% duplicates.
    data = random_bytes(2 << 20, 13);
    write_file(dir / "seed" / "payload.bin", data);
    torrent = make_torrent(dir / "seed" / "payload.bin", dir / "t.torrent", 64 << 10);
    Session seed(settings("127.0.0.2", "seed", false));
    boost::asio::ip::udp::endpoint seed_ep(boost::asio::ip::make_address("127.0.0.2"),
                                           seed.listen_port());
    Relay relay(0, seed_ep, std::chrono::milliseconds(25), std::chrono::milliseconds(10), 0.01,
                0.01);
    seed.add_torrent(params(dir / "seed", {}, true));
    Session leech(settings("127.0.0.3", "leech", false));
    auto lid = leech.add_torrent(
        params(dir / "leech", {"127.0.0.9:" + std::to_string(relay.endpoint().port())}, false));
    bool done = wait_for([&] { return complete(leech, lid); }, std::chrono::seconds(120));
    leech.stop();
    ASSERT_TRUE(done);
    EXPECT_TRUE(read_file(dir / "leech" / "payload.bin") == data);
    EXPECT_GT(relay.dropped(), 0u);
}
