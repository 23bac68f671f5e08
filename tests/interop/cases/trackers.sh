# Interop cases: piecewise's own tracker serving libtorrent and Transmission (HTTP and UDP).
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# `piecewise tracker` as the tracker: real clients find each other through it ----------
# It serves HTTP and UDP on the same port number (127.0.0.1:6969 TCP and UDP), so
# ot_wait_peer's HTTP probe also sees peers that announced over UDP.

pwt_start() {
    spawn "$T/pw-tracker.log" "$PW_BIN" tracker --http "$TRACKER_HOST:$TRACKER_PORT" \
        --udp "$TRACKER_HOST:$TRACKER_PORT" --interval 60
    PWT_PID=$SPAWNED
    wait_alive "$PWT_PID" "$START_WAIT" port_open "$TRACKER_HOST" "$TRACKER_PORT" ||
        fail "piecewise tracker did not listen"
}

pwt_wait_peer() { tracker_lists "$1" "$1"; }   # pwt_wait_peer PEER (ip:port)

# pwt_stat KEY: a counter from GET /stats ("udp announces", ...).
pwt_stat() {
    "$PW_PY" - "$TRACKER_HOST" "$TRACKER_PORT" "$1" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/stats", timeout=5).read().decode()
m = re.search(re.escape(sys.argv[3]) + r": (\d+)", text)
print(m.group(1) if m else -1)
PY
}

# pwt_stop: SIGTERM must make `piecewise tracker` exit 0; UDP cases also check that the
# peers really announced over UDP.
pwt_stop() {
    local min_udp=${1:-0} n
    n=$(pwt_stat "udp announces")
    ((n >= min_udp)) || fail "piecewise tracker saw $n UDP announces, expected at least $min_udp"
    echo "piecewise tracker: $n UDP announces, $(pwt_stat "http announces") HTTP announces"
    stop_pid "$PWT_PID" 10
    local rc=$?
    [[ $rc == 0 ]] || fail "piecewise tracker exited $rc after SIGTERM (expected 0)"
}

# libtorrent seeds, Transmission downloads, over HTTP. Transmission announces first; the
# seeder's `started` announce returns it and the seeder dials it.
case_tracker_http_lt_to_tr() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    pwt_start
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    pwt_wait_peer "$TR_ADDR:$TR_PORT"
    lt_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; pwt_stop
}

# Transmission seeds, libtorrent downloads, over HTTP (libtorrent dials Transmission).
case_tracker_http_tr_to_lt() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    pwt_start; seed_dir_with_payload
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    pwt_wait_peer "$TR_ADDR:$TR_PORT"
    lt_get; check_same; pwt_stop
}

# libtorrent to libtorrent over the UDP tracker protocol (BEP 15).
case_tracker_udp_lt_to_lt() {
    need_piecewise
    multi_payload "$LT_MIB"; mktorrent_for "udp://$TRACKER_HOST:$TRACKER_PORT/announce"
    pwt_start; lt_seed; pwt_wait_peer "$SEEDER"; lt_get; check_same; pwt_stop 2
}

# libtorrent seeds, Transmission downloads, both over UDP.
case_tracker_udp_lt_to_tr() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "udp://$TRACKER_HOST:$TRACKER_PORT/announce"
    pwt_start
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    pwt_wait_peer "$TR_ADDR:$TR_PORT"
    lt_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; pwt_stop 2
}
