# Interop cases: the daemon's HTTP extras: /metrics, the web UI in Chromium, /stream/.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# The daemon's /metrics while it downloads from libtorrent: the counters move, the
# per-torrent series appear with --metrics-per-torrent, and Prometheus' own parser
# (promtool, Debian's prometheus package) accepts the text.
metrics_get() { curl -s --max-time 10 "http://$DAEMON_RPC/metrics"; }
metric() { metrics_get | awk -v k="$1" '$1 == k { print $2 }'; }   # metric 'NAME{LABELS}'
case_daemon_metrics() {
    need_piecewise
    command -v promtool >/dev/null || { echo "SKIP: promtool missing (scripts/setup installs prometheus)"; exit 77; }
    single_payload 8; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    daemon_start --metrics-per-torrent
    local sid ih size meta
    ih=$(info_hash "$TORRENT"); size=$(stat -c %s "$T/src/$SRC_NAME")
    sid=$(session_id)
    meta=$(base64 -w0 "$TORRENT")
    curl -s --max-time 10 -X POST -H "X-Transmission-Session-Id: $sid" "http://$DAEMON_RPC/transmission/rpc" \
        -d "{\"jsonrpc\":\"2.0\",\"method\":\"torrent_add\",\"params\":{\"metainfo\":\"$meta\"},\"id\":1}" |
        grep -q torrent_added || fail "torrent_add failed"
    wait_until "$WAIT" bash -c "curl -s --max-time 10 http://$DAEMON_RPC/metrics | grep -q '^piecewise_torrents{state=\"seeding\"} 1\$'" ||
        fail "not seeding within $WAIT s: $(metrics_get | grep -E '^piecewise_torrents|have_bytes')"
    check_same
    metrics_get >"$T/metrics.txt"
    promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
        fail "promtool check metrics: $(head -5 "$T/promtool.out" | tr '\n' ' ')"
    local down have ok
    down=$(metric 'piecewise_payload_bytes_total{direction="down"}')
    have=$(awk -v h="info_hash=\"$ih\"" 'index($0, "piecewise_torrent_have_bytes{" h) == 1 { print $2 }' "$T/metrics.txt")
    ok=$(metric 'piecewise_tracker_announces_total{outcome="ok"}')
    ((down >= size)) || fail "payload down $down < $size"
    [[ $have == "$size" ]] || fail "per-torrent have_bytes $have, expected $size"
    ((ok >= 1)) || fail "no successful announce counted ($ok)"
    grep -q '^piecewise_peers_connected ' "$T/metrics.txt" || fail "no piecewise_peers_connected"
    local passed pieces
    passed=$(metric piecewise_pieces_passed_total)
    pieces=$(( (size + 262143) / 262144 ))   # mktorrent -l 18
    [[ $passed == "$pieces" ]] || fail "pieces passed $passed, expected $pieces"
    grep -q '^piecewise_dht_' "$T/metrics.txt" && fail "DHT series while the DHT is off"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    # Without the flag: no per-torrent series.
    daemon_start
    metrics_get | grep -q '^piecewise_torrent_' && fail "per-torrent series without --metrics-per-torrent"
    metrics_get | promtool check metrics >/dev/null 2>&1 || fail "promtool (no per-torrent series)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: /metrics: $down payload bytes down, have_bytes $have, $ok announces ok; promtool accepts it"
}

# The web UI in a real browser (headless Chromium driven by tests/web/ui_test.mjs with
# puppeteer-core): list, RPC-added torrent, magnet through the form, pause, files tab,
# an HTML-looking name shown as text, phone width, keyboard, and the time to first
# render and per-update cost with PW_WEB_PERF_N (default 1000) torrents. Screenshots go
# to build/test-logs/web-*.png.
case_web_ui() {
    need_piecewise
    [[ -x /usr/bin/chromium ]] || { echo "SKIP: /usr/bin/chromium missing (scripts/setup installs it)"; exit 77; }
    [[ -d $PW_ROOT/tests/web/node_modules/puppeteer-core ]] ||
        { echo "SKIP: tests/web/node_modules missing (scripts/setup runs npm ci there)"; exit 77; }
    mkdir -p "$T/data" "$T/down"
    head -c 300000 /dev/urandom >"$T/data/data.bin"
    "$PW_BIN" create -o "$T/data/data.torrent" --piece-size 16384 "$T/data/data.bin" >/dev/null ||
        fail "piecewise create failed"
    daemon_start
    # Chromium wants a writable home and runtime directory.
    HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache \
        PW_RPC=$DAEMON_RPC PW_DATA=$T/data PW_SHOTS=$PW_ROOT/build/test-logs PW_PERF_N=${PW_WEB_PERF_N:-1000} \
        timeout -k 5 200 node "$PW_ROOT/tests/web/ui_test.mjs" || fail "the browser test failed (exit $?)"
    # The daemon's CPU for the feed, with the torrents of the performance part: 10 s with
    # no client (nothing may tick), then 10 s with one stream open.
    local clk c0 c1 c2 ticks
    clk=$(getconf CLK_TCK)
    cpu() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }
    c0=$(cpu); sleep 10; c1=$(cpu)
    timeout 10 curl -sN "http://$DAEMON_RPC/events" >"$T/events.txt"
    c2=$(cpu)
    ticks=$(grep -c '^event: ' "$T/events.txt")
    grep -q '^event: snapshot' "$T/events.txt" || fail "curl /events: no snapshot"
    echo "FIGURE daemon CPU, $(($(grep -o '"id":' "$T/events.txt" | wc -l))) torrent objects in the feed: no client $(((c1 - c0) * 1000 / clk)) ms in 10 s; one /events client $(((c2 - c1) * 1000 / clk)) ms in 10 s ($ticks events)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: web UI in Chromium (figures above; screenshots in build/test-logs/web-*.png)"
}

# GET /stream/ while the daemon downloads from a rate-limited libtorrent seeder: curl
# fetches a Range at ~90% of the file and gets the source's bytes before the download
# is over (the range's pieces are fetched first); HEAD, 416 and 404 answers; then the
# whole download completes intact.
case_daemon_stream() {
    need_piecewise
    single_payload 32; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed --upload-limit 1000000; seeder_announced   # ~33 s for the whole file
    daemon_start
    local ih size sid meta first last out code t0 t1 state
    ih=$(info_hash "$TORRENT"); size=$(stat -c %s "$T/src/$SRC_NAME")
    sid=$(session_id)
    meta=$(base64 -w0 "$TORRENT")
    curl -s --max-time 10 -X POST -H "X-Transmission-Session-Id: $sid" "http://$DAEMON_RPC/transmission/rpc" \
        -d "{\"jsonrpc\":\"2.0\",\"method\":\"torrent_add\",\"params\":{\"metainfo\":\"$meta\"},\"id\":1}" |
        grep -q torrent_added || fail "torrent_add failed"
    first=$((size * 9 / 10 + 4321)); last=$((first + 999999))
    t0=$(date +%s.%N)
    code=$(curl -s --max-time 90 -o "$T/range.bin" -w '%{http_code}' -H "Range: bytes=$first-$last" \
        "http://$DAEMON_RPC/stream/$ih/0/$SRC_NAME")
    t1=$(date +%s.%N)
    state=$(metrics_get | grep '^piecewise_torrents{state=')
    [[ $code == 206 ]] || fail "Range at 90%: HTTP $code"
    [[ $(stat -c %s "$T/range.bin") == 1000000 ]] && cmp -s -i "$first:0" -n 1000000 "$T/src/$SRC_NAME" "$T/range.bin" ||
        fail "the range's bytes differ from the source"
    [[ $state == *'state="downloading"} 1'* ]] ||
        fail "the download was over before the range arrived: $(echo "$state" | tr '\n' ' ')"
    echo "1 MB at 90% of $size bytes in $("$PW_PY" -c "print(round($t1 - $t0, 2))") s, while still downloading"
    out=$(curl -s -I --max-time 10 "http://$DAEMON_RPC/stream/$ih/0")
    [[ $out == *"HTTP/1.1 200"* && $out == *"Accept-Ranges: bytes"* && $out == *"Content-Length: $size"* ]] ||
        fail "HEAD: $out"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Range: bytes=$size-" "http://$DAEMON_RPC/stream/$ih/0")
    [[ $code == 416 ]] || fail "Range past the end: HTTP $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$DAEMON_RPC/stream/$ih/1")
    [[ $code == 404 ]] || fail "file index 1 of a one-file torrent: HTTP $code"
    wait_until "$WAIT" bash -c "curl -s --max-time 10 http://$DAEMON_RPC/metrics | grep -q '^piecewise_torrents{state=\"seeding\"} 1\$'" ||
        fail "not seeding within $WAIT s"
    check_same
    curl -s --max-time 30 "http://$DAEMON_RPC/stream/$ih/0" | cmp -s - "$T/src/$SRC_NAME" || fail "whole-file GET differs"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: /stream/ served a range at 90% during the download, HEAD/416/404 right, whole file intact"
}
