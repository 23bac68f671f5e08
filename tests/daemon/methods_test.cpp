// RPC methods end to end through a real Daemon (Session on 127.0.0.1, no DHT): each
// method in both dialects, bad types, missing fields, unknown ids, restarts.
#include "daemon/rpc/methods.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "daemon/rpc/port_test.hpp"

#include "rpc_fixture.hpp"

namespace {

// The whole fixture lives in rpc_fixture.hpp (shared with the newer test files).
struct RpcTest : DaemonRpc {};

}  // namespace

TEST_F(RpcTest, AddByFileAndMetainfoDuplicateAndGet) {
    auto a = add_file();
    ASSERT_TRUE(a.contains("torrent-added"));
    auto& t = a.at("torrent-added").as_object();
    EXPECT_EQ(t.at("id"), 1);
    EXPECT_EQ(t.at("name"), "file.bin");
    std::string hash(t.at("hashString").as_string());
    EXPECT_EQ(hash.size(), 40u);

    namespace b64 = boost::beast::detail::base64;
    std::string enc(b64::encoded_size(torrent_bytes.size()), '\0');
    enc.resize(b64::encode(enc.data(), torrent_bytes.data(), torrent_bytes.size()));
    auto d = jrpc("torrent_add", R"({"metainfo":")" + enc + R"("})");
    ASSERT_TRUE(d.contains("torrent_duplicate")) << json::serialize(d);
    EXPECT_EQ(d.at("torrent_duplicate").at("hash_string"), json::value(hash));

    ASSERT_TRUE(wait_status(6));  // seeding: the data is there
    auto g = get1(list_fields);
    EXPECT_EQ(g.size(), 14u);
    EXPECT_EQ(g.at("name"), "file.bin");
    EXPECT_EQ(g.at("leftUntilDone"), 0);
    EXPECT_EQ(g.at("sizeWhenDone"), 200000);
    EXPECT_EQ(g.at("error"), 0);
    auto i = get1(
        R"(["hashString","totalSize","percentDone","downloadDir","addedDate","files","fileStats","bogusField"])");
    EXPECT_EQ(i.at("hashString"), json::value(hash));
    EXPECT_EQ(i.at("percentDone").to_number<double>(), 1.0);
    EXPECT_EQ(i.at("downloadDir"), json::value((dir / "data").string()));
    EXPECT_GT(i.at("addedDate").as_int64(), 0);
    EXPECT_EQ(i.at("files").at(0).at("bytesCompleted"), 200000);
    EXPECT_FALSE(i.contains("bogusField"));

    // ids as a bare number, a hash string, JSON-RPC snake_case, table format.
    auto byhash = legacy("torrent-get", R"({"ids":[")" + hash + R"("],"fields":["id"]})");
    EXPECT_EQ(byhash.at("torrents").at(0).at("id"), 1);
    auto tbl = jrpc("torrent_get", R"({"ids":1,"fields":["id","hash_string"],"format":"table"})");
    auto& rows = tbl.at("torrents").as_array();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at(1), "hash_string");
    EXPECT_EQ(rows[1].at(1), json::value(hash));
    auto recent = legacy("torrent-get", R"({"ids":"recently-active","fields":["id"]})");
    EXPECT_TRUE(recent.contains("removed"));
}

TEST_F(RpcTest, StopStartVerifyReannounceRemove) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    legacy("torrent-stop", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(0));
    jrpc("torrent_start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    legacy("torrent-reannounce", R"({"ids":1})");
    jrpc("torrent_verify", R"({})");  // no ids: every torrent
    ASSERT_TRUE(wait_status(6));
    legacy("torrent-start-now", R"({"ids":[1]})");
    legacy("torrent-remove", R"({"ids":[1],"delete-local-data":false})");
    EXPECT_TRUE(legacy("torrent-get", R"({"fields":["id"]})").at("torrents").as_array().empty());
    EXPECT_TRUE(fs::exists(dir / "data" / "file.bin"));
    EXPECT_EQ(
        legacy("torrent-get", R"({"ids":"recently-active","fields":["id"]})").at("removed").at(0),
        1);
}

TEST_F(RpcTest, RemoveWithDataDeletesTheFile) {
    add_file();
    ASSERT_TRUE(wait_status(6));
    jrpc("torrent_remove", R"({"ids":[1],"delete_local_data":true})");
    for (int i = 0; i < 100 && fs::exists(dir / "data" / "file.bin"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(fs::exists(dir / "data" / "file.bin"));
    EXPECT_TRUE(fs::exists(dir / "t.torrent"));
}

TEST_F(RpcTest, RestartKeepsTorrentsAndPausedState) {
    add_file(true);
    legacy(
        "torrent-add",
        R"({"filename":"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=m","paused":true})");
    ASSERT_TRUE(wait_status(0));
    EXPECT_EQ(get1(R"(["percentDone"])").at("percentDone").to_number<double>(),
              0.0);  // never checked while paused
    restart();
    auto all = legacy("torrent-get", R"({"fields":["id","name","status","hashString"]})")
                   .at("torrents")
                   .as_array();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].at("name"), "file.bin");
    EXPECT_EQ(all[0].at("status"), 0);
    EXPECT_EQ(all[1].at("name"), "m");
    EXPECT_EQ(all[1].at("status"), 0);
    legacy("torrent-start", R"({"ids":[1]})");
    ASSERT_TRUE(wait_status(6));
    restart();
    ASSERT_TRUE(wait_status(6));  // started stays started
}

TEST_F(RpcTest, SessionMethods) {
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("download-dir"), json::value((dir / "dl").string()));
    EXPECT_TRUE(s.contains("rpc-version"));
    auto j = jrpc("session_get", R"({"fields":["download_dir","peer_port"]})");
    EXPECT_EQ(j.size(), 2u);
    EXPECT_EQ(j.at("peer_port"), daemon->peer_port());
    legacy("session-set", R"({"download-dir":"/srv/dl"})");
    EXPECT_EQ(legacy("session-get").at("download-dir"), "/srv/dl");
    EXPECT_NE(legacy_error("session-set", R"({"download-dir":"relative"})").find("absolute"),
              std::string::npos);
    EXPECT_NE(legacy_error("session-set", R"({"anti-brute-force-enabled":true})")
                  .find("anti-brute-force-enabled"),
              std::string::npos);
    EXPECT_EQ(jrpc_error("session_set", R"({"anti_brute_force_enabled":true})"), -32602);
    EXPECT_EQ(legacy("session-get").at("encryption"), "preferred");
    legacy("session-set", R"({"encryption":"required"})");
    EXPECT_EQ(jrpc("session_get").at("encryption"), "required");
    jrpc("session_set", R"({"encryption":"tolerated"})");
    EXPECT_EQ(legacy("session-get").at("encryption"), "tolerated");
    EXPECT_EQ(jrpc_error("session_set", R"({"encryption":"always"})"), -32602);
    EXPECT_EQ(jrpc_error("session_set", R"({"encryption":2})"), -32602);
    auto st = legacy("session-stats");
    EXPECT_EQ(st.at("torrentCount"), 0);
    EXPECT_TRUE(jrpc("session_stats").contains("current_stats"));
    auto fsp = legacy("free-space", R"({"path":")" + dir.string() + R"("})");
    EXPECT_GT(fsp.at("size-bytes").as_int64(), 0);
    EXPECT_GT(jrpc("free_space", R"({"path":"/"})").at("total_size").as_int64(), 0);
    EXPECT_FALSE(rpc->close_requested());
    jrpc("session_close");
    EXPECT_TRUE(rpc->close_requested());
}

TEST_F(RpcTest, PortForwardingEnabledSaysWhetherNatPmpOrUpnpIsOn) {
    EXPECT_EQ(legacy("session-get").at("port-forwarding-enabled"), false);
    // UPnP on, aimed at a closed port on 127.0.0.1: the mapping fails, the setting shows.
    tweak = [](piecewise::Settings& s) {
        s.upnp = true;
        s.upnp_igd = "http://127.0.0.1:9/desc.xml";
    };
    restart();
    EXPECT_EQ(legacy("session-get").at("port-forwarding-enabled"), true);
    EXPECT_EQ(jrpc("session_get").at("port_forwarding_enabled"), true);
}

TEST_F(RpcTest, PortTestConnectsToTheOwnListenerOnly) {
    // The daemon listens on 127.0.0.1 (IPv4 only): open there, not on IPv6.
    auto r = jrpc("port_test", "{}");
    EXPECT_TRUE(r.at("port_is_open").as_bool());
    EXPECT_EQ(r.at("ip_protocol"), "ipv4");
    EXPECT_TRUE(legacy("port-test", "{}").at("port-is-open").as_bool());
    r = jrpc("port_test", R"({"ip_protocol":"ipv6"})");
    EXPECT_FALSE(r.at("port_is_open").as_bool());
    EXPECT_EQ(r.at("ip_protocol"), "ipv6");
    // A port nobody listens on (bound, then closed): refused, so not open.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    auto port = a.local_endpoint().port();
    a.close();
    EXPECT_FALSE(pw::daemon::rpc::port_test("0.0.0.0:1", port, std::nullopt).port_is_open);
    // Two listeners (--listen twice): "ipv6" tests the IPv6 one.
    boost::asio::ip::tcp::acceptor a6(io, {boost::asio::ip::make_address("::1"), 0});
    auto port6 = a6.local_endpoint().port();
    const std::string v6 = "[::1]:" + std::to_string(port6);
    auto t6 = pw::daemon::rpc::port_test("127.0.0.1:" + std::to_string(port6), port6, "ipv6",
                                         std::chrono::seconds(2), v6);
    EXPECT_TRUE(t6.port_is_open);
    EXPECT_EQ(t6.ip_protocol, "ipv6");
    EXPECT_FALSE(pw::daemon::rpc::port_test("127.0.0.1:" + std::to_string(port6), port6, "ipv6").port_is_open);
}

TEST_F(RpcTest, UnsupportedAndBadInputAreErrorsNeverSuccess) {
    // No blocklist-url set: an error, not a pretended update.
    EXPECT_NE(legacy_error("blocklist-update", "{}").find("blocklist-url is not set"), std::string::npos);
    EXPECT_EQ(jrpc_error("blocklist_update", "{}"), -32602);
    EXPECT_EQ(jrpc_error("port_test", R"({"ip_protocol":"ipx"})"), -32602);
    EXPECT_EQ(jrpc_error("port_test", R"({"ip_protocol":4})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_set", R"({"ids":[1],"seedRatioMode":1})"),
              -32602);  // no torrent 1
    EXPECT_EQ(jrpc_error("torrent_get", R"({"fields":"id"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_get", R"({})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_get", R"({"fields":[1]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_get", R"({"fields":["id"],"ids":[99]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_get", R"({"fields":["id"],"ids":{"a":1}})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_get", R"({"fields":["id"],"format":"csv"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_stop", R"({"ids":[7]})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_add", R"({})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_add", R"({"filename":5})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_add", R"({"metainfo":"%%%"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_add", R"({"metainfo":"aGVsbG8="})"),
              -32602);  // "hello": not a torrent
    EXPECT_EQ(jrpc_error("torrent_add", R"({"filename":"/nonexistent.torrent"})"), -32602);
    // Nothing listens on 127.0.0.1:80 in the test namespace: a fetch error (code 7).
    EXPECT_EQ(jrpc_error("torrent_add", R"({"filename":"http://127.0.0.1/x.torrent"})"), 7);
    EXPECT_NE(legacy_error("torrent-add", R"({"filename":"x.torrent","download-dir":"rel"})")
                  .find("absolute"),
              std::string::npos);
    EXPECT_NE(
        legacy_error("torrent-add", R"({"filename":"x","files-wanted":"0"})").find("files_wanted"),
        std::string::npos);
    EXPECT_EQ(jrpc_error("free_space", R"({"path":"rel"})"), -32602);
    EXPECT_EQ(jrpc_error("torrent_remove", R"({"ids":[1],"delete_local_data":"yes"})"), -32602);
    auto pe = call("{x");
    EXPECT_EQ(pe.at("result"), "Parse error: syntax error");
    // A notification gets no body.
    EXPECT_EQ(rpc->handle(R"({"jsonrpc":"2.0","method":"session_stats"})"), "");
}

// transmission-remote's --start-paused before -a sends session-set start-added-torrents
// false: torrents added afterwards without an explicit "paused" stay paused, across a
// restart; an explicit "paused" still wins.
TEST_F(RpcTest, StartAddedTorrentsSettingPausesNewTorrents) {
    auto add = [&] {  // no "paused" key, as transmission-remote -a sends it
        legacy("torrent-add", R"({"filename":")" + (dir / "t.torrent").string() +
                                  R"(","download-dir":")" + (dir / "data").string() + R"("})");
    };
    EXPECT_EQ(legacy("session-get").at("start-added-torrents"), true);
    legacy("session-set", R"({"start-added-torrents":false})");
    EXPECT_EQ(jrpc("session_get").at("start_added_torrents"), false);
    EXPECT_EQ(jrpc_error("session_set", R"({"start_added_torrents":"no"})"), -32602);
    restart();
    EXPECT_EQ(legacy("session-get").at("start-added-torrents"), false);
    add();
    ASSERT_TRUE(wait_status(0));
    legacy("torrent-remove", R"({"ids":[1]})");
    legacy("session-set", R"({"start-added-torrents":true})");
    add();
    auto all = legacy("torrent-get", R"({"fields":["id"]})").at("torrents").as_array();
    ASSERT_EQ(all.size(), 1u);
    auto id = all[0].at("id").as_int64();
    bool seeding = false;
    for (int i = 0; i < 200 && !seeding; ++i) {
        auto t =
            legacy("torrent-get", "{\"ids\":[" + std::to_string(id) + "],\"fields\":[\"status\"]}");
        seeding = t.at("torrents").at(0).at("status") == 6;
        if (!seeding) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(seeding);
}

// session-set's download-dir and encryption survive a restart. A --download-dir that is
// new on the command line (or gone from it) replaces the stored one, as transmission-
// daemon's -w does at that start; while the command line stays the same, a value set over
// the RPC since is kept.
TEST_F(RpcTest, SessionSetValuesSurviveARestart) {
    legacy("session-set", R"({"download-dir":"/srv/dl","encryption":"required"})");
    restart();
    auto s = legacy("session-get");
    EXPECT_EQ(s.at("download-dir"), "/srv/dl");
    EXPECT_EQ(s.at("encryption"), "required");
    download_dir_given = true;
    restart();
    s = legacy("session-get");
    EXPECT_EQ(s.at("download-dir"), json::value((dir / "dl").string()));
    EXPECT_EQ(s.at("encryption"), "required");
    legacy("session-set", R"({"download-dir":"/srv/two"})");
    restart();  // the same command line: the RPC's value is kept
    EXPECT_EQ(legacy("session-get").at("download-dir"), "/srv/two");
    download_dir_given = false;
    restart();  // the flag is gone: the command line's (default) value wins again
    EXPECT_EQ(legacy("session-get").at("download-dir"), json::value((dir / "dl").string()));
    legacy("session-set", R"({"download-dir":"/srv/three"})");
    restart();
    EXPECT_EQ(legacy("session-get").at("download-dir"), "/srv/three");
}

TEST_F(RpcTest, CacheSizeMbIsTheWriteCacheBoundAndKept) {
    EXPECT_EQ(legacy("session-get").at("cache-size-mb").to_number<std::int64_t>(), 32);
    legacy("session-set", R"({"cache-size-mb":8})");
    EXPECT_EQ(daemon->config().settings.cache_bytes, 8 << 20);
    EXPECT_EQ(jrpc("session_get").at("cache_size_mb").to_number<std::int64_t>(), 8);
    jrpc("session_set", R"({"cache_size_mb":0})");
    EXPECT_EQ(legacy("session-get").at("cache-size-mb").to_number<std::int64_t>(), 0);
    legacy("session-set", R"({"cache-size-mb":64})");
    restart();
    EXPECT_EQ(jrpc("session_get").at("cache_size_mb").to_number<std::int64_t>(), 64);
    EXPECT_EQ(daemon->config().settings.cache_bytes, 64 << 20);
    for (const char* bad : {R"({"cache_size_mb":-1})", R"({"cache_size_mb":16385})", R"({"cache_size_mb":"4"})",
                            R"({"cache_size_mb":1.5})"})
        EXPECT_EQ(jrpc_error("session_set", bad), -32602) << bad;
    EXPECT_EQ(legacy("session-get").at("cache-size-mb").to_number<std::int64_t>(), 64);
}
