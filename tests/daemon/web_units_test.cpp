// Pure units behind the web UI's endpoints: SSE framing and the bounded client queue,
// the torrent list diff, the Prometheus rendering, the embedded assets and MIME types.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "daemon/events/sse.hpp"
#include "daemon/events/torrent_diff.hpp"
#include "daemon/http/metrics.hpp"
#include "daemon/http/web_assets.hpp"

namespace json = boost::json;
using namespace pw::daemon;

TEST(Sse, FrameSplitsLinesIntoDataFields) {
    EXPECT_EQ(events::sse_frame("update", "{\"a\":1}"), "event: update\ndata: {\"a\":1}\n\n");
    EXPECT_EQ(events::sse_frame("x", "one\ntwo\r\nthree\rfour"),
              "event: x\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
    EXPECT_EQ(events::sse_frame("", ""), "data: \n\n");
    // A line break in the event name cannot inject a field.
    EXPECT_EQ(events::sse_frame("a\ndata: evil", "d"), "event: adata: evil\ndata: d\n\n");
    EXPECT_EQ(events::sse_comment("ping\nx"), ": pingx\n\n");
}

TEST(Sse, QueueIsBoundedAndDropsForGood) {
    events::SseQueue q(10);
    auto f = [](std::string s) { return std::make_shared<const std::string>(std::move(s)); };
    EXPECT_TRUE(q.push(f("12345")));
    EXPECT_TRUE(q.push(f("1234")));
    EXPECT_EQ(q.bytes(), 9u);
    EXPECT_FALSE(q.push(f("12")));  // 11 > 10
    EXPECT_TRUE(q.overflowed());
    EXPECT_FALSE(q.push(f("")));  // once over, nothing more
    EXPECT_EQ(*q.front(), "12345");
    q.pop();
    EXPECT_EQ(q.bytes(), 4u);
    q.pop();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.front(), nullptr);
    q.pop();  // harmless when empty
}

TEST(TorrentDiff, AddedChangedRemoved) {
    events::TorrentDiff d;
    auto obj = [](const char* text) { return json::parse(text).as_object(); };
    auto first = d.update(
        {{1, obj(R"({"id":1,"name":"a","rate":0})")}, {2, obj(R"({"id":2,"name":"b","rate":0})")}});
    EXPECT_EQ(first.added.size(), 2u);
    EXPECT_TRUE(first.changed.empty());
    EXPECT_TRUE(d.update(d.current()).empty());  // nothing moved: nothing to send
    auto second = d.update({{2, obj(R"({"id":2,"name":"b","rate":5,"new":true})")},
                            {3, obj(R"({"id":3,"name":"c"})")}});
    ASSERT_EQ(second.added.size(), 1u);
    EXPECT_EQ(second.added[0].as_object().at("id"), 3);
    ASSERT_EQ(second.changed.size(), 1u);
    EXPECT_EQ(json::serialize(second.changed[0]), R"({"rate":5,"new":true,"id":2})");
    ASSERT_EQ(second.removed.size(), 1u);
    EXPECT_EQ(second.removed[0], 1);
    EXPECT_EQ(d.all().size(), 2u);
}

TEST(Metrics, RendersFamiliesOnceWithHelpAndType) {
    http::MetricsInput in;
    in.session.payload_downloaded = 1000;
    in.session.payload_uploaded = 20;
    in.session.torrents_by_state[static_cast<int>(piecewise::TorrentState::seeding)] = 3;
    in.session.announces_failed = 2;
    in.session.pieces_passed = 9;
    in.session.refetched_bytes = 16384;
    in.session.failures_narrowed = 1;
    in.down_rate = 1.5;
    auto text = http::render_metrics(in);
    EXPECT_NE(text.find("# TYPE piecewise_payload_bytes_total counter\n"
                        "piecewise_payload_bytes_total{direction=\"down\"} 1000\n"
                        "piecewise_payload_bytes_total{direction=\"up\"} 20\n"),
              std::string::npos);
    EXPECT_NE(text.find("piecewise_torrents{state=\"seeding\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("piecewise_torrents{state=\"queued\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("piecewise_tracker_announces_total{outcome=\"failed\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("piecewise_pieces_passed_total 9\n"), std::string::npos);
    EXPECT_NE(text.find("piecewise_refetched_bytes_total 16384\n"), std::string::npos);
    EXPECT_NE(text.find("piecewise_hash_failures_narrowed_total 1\n"), std::string::npos);
    EXPECT_NE(text.find("piecewise_payload_rate_bytes_per_second{direction=\"down\"} 1.500\n"),
              std::string::npos);
    // Without the DHT its series are absent, not zero; no per-torrent series by default.
    EXPECT_EQ(text.find("piecewise_dht_"), std::string::npos);
    EXPECT_EQ(text.find("piecewise_torrent_"), std::string::npos);
    // Every line is a comment or a sample; every family is declared once.
    std::size_t types = 0, pos = 0;
    while ((pos = text.find("# TYPE ", pos)) != std::string::npos) ++types, ++pos;
    std::size_t helps = 0;
    pos = 0;
    while ((pos = text.find("# HELP ", pos)) != std::string::npos) ++helps, ++pos;
    EXPECT_EQ(types, helps);
    EXPECT_EQ(text.back(), '\n');
}

TEST(Metrics, QueuedTorrentsAreNotCountedAsStopped) {
    http::MetricsInput in;
    in.session.torrents_by_state[static_cast<int>(piecewise::TorrentState::stopped)] = 3;
    in.queued = 2;
    auto text = http::render_metrics(in);
    EXPECT_NE(text.find("piecewise_torrents{state=\"stopped\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("piecewise_torrents{state=\"queued\"} 2\n"), std::string::npos);
}

TEST(Metrics, PerTorrentLabelsAreEscaped) {
    http::MetricsInput in;
    in.per_torrent = true;
    in.session.dht = true;
    in.session.dht_nodes = 7;
    http::TorrentMetrics t;
    t.info_hash = "00ff";
    t.name = "a\"b\\c\nd";
    t.size = 42;
    in.torrents.push_back(t);
    auto text = http::render_metrics(in);
    EXPECT_NE(
        text.find("piecewise_torrent_size_bytes{info_hash=\"00ff\",name=\"a\\\"b\\\\c\\nd\"} 42\n"),
        std::string::npos);
    EXPECT_NE(text.find("piecewise_dht_nodes 7\n"), std::string::npos);
    EXPECT_EQ(http::escape_label("plain"), "plain");
}

TEST(WebAssets, EmbeddedAndTyped) {
    auto* index = http::find_web_asset("/");
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->path, "/index.html");
    EXPECT_NE(index->body.find("<!doctype html>"), std::string_view::npos);
    EXPECT_NE(http::find_web_asset("/js/app.js?v=1"), nullptr);
    EXPECT_EQ(http::find_web_asset("/../CMakeLists.txt"), nullptr);
    EXPECT_EQ(http::find_web_asset("/nope"), nullptr);
    // No inline script or style in the pages (the CSP would block them).
    for (auto& a : http::web_assets()) {
        if (!a.path.ends_with(".html")) continue;
        EXPECT_EQ(a.body.find("<script>"), std::string_view::npos) << a.path;
        EXPECT_EQ(a.body.find("style="), std::string_view::npos) << a.path;
        EXPECT_EQ(a.body.find("<style"), std::string_view::npos) << a.path;
        for (auto handler : {"onclick=", "onload=", "onerror=", "onsubmit=", "onchange="})
            EXPECT_EQ(a.body.find(handler), std::string_view::npos) << a.path << " " << handler;
    }
    EXPECT_EQ(http::mime_type("/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(http::mime_type("/js/app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(http::mime_type("/app.css"), "text/css; charset=utf-8");
    EXPECT_EQ(http::mime_type("/favicon.svg"), "image/svg+xml");
    EXPECT_EQ(http::mime_type("Movie.MKV"), "video/x-matroska");
    EXPECT_EQ(http::mime_type("noext"), "application/octet-stream");
    EXPECT_EQ(http::mime_type("dir.d/noext"), "application/octet-stream");
}

TEST(WebAssets, ScriptsNeverPutDataIntoHtml) {
    // Torrent names, tracker messages and client names go to textContent only.
    for (auto& a : http::web_assets()) {
        if (!a.path.ends_with(".js")) continue;
        EXPECT_EQ(a.body.find("innerHTML"), std::string_view::npos) << a.path;
        EXPECT_EQ(a.body.find("outerHTML"), std::string_view::npos) << a.path;
        EXPECT_EQ(a.body.find("insertAdjacentHTML"), std::string_view::npos) << a.path;
        EXPECT_EQ(a.body.find("document.write"), std::string_view::npos) << a.path;
    }
}
