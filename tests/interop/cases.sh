#!/usr/bin/env bash
# Interop test cases: piecewise against libtorrent 2.0 (Python bindings) and
# Transmission 3.00, with opentracker as the tracker. `tests/interop/run` starts each
# case as `cases.sh NAME` inside its own network namespace (loopback only) under a hard
# timeout; run it by hand the same way: `tests/interop/run NAME`.
#
# Addresses inside the namespace: tracker 127.0.0.1:6969, seeder 127.0.0.2:6881,
# leecher 127.0.0.3:6881, Transmission 127.0.0.4:51413 (RPC 127.0.0.1:9091).
# Exit status: 0 pass, 1 fail, 77 skip (the piecewise binary is missing).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/lib.sh"
source "$HERE/lib/opentracker.sh"
source "$HERE/lib/transmission.sh"

TRACKER_HOST=127.0.0.1
TRACKER_PORT=6969
SEEDER=127.0.0.2:6881
LEECHER=127.0.0.3:6881
TR_ADDR=127.0.0.4
TR_PORT=51413
LT_MIB=${LT_MIB:-40}   # payload for libtorrent cases
TR_MIB=${TR_MIB:-16}   # payload for Transmission cases (it is slow on loopback)
WAIT=${WAIT:-120}      # bound on each download
# Bounds on the steps before a transfer. They only matter when something is wrong, so
# they are generous for a loaded 2-core machine: an idle run never comes near them.
START_WAIT=${START_WAIT:-60}     # a process starts and listens (Python + libtorrent)
ANNOUNCE_WAIT=${ANNOUNCE_WAIT:-60}   # a ready peer shows up at the tracker
PAYLOAD_MIB=0          # set by single_payload / multi_payload

# check_wait: bound on a seeder's start-up check of the payload: 30 s plus 1 s per MiB
# (an idle check here runs at several hundred MiB/s).
check_wait() { echo $((30 + PAYLOAD_MIB)); }

fail() {
    printf 'FAIL: %s\n' "$*"
    local f
    for f in "$T"/*.log "$T"/tr/transmission.log; do
        [[ -f $f ]] && show_log "$(basename "$f" .log)" "$f" 30
    done
    exit 1
}

need_piecewise() { have_piecewise || { echo "SKIP: $PW_BIN not built"; exit 77; }; }

# Payloads -------------------------------------------------------------------------

# single_payload MIB: $T/src/payload.bin (SRC_NAME=payload.bin).
single_payload() {
    mkdir -p "$T/src"
    make_payload "$T/src/payload.bin" "$1"
    SRC_NAME=payload.bin
    PAYLOAD_MIB=$1
}

# multi_payload MIB: $T/src/album/ with files of uneven sizes, one in a subfolder and
# one tiny, so that pieces straddle file boundaries (SRC_NAME=album).
multi_payload() {
    local mib=$1
    mkdir -p "$T/src/album/disc 2"
    head -c $((mib * 1048576 / 2 + 12345)) /dev/urandom >"$T/src/album/one.bin"
    head -c 7 /dev/urandom >"$T/src/album/tiny.txt"
    head -c $((mib * 1048576 / 2 - 777)) /dev/urandom >"$T/src/album/disc 2/two.bin"
    SRC_NAME=album
    PAYLOAD_MIB=$mib
}

# Torrents: TORRENT is set to the file made.
mktorrent_for() {   # mktorrent_for ANNOUNCE_URL
    TORRENT=$T/mk.torrent
    mktorrent -l 18 -a "$1" -o "$TORRENT" "$T/src/$SRC_NAME" >"$T/mktorrent.out" 2>&1 ||
        fail "mktorrent failed"
}

pw_create() {   # pw_create [piecewise create options]
    TORRENT=$T/pw.torrent
    "$PW_BIN" create -o "$TORRENT" --piece-size 262144 "$@" "$T/src/$SRC_NAME" \
        >"$T/pw-create.log" 2>&1 || fail "piecewise create failed"
    # libtorrent must read what we wrote and agree on the info-hash.
    local ours theirs
    ours=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])') ||
        fail "piecewise info --json failed"
    theirs=$(info_hash "$TORRENT") || fail "libtorrent cannot load the torrent piecewise created"
    [[ $ours == "$theirs" ]] || fail "info-hash: piecewise says $ours, libtorrent says $theirs"
}

# Peers ----------------------------------------------------------------------------

seed_dir_with_payload() { mkdir -p "$T/seed"; cp -a "$T/src/$SRC_NAME" "$T/seed/"; }

tracker() { ot_start "$T/ot" "$TRACKER_HOST" "$TRACKER_PORT" "$(info_hash "$TORRENT")"; }

# tracker_lists PEER WHAT: wait until the tracker lists PEER (ip:port), which announced
# itself after it became ready, so that the downloader's first announce returns it
# (opentracker's next one would be 30 minutes later). Fails naming WHAT, with what the
# tracker holds.
tracker_lists() {
    local peer=$1 what=$2 ih held
    ih=$(info_hash "$TORRENT") || fail "libtorrent cannot read $TORRENT"
    ot_wait_peer "$TRACKER_HOST" "$TRACKER_PORT" "$ih" "$peer" "$ANNOUNCE_WAIT" && return 0
    held=$(ot_peers "$TRACKER_HOST" "$TRACKER_PORT" "$ih" 2>&1 | tr '\n' ' ')
    fail "$what never announced itself to the tracker within ${ANNOUNCE_WAIT}s (tracker: ${held:-no peers})"
}

# seeder_announced: the seeder (lt_seed / pw_seed, both wait for its check) is listed.
seeder_announced() { tracker_lists "$SEEDER" "the seeder"; }

# wait_seed_ready NAME LOG REGEX: the seeder listens on $SEEDER and has printed REGEX
# (its start-up check is over: only then does it announce and serve). Fails early when
# the seeder exits.
wait_seed_ready() {
    local name=$1 logf=$2 re=$3 rc
    wait_alive "$SEED_PID" "$START_WAIT" "${SEED_PROBE:-port_listening}" "${SEEDER%:*}" "${SEEDER#*:}"
    rc=$?
    ((rc == 2)) && fail "$name exited before it listened on $SEEDER"
    ((rc == 0)) || fail "$name did not listen on $SEEDER within ${START_WAIT}s"
    # Its listener opens before the check ends; wait for the check to be over.
    wait_alive "$SEED_PID" "$(check_wait)" grep -qE "$re" "$logf"
    rc=$?
    ((rc == 2)) && fail "$name exited during its start-up check"
    ((rc == 0)) || fail "$name did not finish checking $PAYLOAD_MIB MiB within $(check_wait)s"
}

lt_seed() {   # lt_seed [lt_peer options]
    seed_dir_with_payload
    spawn "$T/lt-seed.log" "$PW_PY" "$LT_PEER" seed "$TORRENT" --dir "$T/seed" \
        --listen "$SEEDER" --timeout $((WAIT + 60 + START_WAIT + $(check_wait) + ANNOUNCE_WAIT)) "$@"
    SEED_PID=$SPAWNED
    wait_seed_ready "libtorrent seeder" "$T/lt-seed.log" ': checked [0-9]+/[0-9]+ pieces in .* seeding'
}

# piecewise prints "N of N pieces present (checked)" with --verbose and progress lines
# ("100.0% seeding |") every 2 s in any case.
PW_CHECKED_RE=' of [0-9]+ pieces present \((checked|resume data)[^)]*\)|% seeding \|'

pw_seed() {
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_VERBOSE[@]}" "${PW_OPTS[@]}" --listen "$SEEDER" -d "$T/seed" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_seed_ready "piecewise seed" "$T/pw-seed.log" "$PW_CHECKED_RE"
}

# stop_pw_seed: SIGTERM must make `piecewise seed` exit 0.
stop_pw_seed() {
    stop_pid "$SEED_PID" 10
    local rc=$?
    [[ $rc == 0 ]] || fail "piecewise seed exited $rc after SIGTERM (expected 0)"
}

pw_get() {   # pw_get [piecewise get options]
    mkdir -p "$T/down"
    local rc
    timeout -k 5 "$WAIT" "$PW_BIN" get "${PW_VERBOSE[@]}" "${PW_OPTS[@]}" -o "$T/down" --listen "$LEECHER" --no-seed "$@" "$TORRENT" \
        >"$T/pw-get.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] && fail "piecewise get did not finish within $WAIT s"
    [[ $rc == 0 ]] || fail "piecewise get exited $rc"
}

lt_get() {   # lt_get [lt_peer options]
    mkdir -p "$T/down"
    "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/down" --listen "$LEECHER" --timeout "$WAIT" \
        "$@" >"$T/lt-get.log" 2>&1 || fail "libtorrent download failed"
}

check_same() {
    diff -r "$T/src/$SRC_NAME" "$T/down/$SRC_NAME" >"$T/diff.out" 2>&1 ||
        fail "downloaded data differs: $(head -3 "$T/diff.out" | tr '\n' ' ')"
    echo "PASS: $(du -sb "$T/down/$SRC_NAME" | cut -f1) bytes identical"
}

# Cases ----------------------------------------------------------------------------

# Controls: the harness against real clients only, without piecewise.
case_control_lt_to_lt() {
    multi_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced; lt_get; check_same
}

case_control_tr_to_lt() {
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    lt_get; check_same
}

case_control_lt_to_tr() {
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    lt_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same
}

# The harness's tracker probe with an info-hash that holds a 0x20 byte (about one random
# torrent in 13 does): the probe must ask about that torrent, not one with 0x2b there
# (form encoding's "+" for a space), or it never sees the seeder.
case_control_hash_with_space() {
    single_payload 1; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    # Rename the torrent's file until its info-hash has a 0x20 byte (P(none in 2000) < 1e-60).
    local name
    name=$("$PW_PY" - "$TORRENT" <<'PY'
import hashlib, sys
import libtorrent as lt
path = sys.argv[1]
with open(path, "rb") as f:
    meta = lt.bdecode(f.read())
for n in range(2000):
    meta[b"info"][b"name"] = f"payload-{n}.bin".encode()
    if b"\x20" in hashlib.sha1(lt.bencode(meta[b"info"])).digest():
        with open(path, "wb") as f:
            f.write(lt.bencode(meta))
        print(f"payload-{n}.bin")
        break
PY
) || fail "could not rewrite $TORRENT"
    [[ -n $name ]] || fail "no name gave an info-hash with a 0x20 byte"
    mv "$T/src/$SRC_NAME" "$T/src/$name"; SRC_NAME=$name
    echo "info-hash $(info_hash "$TORRENT") (name $SRC_NAME)"
    tracker; lt_seed; seeder_announced; lt_get; check_same
}

# libtorrent seeds, piecewise downloads.
case_lt_to_pw_tracker() {
    need_piecewise
    multi_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced; pw_get; check_same
}

case_lt_to_pw_peer() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create   # no tracker in the torrent
    lt_seed; pw_get --peer "$SEEDER"; check_same
}

# piecewise seeds, libtorrent downloads.
case_pw_to_lt_tracker() {
    need_piecewise
    multi_payload "$LT_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; pw_seed; seeder_announced; lt_get; check_same; stop_pw_seed
}

case_pw_to_lt_peer() {
    need_piecewise
    # mktorrent insists on an announce URL: this one has no tracker behind it, so the
    # seeder must keep serving while its announces fail.
    single_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:9/announce"
    pw_seed; lt_get --peer "$SEEDER"; check_same; stop_pw_seed
}

# Transmission seeds, piecewise downloads: Transmission only accepts connections, so
# piecewise learns its address from the tracker and dials it.
case_tr_to_pw_tracker() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    pw_get; check_same
}

# piecewise seeds, Transmission downloads. Transmission never dials 127.x and
# opentracker's interval is 30 minutes, so Transmission announces first; the seeder's
# `started` announce then returns Transmission's address and the seeder must dial it.
case_pw_to_tr_tracker() {
    need_piecewise
    single_payload "$TR_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    pw_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; stop_pw_seed
}

# libtorrent seeds, piecewise downloads; the torrent's only tracker is opentracker's UDP
# port (BEP 15), so both sides announce over UDP and nothing else introduces them.
case_pw_udp_tracker() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "udp://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced; pw_get; check_same
}

# Protocol encryption (MSE, RC4) ----------------------------------------------------
# libtorrent forced to RC4 both ways (INTEROP.md: policies 0, level 2) against
# `piecewise --encryption require`; lt_peer.py --plaintext-only is policies 2, level 1.

RELAY=127.0.0.6:6881

# relay_start TO: a TCP relay on $RELAY to TO that records each direction of every
# connection in $T/relay.{up,down} (bytes towards TO / bytes back), for capture checks.
relay_start() {
    cat >"$T/relay.py" <<'EOF'
import socket, sys, threading
listen, to, out = sys.argv[1], sys.argv[2], sys.argv[3]
def hp(s):
    h, _, p = s.rpartition(":")
    return h, int(p)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(hp(listen))
srv.listen(16)
lock = threading.Lock()
def pump(a, b, path):
    with open(path, "ab") as f:
        while True:
            try:
                data = a.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            with lock:
                f.write(data)
                f.flush()
            try:
                b.sendall(data)
            except OSError:
                break
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(hp(to), timeout=10)
    u.settimeout(None)
    threading.Thread(target=pump, args=(c, u, out + ".up"), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, out + ".down"), daemon=True).start()
EOF
    spawn "$T/relay.log" "$PW_PY" "$T/relay.py" "$RELAY" "$1" "$T/relay"
    RELAY_PID=$SPAWNED
    wait_alive "$RELAY_PID" "$START_WAIT" port_listening "${RELAY%:*}" "${RELAY#*:}" ||
        fail "the relay did not listen on $RELAY"
}

# relay_check_opaque: neither direction shows the BitTorrent handshake or a 64-byte
# sample of the payload in clear, and the relay carried at least the payload.
relay_check_opaque() {
    "$PW_PY" - "$T/relay" "$T/src/$SRC_NAME" <<'PY' || fail "the capture shows plaintext"
import os, sys
cap, src = sys.argv[1], sys.argv[2]
payload = open(src, "rb").read()
samples = [payload[o:o + 64] for o in (0, len(payload) // 2, len(payload) - 64)]
total = 0
for d in ("up", "down"):
    data = open(f"{cap}.{d}", "rb").read() if os.path.exists(f"{cap}.{d}") else b""
    total += len(data)
    if b"BitTorrent protocol" in data:
        sys.exit(f"'BitTorrent protocol' in the {d} direction")
    for s in samples:
        if s in data:
            sys.exit(f"a payload sample in the {d} direction")
    print(f"capture {d}: {len(data)} bytes, no handshake string, no payload sample")
if total < len(payload):
    sys.exit(f"the relay carried only {total} bytes")
PY
}

# libtorrent (forced RC4) seeds, `piecewise get --encryption require` downloads through
# a recording relay: byte-identical result, and nothing readable on the wire.
case_lt_to_pw_enc() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    lt_seed --encrypt
    relay_start "$SEEDER"
    pw_get --encryption require --peer "$RELAY"; check_same
    relay_check_opaque
    stop_pid "$RELAY_PID" 5 || true   # the relay dies of the SIGTERM
    echo "PASS: encrypted download, nothing readable on the wire"
}

# `piecewise seed --encryption require` seeds, libtorrent (forced RC4) downloads.
case_pw_to_lt_enc() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    PW_OPTS+=(--encryption require)
    pw_seed; lt_get --encrypt --peer "$SEEDER"; check_same; stop_pw_seed
}

# Transmission with "encryption": 2 (required) seeds; `piecewise get --encryption require`
# dials it (Transmission only accepts connections on loopback) and downloads.
case_tr_to_pw_enc() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    TR_ENCRYPTION=2 tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    pw_get --encryption require; check_same
}

# `piecewise seed --encryption require` seeds, Transmission (encryption required)
# downloads: it announces first, the seeder's `started` announce returns it and the
# seeder dials it.
case_pw_to_tr_enc() {
    need_piecewise
    single_payload "$TR_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    TR_ENCRYPTION=2 tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    PW_OPTS+=(--encryption require)
    pw_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; stop_pw_seed
}

# allocated_bytes DIR: bytes of disk actually allocated to the files under DIR.
allocated_bytes() {
    "$PW_PY" -c 'import os, sys
print(sum(os.stat(os.path.join(r, f)).st_blocks * 512 for r, _, fs in os.walk(sys.argv[1]) for f in fs))' "$1"
}

# `piecewise --encryption require` and a plaintext-only libtorrent never transfer, in
# either direction: bounded waits, then no payload moved.
case_pw_require_lt_plaintext() {
    need_piecewise
    single_payload 4; pw_create
    local short=20 rc
    lt_seed --plaintext-only
    mkdir -p "$T/down"
    timeout -k 5 "$short" "$PW_BIN" get "${PW_VERBOSE[@]}" "${PW_OPTS[@]}" -o "$T/down" --listen "$LEECHER" \
        --no-seed --encryption require --peer "$SEEDER" "$TORRENT" >"$T/pw-get.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] || fail "piecewise get --encryption require exited $rc against a plaintext-only seeder"
    [[ $(allocated_bytes "$T/down") == 0 ]] || fail "piecewise wrote data it should never have received"
    stop_pid "$SEED_PID" 10
    grep -q 'uploaded 0 ' "$T/lt-seed.log" || fail "the plaintext-only seeder uploaded: $(grep final "$T/lt-seed.log")"
    echo "lt (plaintext only) -> pw (require): nothing moved in ${short}s"

    # The reverse: piecewise seeds requiring RC4, libtorrent downloads in plaintext only.
    rm -rf "${T:?}/down" "${T:?}/seed"
    PW_OPTS+=(--encryption require)
    pw_seed
    mkdir -p "$T/down"
    "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/down" --listen "$LEECHER" --timeout "$short" \
        --plaintext-only --peer "$SEEDER" >"$T/lt-get.log" 2>&1 &&
        fail "libtorrent (plaintext only) completed a download from piecewise (require)"
    [[ $(allocated_bytes "$T/down") == 0 ]] || fail "libtorrent received data from a require-only seeder"
    stop_pw_seed
    echo "PASS: pw (require) -> lt (plaintext only): nothing moved in ${short}s"
}

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

# DHT (BEP 5) ---------------------------------------------------------------------

DHT_NODE=127.0.0.5:6881

# write_lt_dht: $T/lt_dht.py MODE TORRENT DIR LISTEN BOOTSTRAP TIMEOUT, a libtorrent peer
# with DHT on, bootstrapped only from BOOTSTRAP, with libtorrent's guards against loopback
# DHT nodes off (INTEROP.md). It re-announces to the DHT every 2 s. `seed` runs until
# SIGTERM; `get` exits 0 once complete.
write_lt_dht() {
    cat >"$T/lt_dht.py" <<'EOF'
import signal, sys, time
import libtorrent as lt
mode, torrent, save, listen, boot, timeout = sys.argv[1:7]
host = listen.rpartition(":")[0]
ses = lt.session({
    "listen_interfaces": listen, "outgoing_interfaces": host,
    "enable_dht": True, "dht_bootstrap_nodes": boot,
    "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
    "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_ip_notifier": False, "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
    | lt.alert.category_t.dht_notification | lt.alert.category_t.peer_notification,
})
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
h = ses.add_torrent(atp)
tag = f"lt-dht-{mode}@{listen}"
start = time.monotonic()
next_announce = 0
while not stop:
    now = time.monotonic()
    if now - start > float(timeout):
        print(f"{tag}: timeout", flush=True)
        sys.exit(1)
    for a in ses.pop_alerts():
        if type(a).__name__ in ("dht_reply_alert", "dht_announce_alert", "dht_bootstrap_alert",
                                "peer_connect_alert", "torrent_error_alert", "dht_error_alert"):
            print(f"{tag}: {type(a).__name__}: {a.message()}", flush=True)
    st = h.status()
    if now >= next_announce:
        h.force_dht_announce()
        next_announce = now + 2
        print(f"{tag}: {st.progress * 100:.1f}% peers {st.num_peers} state {st.state} "
              f"dht nodes {ses.status().dht_nodes}", flush=True)
    if mode == "get" and st.is_seeding:
        print(f"{tag}: complete in {now - start:.2f} s", flush=True)
        sys.exit(0)
    ses.wait_for_alert(200)
print(f"{tag}: stopped", flush=True)
EOF
}

dht_node_start() {
    spawn "$T/dht-node.log" "$PW_BIN" dht-node --listen "$DHT_NODE" --state "$T/dht.state" --log-interval 1
    DHT_PID=$SPAWNED
    wait_alive "$DHT_PID" "$START_WAIT" grep -q 'listening on' "$T/dht-node.log" ||
        { kill -0 "$DHT_PID" 2>/dev/null || fail "piecewise dht-node exited early"; fail "piecewise dht-node did not start"; }
}

# dht_node_lines_above N: the node has printed more than N status lines.
dht_node_lines_above() { (($(grep -c 'routing table' "$T/dht-node.log") > $1)); }

# dht_node_has_peer: true once the node's status line (every second) shows a stored peer.
dht_node_has_peer() { grep -q 'peers stored [1-9]' "$T/dht-node.log"; }

# Two libtorrent sessions, no tracker, meet through a `piecewise dht-node`: the seeder
# announces itself to the DHT, the downloader's get_peers finds it, the transfer completes.
case_lt_dht_via_pw_node() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create   # no tracker in the torrent
    dht_node_start
    seed_dir_with_payload; write_lt_dht
    spawn "$T/lt-seed.log" "$PW_PY" "$T/lt_dht.py" seed "$TORRENT" "$T/seed" "$SEEDER" "$DHT_NODE" $((WAIT + 60))
    SEED_PID=$SPAWNED
    wait_seed_ready "libtorrent DHT seeder" "$T/lt-seed.log" 'state seeding'
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the seeder's announce never reached the piecewise DHT node"
    mkdir -p "$T/down"
    "$PW_PY" "$T/lt_dht.py" get "$TORRENT" "$T/down" "$LEECHER" "$DHT_NODE" "$WAIT" >"$T/lt-get.log" 2>&1 || fail "libtorrent download through the DHT failed"
    check_same
    grep -m1 'complete in' "$T/lt-get.log"
    local lines
    lines=$(grep -c 'routing table' "$T/dht-node.log")
    kill -USR1 "$DHT_PID"   # SIGUSR1: one more status line now
    wait_until 10 dht_node_lines_above "$lines"
    grep 'routing table' "$T/dht-node.log" | tail -n 1
    stop_pid "$SEED_PID" 10
    stop_pid "$DHT_PID" 10
    local rc=$?
    [[ $rc == 0 ]] || fail "piecewise dht-node exited $rc after SIGTERM (expected 0)"
    [[ -s $T/dht.state ]] || fail "piecewise dht-node did not save its state file"
    echo "PASS: transfer through the DHT; dht-node saved $(wc -c <"$T/dht.state") bytes of state"
}

# A libtorrent downloader for a magnet link whose peers come from the DHT only.
write_lt_magnet() {
    cat >"$T/lt_magnet.py" <<'EOF'
import sys, time
import libtorrent as lt
uri, save, listen, boot, timeout = sys.argv[1:6]
host = listen.rpartition(":")[0]
ses = lt.session({
    "listen_interfaces": listen, "outgoing_interfaces": host,
    "enable_dht": True, "dht_bootstrap_nodes": boot,
    "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
    "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
    "enable_ip_notifier": False, "allow_multiple_connections_per_ip": True,
    "enable_incoming_utp": False, "enable_outgoing_utp": False,
})
atp = lt.parse_magnet_uri(uri)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
h = ses.add_torrent(atp)
start = time.monotonic()
next_announce = 0
while True:
    now = time.monotonic()
    if now - start > float(timeout):
        print("lt-magnet: timeout", flush=True)
        sys.exit(1)
    st = h.status()
    if now >= next_announce:
        h.force_dht_announce()
        next_announce = now + 2
        print(f"lt-magnet: {st.progress * 100:.1f}% peers {st.num_peers} metadata {st.has_metadata} "
              f"dht nodes {ses.status().dht_nodes}", flush=True)
    if st.is_seeding:
        print(f"lt-magnet: complete in {now - start:.2f} s", flush=True)
        sys.exit(0)
    ses.wait_for_alert(200)
EOF
}

# libtorrent seeds with no tracker and announces to the DHT (a `piecewise dht-node`);
# `piecewise get MAGNET` finds it through the DHT alone, fetches the metadata (BEP 9)
# and downloads.
case_lt_seed_pw_magnet_dht() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    dht_node_start
    seed_dir_with_payload; write_lt_dht
    spawn "$T/lt-seed.log" "$PW_PY" "$T/lt_dht.py" seed "$TORRENT" "$T/seed" "$SEEDER" "$DHT_NODE" $((WAIT + 60))
    SEED_PID=$SPAWNED
    wait_seed_ready "libtorrent DHT seeder" "$T/lt-seed.log" 'state seeding'
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the seeder's announce never reached the piecewise DHT node"
    mkdir -p "$T/down"
    local ih rc
    ih=$(info_hash "$TORRENT")
    timeout -k 5 "$WAIT" "$PW_BIN" get "${PW_VERBOSE[@]}" --dht-bootstrap "$DHT_NODE" -o "$T/down" \
        --listen "$LEECHER" --no-seed --save-torrent "$T/fetched.torrent" "magnet:?xt=urn:btih:$ih" \
        >"$T/pw-get.log" 2>&1
    rc=$?
    [[ $rc == 0 ]] || fail "piecewise get MAGNET exited $rc"
    check_same
    [[ $(info_hash "$T/fetched.torrent") == "$ih" ]] || fail "the saved .torrent has another info-hash"
    stop_pid "$SEED_PID" 10
    stop_pid "$DHT_PID" 10
}

# The reverse: only piecewise seeds, announcing itself to the DHT; libtorrent downloads
# the magnet, fetching the metadata from piecewise.
case_pw_seed_lt_magnet_dht() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    dht_node_start
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_VERBOSE[@]}" --dht-bootstrap "$DHT_NODE" --listen "$SEEDER" -d "$T/seed" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_seed_ready "piecewise seed" "$T/pw-seed.log" "$PW_CHECKED_RE"
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the piecewise seeder never announced itself to the DHT"
    write_lt_magnet
    mkdir -p "$T/down"
    "$PW_PY" "$T/lt_magnet.py" "magnet:?xt=urn:btih:$(info_hash "$TORRENT")" "$T/down" "$LEECHER" "$DHT_NODE" "$WAIT" \
        >"$T/lt-get.log" 2>&1 || fail "libtorrent magnet download through the DHT failed"
    check_same
    grep -m1 'complete in' "$T/lt-get.log"
    stop_pw_seed
    stop_pid "$DHT_PID" 10
}

# Local service discovery (BEP 14), inside this case's own network namespace only: a
# piecewise seeder and downloader with no tracker, no DHT and no peer address find each
# other by multicast on the namespace's loopback.
case_pw_lsd() {
    need_piecewise
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo 2>/dev/null || true
    single_payload 8; pw_create
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_VERBOSE[@]}" --no-dht --lsd --listen "$SEEDER" -d "$T/seed" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_seed_ready "piecewise seed" "$T/pw-seed.log" "$PW_CHECKED_RE"
    pw_get --lsd
    check_same
    stop_pw_seed
}

# --blocklist and --bind-interface against a libtorrent seeder (127.0.0.2): a gzipped
# list that blocks it leaves the download at 0 peers; a list that does not, with every
# socket bound to lo, completes; bound to another interface (a veth pair with no route to
# 127.0.0.2) nothing connects; a missing interface exits 1 naming it, an unreadable or
# empty blocklist exits 2.
case_pw_blocklist_bind_interface() {
    need_piecewise
    single_payload 8; pw_create
    lt_seed
    local out rc
    printf '# blocks the seeder\nlibtorrent seed:127.0.0.2-127.0.0.2\n' | gzip >"$T/block.p2p.gz"
    timeout -k 5 10 "$PW_BIN" get "${PW_OPTS[@]}" -o "$T/down-blocked" --listen 127.0.0.5:6881 --no-seed \
        --blocklist "$T/block.p2p.gz" --peer "$SEEDER" "$TORRENT" >"$T/pw-blocked.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] || fail "get with the only peer blocked exited $rc (expected the 10 s timeout)"
    grep -q '^blocklist: 1 ranges from .*block.p2p.gz (0 lines skipped)' "$T/pw-blocked.log" ||
        fail "no blocklist line in the output"
    grep -q 'peers [1-9]' "$T/pw-blocked.log" && fail "a blocked peer was connected"

    printf '009.000.000.000 - 009.255.255.255 , 000 , elsewhere\nnot a range\n' >"$T/other.dat"
    pw_get --bind-interface lo --blocklist "$T/other.dat" --peer "$SEEDER"
    grep -q '^blocklist: 1 ranges from .*other.dat (1 lines skipped)' "$T/pw-get.log" ||
        fail "no blocklist line in the output"
    check_same

    ip link add pwv0 type veth peer name pwv1 && ip link set pwv0 up && ip link set pwv1 up ||
        fail "cannot make a veth pair"
    timeout -k 5 10 "$PW_BIN" get "${PW_OPTS[@]}" -o "$T/down-veth" --listen 127.0.0.6:6881 --no-seed \
        --bind-interface pwv0 --peer "$SEEDER" "$TORRENT" >"$T/pw-veth.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] || fail "get bound to pwv0 exited $rc (expected the 10 s timeout)"
    grep -q 'peers [1-9]' "$T/pw-veth.log" && fail "a peer was reached through pwv0"

    out=$("$PW_BIN" get "${PW_OPTS[@]}" --bind-interface pw-none0 --peer "$SEEDER" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 1 && $out == *"no network interface named 'pw-none0'"* ]] ||
        fail "a missing interface gave exit $rc: $out"
    out=$("$PW_BIN" seed "${PW_OPTS[@]}" --blocklist "$T/nothing.p2p" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 2 && $out == *"cannot read blocklist"* ]] || fail "a missing blocklist gave exit $rc: $out"
    : >"$T/empty.p2p"
    out=$("$PW_BIN" seed "${PW_OPTS[@]}" --blocklist "$T/empty.p2p" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 2 && $out == *"no IP range"* ]] || fail "an empty blocklist gave exit $rc: $out"
    echo "PASS: blocked seeder never connected, lo-bound download identical, veth-bound reached nothing"
}

# `piecewise verify` on a multi-file torrent made by mktorrent (pieces straddle files):
# good data exits 0, a flipped byte or a missing file exits 1 naming the file, and
# libtorrent's own check agrees on the count of good pieces; bad input exits 2.
case_pw_verify() {
    need_piecewise
    multi_payload 8; mktorrent_for "http://$TRACKER_HOST:9/announce"
    seed_dir_with_payload
    local out rc pieces
    pieces=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; print(json.load(sys.stdin)["num_pieces"])')
    out=$("$PW_BIN" verify -d "$T/seed" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 0 ]] || fail "verify of good data exited $rc: $out"
    grep -q "^verified $pieces/$pieces pieces" <<<"$out" || fail "unexpected output: $out"

    # One byte changed in the middle of disc 2/two.bin: exactly one piece goes bad.
    local f="$T/seed/album/disc 2/two.bin" b
    b=$(od -An -tu1 -j 100000 -N 1 "$f" | tr -d ' ')
    printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
        dd of="$f" bs=1 seek=100000 conv=notrunc status=none
    out=$("$PW_BIN" verify --quiet --threads 1 -d "$T/seed" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 1 ]] || fail "verify of corrupt data exited $rc: $out"
    grep -q "^verified $((pieces - 1))/$pieces pieces" <<<"$out" || fail "expected one bad piece: $out"
    grep -q "album/disc 2/two.bin: 1 bad piece" <<<"$out" || fail "the bad file is not named: $out"
    "$PW_PY" "$LT_PEER" check "$TORRENT" --dir "$T/seed" --timeout 60 >"$T/lt-check.log" 2>&1
    grep -q "checked $((pieces - 1))/$pieces pieces" "$T/lt-check.log" ||
        fail "libtorrent disagrees: $(cat "$T/lt-check.log")"

    rm "$T/seed/album/one.bin"
    out=$("$PW_BIN" verify --quiet -d "$T/seed" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 1 ]] || fail "verify with a missing file exited $rc: $out"
    grep -q "album/one.bin: missing" <<<"$out" || fail "the missing file is not named: $out"

    "$PW_BIN" verify -d "$T/nowhere" "$TORRENT" >/dev/null 2>&1; rc=$?
    [[ $rc == 2 ]] || fail "verify with a missing directory exited $rc"
    "$PW_BIN" verify -d "$T/seed" "$T/mktorrent.out" >/dev/null 2>&1; rc=$?
    [[ $rc == 2 ]] || fail "verify of a non-torrent exited $rc"
    echo "PASS: verify exits 0, 1 (bad piece, missing file) and 2 (bad input) as it should"
}

# A full disk: piecewise downloads a 40 MiB torrent from libtorrent into a 16 MiB tmpfs
# (mounted in this case's own mount namespace). `get` must exit 1 with one line naming
# the file, the operation and the error; after the filesystem grows, a rerun keeps what
# was verified (resume data, no re-hash), fetches only the rest, and the result is
# byte-identical.
case_pw_disk_full() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create   # 256 KiB pieces, no tracker
    lt_seed
    mkdir -p "$T/down"
    mount -t tmpfs -o size=16m pw-full "$T/down" || fail "cannot mount a tmpfs on $T/down"
    PW_MOUNTS+=("$T/down")
    local rc
    timeout -k 5 "$WAIT" "$PW_BIN" get "${PW_VERBOSE[@]}" "${PW_OPTS[@]}" -o "$T/down" \
        --listen "$LEECHER" --no-seed --peer "$SEEDER" "$TORRENT" >"$T/pw-full.log" 2>&1
    rc=$?
    [[ $rc == 1 ]] || fail "get on a full disk exited $rc (expected 1)"
    local line
    line=$(grep -c "write $T/down/$SRC_NAME: No space left on device" "$T/pw-full.log")
    ((line == 1)) || fail "expected one line naming the file, the write and ENOSPC, got $line: $(tail -n 3 "$T/pw-full.log" | tr '\n' ' ')"
    mount -o remount,size=64m "$T/down" || fail "cannot grow the tmpfs"
    pw_get --peer "$SEEDER"
    local kept pieces=$((PAYLOAD_MIB * 4))
    kept=$(grep -oE '[0-9]+ of [0-9]+ pieces present \((checked|resume data)[^)]*\)' "$T/pw-get.log" |
        head -n 1 | cut -d' ' -f1)
    [[ -n $kept ]] || fail "the rerun did not say what it kept"
    # 16 MiB of space holds at least 40 of the 160 pieces, minus what was being written.
    ((kept >= 40 && kept < pieces)) || fail "the rerun kept $kept of $pieces pieces"
    grep -q "(resume data)" "$T/pw-get.log" || fail "the rerun re-hashed instead of using its resume data"
    check_same
    echo "PASS: disk full -> exit 1 with the reason; rerun kept $kept of $pieces pieces and completed"
}

# A file truncated behind the seeder's back: the read that comes back short stops the
# torrent with one line naming the file and the read, and `seed` exits 1 (it never serves
# garbage; libtorrent never completes from it). With the file restored, a new `seed`
# sees that its resume record no longer matches the file, checks its pieces again and serves
# libtorrent the whole torrent.
case_pw_seed_file_truncated() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    pw_seed
    truncate -s 8M "$T/seed/$SRC_NAME"
    mkdir -p "$T/down"
    "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/down" --listen "$LEECHER" --timeout 10 \
        --peer "$SEEDER" >"$T/lt-get-truncated.log" 2>&1 && fail "libtorrent completed from a truncated file"
    local rc
    wait_pid_exit "$SEED_PID" 30; rc=$?
    [[ $rc == 1 ]] || fail "piecewise seed exited $rc after its file was truncated (expected 1)"
    grep -q "read $T/seed/$SRC_NAME: " "$T/pw-seed.log" ||
        fail "no line names the file and the read: $(tail -n 2 "$T/pw-seed.log" | tr '\n' ' ')"
    cp "$T/src/$SRC_NAME" "$T/seed/$SRC_NAME"
    rm -rf "$T/down"
    pw_seed
    grep -qE "pieces present \((checked|resume data, [0-9]+ pieces of changed files checked)\)" "$T/pw-seed.log" ||
        fail "the restarted seeder trusted stale resume data"
    lt_get --peer "$SEEDER"; check_same; stop_pw_seed
}

# Crash safety: `piecewise get` from a rate-limited libtorrent seeder is killed with
# SIGKILL at KILLS random moments (0.1-0.6 s after each start) and restarted each time.
# The result must be byte-identical, `piecewise verify` must pass, and the seeder must
# have uploaded no more than the payload plus, per kill, what the leecher could hold
# unwritten: its piece cache (--cache 4 MiB) and the requests in flight (about 1.5 s of
# the transfer rate, plus socket buffers): KILL_SLACK_MIB per kill. Restarts after a
# kill find the files newer than the last resume record and check them again.
KILLS=${KILLS:-20}
KILL_SLACK_MIB=${KILL_SLACK_MIB:-5}
case_pw_kill_resume() {
    need_piecewise
    single_payload 64; pw_create
    local limit=$((4 * 1048576))
    lt_seed --upload-limit "$limit"
    mkdir -p "$T/down"
    local k pid rc kills=0 delay
    for ((k = 1; k <= KILLS; k++)); do
        "$PW_BIN" get "${PW_VERBOSE[@]}" "${PW_OPTS[@]}" --cache 4 -o "$T/down" --listen "$LEECHER" \
            --no-seed --peer "$SEEDER" "$TORRENT" >>"$T/pw-kills.log" 2>&1 &
        pid=$!
        delay=$(printf '0.%d' $((1 + RANDOM % 6)))$((RANDOM % 10))
        sleep "$delay"
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"; rc=$?
            fail "get ended by itself before kill $k (exit $rc): the payload is too small for $KILLS kills"
        fi
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
        echo "--- killed after ${delay} s ($kills)" >>"$T/pw-kills.log"
    done
    local present
    present=$(grep -oE '[0-9]+ of [0-9]+ pieces present' "$T/pw-kills.log" | tail -n 1)
    pw_get --cache 4 --peer "$SEEDER"
    check_same
    "$PW_BIN" verify --quiet -d "$T/down" "$TORRENT" >"$T/verify.log" 2>&1 ||
        fail "verify after the kills: $(cat "$T/verify.log")"
    stop_pid "$SEED_PID" 10
    local up bound
    up=$(grep -oE 'uploaded [0-9]+' "$T/lt-seed.log" | tail -n 1 | cut -d' ' -f2)
    [[ -n $up ]] || fail "the seeder did not report its upload total"
    bound=$(((PAYLOAD_MIB + kills * KILL_SLACK_MIB) * 1048576))
    ((up <= bound)) || fail "the seeder uploaded $up bytes for a ${PAYLOAD_MIB} MiB payload after $kills kills (bound $bound)"
    local checks
    checks=$(grep -c 'pieces present (checked)' "$T/pw-kills.log")
    echo "PASS: $kills kills, $checks restarts re-checked (last restart saw: $present); seeder uploaded $up bytes, $(((up - PAYLOAD_MIB * 1048576) / 1024)) KiB more than the payload (bound $((bound / 1048576)) MiB)"
}

# SOCKS5 proxy: Dante (danted, Debian's dante-server) on 127.0.0.9:1080, no
# authentication. The torrent names its tracker "tracker.test" (this namespace's own
# /etc/hosts, bind-mounted, maps it to 127.0.0.1 for Dante and the libtorrent seeder);
# piecewise downloads with --proxy, and Dante's log and the seeder's peer list must show
# every connection coming from the proxy's address.
PROXY_ADDR=127.0.0.9
PROXY_PORT=1080

dante_start() {
    command -v danted >/dev/null || { echo "SKIP: danted not installed (dante-server)"; exit 77; }
    ip addr add "$PROXY_ADDR/32" dev lo   # Dante binds only to addresses of an interface
    printf '127.0.0.1 tracker.test\n' >"$T/hosts"
    cat /etc/hosts >>"$T/hosts"
    mount --bind "$T/hosts" /etc/hosts || fail "cannot bind-mount $T/hosts over /etc/hosts"
    cat >"$T/danted.conf" <<CONF
logoutput: stderr
internal: $PROXY_ADDR port = $PROXY_PORT
external: $PROXY_ADDR
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    log: connect disconnect error
}
socks pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    command: connect udpassociate udpreply
    log: connect disconnect error
}
CONF
    spawn "$T/danted.log" danted -f "$T/danted.conf" -p "$T/danted.pid"
    DANTE_PID=$SPAWNED
    wait_alive "$DANTE_PID" "$START_WAIT" port_listening "$PROXY_ADDR" "$PROXY_PORT"
    (($? == 0)) || fail "danted did not listen on $PROXY_ADDR:$PROXY_PORT"
}

# proxy_checks WHAT: Dante relayed WHAT (a regex of its log) and the peer connection, and
# the libtorrent seeder saw its downloader at the proxy's address only.
proxy_checks() {
    grep -qE "$1" "$T/danted.log" || fail "Dante's log shows no $1"
    grep -qE "tcp/connect \[: .* -> $PROXY_ADDR\.[0-9]+ ${SEEDER%:*}\.${SEEDER#*:}" "$T/danted.log" ||
        fail "Dante's log shows no connection to the seeder"
    wait_alive "$SEED_PID" 20 grep -qE "peer_(connect|disconnected)_alert: .*$PROXY_ADDR:" "$T/lt-seed.log"
    (($? == 0)) || fail "the seeder never listed a peer at $PROXY_ADDR"
    ! grep -qE "peer_(connect|disconnected)_alert: .*${LEECHER%:*}:" "$T/lt-seed.log" ||
        fail "the seeder saw the downloader's own address ${LEECHER%:*}"
    grep -hE "peer_disconnected_alert: .*$PROXY_ADDR:" "$T/lt-seed.log" | head -1
}

case_pw_proxy_dante() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "http://tracker.test:$TRACKER_PORT/announce"
    dante_start; tracker; lt_seed; seeder_announced
    pw_get --proxy "socks5://$PROXY_ADDR:$PROXY_PORT"
    check_same
    proxy_checks "tcp/connect \[: .* -> $PROXY_ADDR\.[0-9]+ $TRACKER_HOST\.$TRACKER_PORT"
    stop_pid "$DANTE_PID" 5
    # A malformed proxy URL: exit 2 with one line saying why.
    local rc
    "$PW_BIN" get --no-dht --proxy "socks5://$PROXY_ADDR" -o "$T/none" "$TORRENT" >"$T/bad-proxy.out" 2>&1
    rc=$?
    [[ $rc == 2 && $(wc -l <"$T/bad-proxy.out") == 1 ]] ||
        fail "a malformed --proxy gave exit $rc: $(cat "$T/bad-proxy.out")"
    cat "$T/bad-proxy.out"
}

case_pw_proxy_dante_udp() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "udp://tracker.test:$TRACKER_PORT/announce"
    dante_start; tracker; lt_seed; seeder_announced
    pw_get --proxy "socks5://$PROXY_ADDR:$PROXY_PORT"
    check_same
    proxy_checks "udp/udpassociate"
    stop_pid "$DANTE_PID" 5
}

# aria2 (1.36) -----------------------------------------------------------------------
# aria2 sends a whole BITFIELD again, instead of HAVEs, whenever 20 or more new pieces
# wait to be announced: 48 MiB in 256 KiB pieces downloads fast enough on loopback for
# that to happen many times. Kept on loopback: no DHT, no LPD, no PEX, bound to its own
# 127.0.0.x address, which it also announces.
ARIA_ADDR=127.0.0.5
ARIA_PORT=6881
ARIA_MIB=${ARIA_MIB:-48}
ARIA_OPTS=(--no-conf=true --interface="$ARIA_ADDR" --listen-port="$ARIA_PORT"
    --bt-external-ip="$ARIA_ADDR" --disable-ipv6=true --enable-dht=false --enable-dht6=false
    --bt-enable-lpd=false --enable-peer-exchange=false --check-integrity=true
    --file-allocation=none --summary-interval=0 --console-log-level=warn --log-level=info)

need_aria2() { command -v aria2c >/dev/null || { echo "SKIP: aria2c not installed"; exit 77; }; }

# piecewise seeds, aria2 downloads (and stops seeding at once: --seed-time=0).
case_pw_to_aria2() {
    need_piecewise; need_aria2
    single_payload "$ARIA_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; pw_seed; seeder_announced
    mkdir -p "$T/down"
    local rc
    timeout -k 5 "$WAIT" aria2c "${ARIA_OPTS[@]}" --log="$T/aria2.log" --seed-time=0 \
        --dir="$T/down" "$TORRENT" >"$T/aria2-get.out" 2>&1
    rc=$?
    [[ $rc == 124 ]] && fail "aria2c did not finish within $WAIT s"
    [[ $rc == 0 ]] || fail "aria2c exited $rc: $(tail -3 "$T/aria2-get.out" | tr '\n' ' ')"
    # The point of the case: aria2 sent the seeder more than one bitfield per connection.
    local bitfields
    bitfields=$(grep -c "To: ${SEEDER%:*}:[0-9]* bitfield" "$T/aria2.log")
    echo "aria2 sent $bitfields bitfields to the seeder"
    ((bitfields >= 2)) || fail "aria2 sent only $bitfields bitfield(s): the case tests nothing"
    check_same; stop_pw_seed
}

# aria2 seeds (after checking the payload), piecewise downloads.
case_aria2_to_pw() {
    need_piecewise; need_aria2
    single_payload "$ARIA_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    spawn "$T/aria2-seed.out" timeout -k 5 $((WAIT + START_WAIT + ANNOUNCE_WAIT + $(check_wait))) \
        aria2c "${ARIA_OPTS[@]}" --log="$T/aria2.log" --seed-ratio=0.0 --dir="$T/seed" "$TORRENT"
    tracker_lists "$ARIA_ADDR:$ARIA_PORT" "aria2"
    pw_get; check_same
}

# piecewise daemon driven by Transmission's own transmission-remote: add a torrent that a
# libtorrent seeder serves (found through the tracker), list, details, stop/start, a
# kill -9 and restart that keeps the torrent in the same (stopped) state without a
# re-hash, remove. Then the RPC's HTTP checks with curl: 409 session-id handshake, Basic
# auth (401), the client allow-list (403), the Host check (421) and the body limit (413).
DAEMON_RPC=127.0.0.1:9092
daemon_start() {   # daemon_start [piecewise daemon options]
    spawn "$T/daemon.log" "$PW_BIN" daemon --no-dht --rpc "$DAEMON_RPC" --state-dir "$T/dstate" \
        --download-dir "$T/down" --listen "$LEECHER" "$@"
    DAEMON_PID=$SPAWNED
    wait_alive "$DAEMON_PID" "$START_WAIT" port_listening "${DAEMON_RPC%:*}" "${DAEMON_RPC#*:}"
    (($? == 0)) || fail "piecewise daemon did not listen on $DAEMON_RPC"
}
remote() { timeout 30 transmission-remote "$DAEMON_RPC" "$@" 2>&1; }
remote_status() { remote -l | awk '$1 == "1" { print $(NF-1) }'; }   # single-word name
remote_field() { remote -t 1 -i | awk -F': *' -v k="$1" '$1 ~ "^ *"k"$" { print $2 }'; }
rpc_http() {   # rpc_http [curl options]: prints the HTTP status
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "http://$DAEMON_RPC/transmission/rpc" "$@" \
        -d '{"method":"session-get"}'
}
session_id() {
    curl -s -i --max-time 10 -X POST "http://$DAEMON_RPC/transmission/rpc" "$@" -d '{}' |
        awk -F': *' 'tolower($1) == "x-transmission-session-id" { sub(/\r$/, "", $2); print $2 }'
}

case_daemon_remote() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    local ih out; ih=$(info_hash "$TORRENT")
    daemon_start
    mkdir -p "$T/down"
    out=$(remote -a "$TORRENT" -w "$T/down")
    [[ $out == *success* ]] || fail "transmission-remote -a: $out"
    remote -l | grep -q "$SRC_NAME" || fail "-l does not list $SRC_NAME: $(remote -l)"
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "the download did not complete within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent')"
    check_same
    [[ $(remote_field Name) == "$SRC_NAME" ]] || fail "-i name: $(remote_field Name)"
    [[ $(remote_field Hash) == "$ih" ]] || fail "-i hash: $(remote_field Hash), expected $ih"
    remote -t 1 -f | grep -q "$SRC_NAME" || fail "-f does not list the file: $(remote -t 1 -f)"

    remote -t 1 -S >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Stopped* ]]" ||
        fail "-S: not stopped: $(remote -l)"
    remote -t 1 -s >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "-s: not seeding again: $(remote -l)"

    # Stopped, then killed without warning: the restart lists it, still stopped, complete.
    remote -t 1 -S >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Stopped* ]]" ||
        fail "-S before kill: $(remote -l)"
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start
    out=$(remote -l | awk '$1 == "1"')
    [[ $out == *Stopped* && $out == *100%* && $out == *"$SRC_NAME"* ]] || fail "after kill -9 and restart: $out"
    remote -t 1 -s >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "after restart, -s: $(remote -l)"
    [[ $(remote_field 'Percent Done') == 100% ]] || fail "after restart: $(remote_field 'Percent Done')"

    # Protocol encryption through the session settings, as front-ends switch it.
    remote -si | grep -q 'Encryption: preferred' || fail "-si: $(remote -si | grep -i encryption)"
    remote --encryption-required >/dev/null
    remote -si | grep -q 'Encryption: required' || fail "--encryption-required: $(remote -si | grep -i encryption)"

    out=$(remote -t 1 -r)
    [[ $out == *success* ]] || fail "-r: $out"
    remote -l | awk '$1 == "1"' | grep -q . && fail "-r: still listed: $(remote -l)"
    [[ -f $T/down/$SRC_NAME ]] || fail "-r (without --remove-and-delete) deleted the data"

    # HTTP checks.
    local code sid
    code=$(rpc_http); [[ $code == 409 ]] || fail "no session id: HTTP $code, expected 409"
    sid=$(session_id); [[ ${#sid} -ge 32 ]] || fail "409 without a usable X-Transmission-Session-Id ($sid)"
    code=$(rpc_http -H "X-Transmission-Session-Id: $sid"); [[ $code == 200 ]] || fail "with the id: HTTP $code"
    code=$(rpc_http -H "X-Transmission-Session-Id: wrong"); [[ $code == 409 ]] || fail "wrong id: HTTP $code"
    code=$(rpc_http -H "X-Transmission-Session-Id: $sid" -H "Host: evil.example:9092")
    [[ $code == 421 ]] || fail "Host evil.example: HTTP $code, expected 421"
    head -c $((11 * 1048576)) /dev/zero >"$T/big.json"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST -H "X-Transmission-Session-Id: $sid" \
        --data-binary @"$T/big.json" "http://$DAEMON_RPC/transmission/rpc")
    [[ $code == 413 ]] || fail "an 11 MiB body: HTTP $code, expected 413"
    code=$(rpc_http -H "X-Transmission-Session-Id: $sid"); [[ $code == 200 ]] || fail "after the 413: HTTP $code"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"

    daemon_start --rpc-auth alice:s3cret
    code=$(rpc_http); [[ $code == 401 ]] || fail "auth on, no credentials: HTTP $code, expected 401"
    code=$(rpc_http -u alice:wrong); [[ $code == 401 ]] || fail "auth on, wrong password: HTTP $code"
    sid=$(session_id -u alice:s3cret)
    code=$(rpc_http -u alice:s3cret -H "X-Transmission-Session-Id: $sid"); [[ $code == 200 ]] || fail "auth ok: HTTP $code"
    remote -n alice:s3cret -l | grep -q "^Sum:" || fail "transmission-remote -n: $(remote -n alice:s3cret -l)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"

    daemon_start --rpc-allow 127.0.0.9
    code=$(rpc_http); [[ $code == 403 ]] || fail "client not on the allow-list: HTTP $code, expected 403"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote add/list/info/files/stop/start/kill -9 restart/remove; HTTP 409/421/413/401/403"
}

# file_indices NAME...: the indices (comma-separated) of the torrent's files whose paths end
# in one of NAMEs, from piecewise info --json.
file_indices() {
    "$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c '
import json, sys
names = tuple(sys.argv[1:])
files = json.load(sys.stdin)["files"]
print(",".join(str(i) for i, f in enumerate(files) if f["path"].endswith(names)))' "$@"
}

# get --files: only the chosen files of a multi-file torrent from a libtorrent seeder;
# they are byte-identical, the other file (and its folder) is never created.
case_lt_to_pw_files() {
    need_piecewise
    multi_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    local idx bad out rc
    idx=$(file_indices one.bin tiny.txt); [[ $idx =~ ^[0-9]+,[0-9]+$ ]] || fail "file indices: '$idx'"
    # A list naming no file of the torrent, or not a list, is refused before anything starts.
    for bad in 3 "0,x" "2-1" ","; do
        out=$(timeout 20 "$PW_BIN" get --no-dht --files "$bad" -o "$T/bad" --listen "$LEECHER" "$TORRENT" 2>&1); rc=$?
        [[ $rc == 2 && $out == *--files* ]] || fail "--files '$bad': exit $rc: $out"
    done
    [[ -e $T/bad ]] && fail "a refused --files created $T/bad"
    tracker; lt_seed; seeder_announced
    pw_get --files "$idx" --sequential
    cmp "$T/src/album/one.bin" "$T/down/album/one.bin" || fail "one.bin differs"
    cmp "$T/src/album/tiny.txt" "$T/down/album/tiny.txt" || fail "tiny.txt differs"
    [[ -e "$T/down/album/disc 2" ]] && fail "the unselected file's folder was created: $(ls -la "$T/down/album")"
    echo "PASS: files $idx of 3 byte-identical, the third never created"
}

# transmission-remote -G/-g (files unwanted/wanted) against piecewise daemon: added while
# no seeder is up, one file skipped, then the seeder starts: the others complete and the
# skipped one is absent; -g all fetches it too, and the whole folder matches.
case_daemon_remote_files() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    multi_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    local skip out
    skip=$(file_indices two.bin); [[ $skip =~ ^[0-9]+$ ]] || fail "file index: '$skip'"
    daemon_start
    mkdir -p "$T/down"
    out=$(remote -a "$TORRENT" -w "$T/down")
    [[ $out == *success* ]] || fail "transmission-remote -a: $out"
    out=$(remote -t 1 -G "$skip"); [[ $out == *success* ]] || fail "-G $skip: $out"
    remote -t 1 -f | awk -v i="$skip:" '$1 == i' | grep -q ' No ' || fail "-f does not show file $skip unwanted: $(remote -t 1 -f)"
    lt_seed; seeder_announced
    remote -t 1 --reannounce >/dev/null
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "the wanted files did not complete within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent|Left')"
    cmp "$T/src/album/one.bin" "$T/down/album/one.bin" || fail "one.bin differs"
    cmp "$T/src/album/tiny.txt" "$T/down/album/tiny.txt" || fail "tiny.txt differs"
    [[ -e "$T/down/album/disc 2/two.bin" ]] && fail "the unwanted file was created: $(remote -t 1 -f)"
    # The selection survives a kill -9.
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start
    remote -t 1 -f | awk -v i="$skip:" '$1 == i' | grep -q ' No ' || fail "after restart, -f: $(remote -t 1 -f)"
    out=$(remote -t 1 -g all); [[ $out == *success* ]] || fail "-g all: $out"
    wait_until "$WAIT" bash -c "[[ -f '$T/down/album/disc 2/two.bin' && \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "after -g all, not complete within $WAIT s: $(remote -t 1 -i | grep -E 'State|Percent|Left')"
    check_same
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote -G/-g: file $skip skipped (absent), then fetched; restart kept the selection"
}

# sl_rpc_call JSON: one RPC request to the daemon (with its session id); prints the answer.
sl_rpc_call() {
    local sid; sid=$(session_id)
    curl -s --max-time 10 -X POST -H "X-Transmission-Session-Id: $sid" "http://$DAEMON_RPC/transmission/rpc" -d "$1"
}
# sl_rpc_arg JSON PYEXPR: evaluates PYEXPR on the answer's `arguments` (as `a`).
sl_rpc_arg() { sl_rpc_call "$1" | "$PW_PY" -c "import json,sys; a=json.load(sys.stdin)['arguments']; print($2)"; }
sl_torrent_down() { sl_rpc_arg '{"method":"torrent-get","arguments":{"ids":[1],"fields":["downloadedEver"]}}' "a['torrents'][0]['downloadedEver']"; }
# sl_daemon_rate WARM WINDOW: bytes/s the daemon's torrent 1 received over WINDOW s after WARM s.
sl_daemon_rate() {
    sleep "$1"
    local b0 t0 b1 t1
    b0=$(sl_torrent_down); t0=$(date +%s.%N)
    sleep "$2"
    b1=$(sl_torrent_down); t1=$(date +%s.%N)
    "$PW_PY" -c "print(int(($b1 - $b0) / ($t1 - $t0)))"
}
sl_near() {   # sl_near VALUE TARGET: within 25 %
    "$PW_PY" -c "import sys; sys.exit(0 if abs($1 - $2) <= 0.25 * $2 else 1)"
}

# Speed limits driven by transmission-remote: global -d/-u, alt speed and its schedule,
# per torrent -t -d/-D and -HL, what session-get and torrent-get report, a restart that
# keeps them, and a download from libtorrent that runs at the limit.
case_daemon_speed_limits() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload 16; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    daemon_start --max-up 300k
    local sess='{"method":"session-get"}' out rate
    [[ $(sl_rpc_arg "$sess" "a['speed-limit-up'], a['speed-limit-up-enabled']") == "300 True" ]] ||
        fail "--max-up 300k: $(sl_rpc_call "$sess")"
    remote -d 1000 -u 200 >/dev/null
    remote -asd 7 -asu 8 >/dev/null
    remote --alt-speed-time-begin 0130 --alt-speed-time-end 0245 --alt-speed-days 1-5 >/dev/null
    out=$(sl_rpc_arg "$sess" "a['speed-limit-down'], a['speed-limit-down-enabled'], a['speed-limit-up'], a['alt-speed-down'], a['alt-speed-up'], a['alt-speed-time-begin'], a['alt-speed-time-end'], a['alt-speed-time-day'], a['units']['speed-bytes']")
    [[ $out == "1000 True 200 7 8 90 165 62 1000" ]] || fail "session-get after -d/-u/-asd/-asu/times: $out"
    remote --alt-speed >/dev/null
    [[ $(sl_rpc_arg "$sess" "a['alt-speed-enabled']") == True ]] || fail "--alt-speed: $(sl_rpc_call "$sess")"
    remote --no-alt-speed -U >/dev/null
    [[ $(sl_rpc_arg "$sess" "a['alt-speed-enabled'], a['speed-limit-up-enabled'], a['speed-limit-up']") == "False False 200" ]] ||
        fail "--no-alt-speed -U: $(sl_rpc_call "$sess")"
    # A schedule window covering every minute of every day switches alt speed on at once.
    remote --alt-speed-time-begin 0000 --alt-speed-time-end 0000 --alt-speed-days 1-7 -asc >/dev/null
    [[ $(sl_rpc_arg "$sess" "a['alt-speed-enabled'], a['alt-speed-time-enabled']") == "True True" ]] ||
        fail "-asc over the whole week: $(sl_rpc_call "$sess")"
    remote -ASC --no-alt-speed >/dev/null

    # The download: global limit 1000 kB/s.
    mkdir -p "$T/down"
    out=$(remote -a "$TORRENT" -w "$T/down"); [[ $out == *success* ]] || fail "-a: $out"
    rate=$(sl_daemon_rate 3 6)
    sl_near "$rate" 1000000 || fail "global -d 1000: downloaded at $rate B/s"
    echo "global limit 1000 kB/s: $rate B/s"
    # This torrent's own limit, under the global one, and not honouring the session's.
    remote -t 1 -d 400 >/dev/null
    local tget='{"method":"torrent-get","arguments":{"ids":[1],"fields":["downloadLimit","downloadLimited","uploadLimited","honorsSessionLimits"]}}'
    [[ $(sl_rpc_arg "$tget" "a['torrents'][0]['downloadLimit'], a['torrents'][0]['downloadLimited']") == "400 True" ]] ||
        fail "-t 1 -d 400: $(sl_rpc_call "$tget")"
    rate=$(sl_daemon_rate 2 4)
    sl_near "$rate" 400000 || fail "-t 1 -d 400 under -d 1000: downloaded at $rate B/s"
    echo "torrent limit 400 kB/s: $rate B/s"
    remote -t 1 -HL -u 50 >/dev/null
    [[ $(sl_rpc_arg "$tget" "a['torrents'][0]['honorsSessionLimits'], a['torrents'][0]['uploadLimited']") == "False True" ]] ||
        fail "-t 1 -HL -u 50: $(sl_rpc_call "$tget")"

    # kill -9 and restart: every limit is still there.
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start
    out=$(sl_rpc_arg "$sess" "a['speed-limit-down'], a['speed-limit-down-enabled'], a['alt-speed-down'], a['alt-speed-time-day']")
    [[ $out == "1000 True 7 127" ]] || fail "after kill -9: session $out"
    out=$(sl_rpc_arg "$tget" "a['torrents'][0]['downloadLimit'], a['torrents'][0]['downloadLimited'], a['torrents'][0]['honorsSessionLimits']")
    [[ $out == "400 True False" ]] || fail "after kill -9: torrent $out"
    # Limits off: the rest arrives at full speed.
    remote -t 1 -D -hl >/dev/null
    remote -D >/dev/null
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "no completion after the limits were lifted: $(remote -t 1 -i | grep -E 'State|Percent')"
    check_same
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: transmission-remote speed limits (global, alt speed, schedule, per torrent) reported, enforced and kept across kill -9"
}

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

# The daemon's watch dir and per-torrent settings as transmission-remote drives them:
# a .torrent dropped into --watch-dir is added (data present: it seeds) and renamed
# .added, a hostile one .invalid; -sr 0 stops the seed at its ratio limit, -SR lifts it;
# -L labels, -td/-tr trackers; all kept across kill -9.
case_daemon_settings() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload 2; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    mkdir -p "$T/watch" "$T/down"; cp "$T/src/$SRC_NAME" "$T/down/"   # data present: seeds
    daemon_start --watch-dir "$T/watch"
    cp "$TORRENT" "$T/watch/a.torrent"
    printf 'd4:infoi5ee' >"$T/watch/evil.torrent"
    wait_until 20 test -f "$T/watch/a.torrent.added" || fail "watch dir: not added: $(ls "$T/watch")"
    wait_until 20 test -f "$T/watch/evil.torrent.invalid" || fail "watch dir: hostile file not .invalid: $(ls "$T/watch")"
    grep -q 'evil.torrent is invalid' "$T/daemon.log" || fail "watch dir: the reason is not logged"
    wait_until 30 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "watch dir torrent does not seed: $(remote -l)"

    remote -t 1 -sr 0 >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Finished* || \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') == *Stopped* ]]" ||
        fail "-sr 0: the seed did not stop: $(remote -l)"
    remote -t 1 -i | grep -q 'Ratio Limit: 0' || fail "-i after -sr 0: $(remote -t 1 -i | grep -i ratio)"
    remote -t 1 -L tv,hd >/dev/null
    remote -t 1 -i | grep -q 'Labels: tv, hd' || fail "-L: $(remote -t 1 -i | grep -i label)"
    remote -t 1 -td "http://127.0.0.1:7/announce" >/dev/null
    [[ $(remote -t 1 -it | grep -c '^ *Tracker [0-9]') == 2 ]] || fail "-td: $(remote -t 1 -it)"
    remote -t 1 -it | grep -q 'Active in tier 1' || fail "-td: not a tier of its own: $(remote -t 1 -it)"
    remote -gsr 3 >/dev/null
    # transmission-remote 3.00 shows limits (-si) only with the speed-limit keys too: asked directly.
    ratio_get() {
        curl -s --max-time 10 -X POST -H "X-Transmission-Session-Id: $(session_id)" "http://$DAEMON_RPC/transmission/rpc" \
            -d '{"method":"session-get","arguments":{"fields":["seedRatioLimit","seedRatioLimited"]}}'
    }
    [[ $(ratio_get) == *'"seedRatioLimit":3'* && $(ratio_get) == *'"seedRatioLimited":true'* ]] || fail "-gsr 3: $(ratio_get)"
    sleep 2   # the stop at the limit is stored by the daemon's housekeeping (1 s)
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    daemon_start --watch-dir "$T/watch"
    sleep 2
    [[ $(remote -l | awk '$1 == "1"') =~ (Finished|Stopped) ]] || fail "after kill -9: not stopped: $(remote -l)"
    remote -t 1 -i | grep -q 'Labels: tv, hd' || fail "after kill -9: labels $(remote -t 1 -i | grep -i label)"
    [[ $(remote -t 1 -it | grep -c '^ *Tracker [0-9]') == 2 ]] || fail "after kill -9: trackers $(remote -t 1 -it)"
    [[ $(ratio_get) == *'"seedRatioLimit":3'* ]] || fail "after kill -9: $(ratio_get)"
    remote -t 1 -tr 1 >/dev/null
    [[ $(remote -t 1 -it | grep -c '^ *Tracker [0-9]') == 1 ]] || fail "-tr 1: $(remote -t 1 -it)"
    remote -t 1 -SR >/dev/null
    remote -t 1 -s >/dev/null
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "-SR -s: not seeding: $(remote -l)"
    sleep 2
    [[ $(remote -l | awk '$1 == "1"') =~ (Seeding|Idle) ]] || fail "-SR: stopped again: $(remote -l)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: watch dir .added/.invalid; -sr 0 stops the seed, -L, -td/-tr, -gsr, kept across kill -9; -SR -s seeds"
}

# uTP (BEP 29) only, both sides: libtorrent with TCP off seeds to piecewise --no-tcp,
# and downloads from it.
case_lt_to_pw_utp() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create
    lt_seed --utp-only; pw_get --no-tcp --peer "$SEEDER"; check_same
}

# udp_bound HOST PORT: a UDP socket is bound there (a uTP-only seeder has no TCP listener).
udp_bound() {
    ss -Hlun "sport = :$2" 2>/dev/null | awk '{ print $4 }' | grep -qE "^(\\[?::\\]?|0\\.0\\.0\\.0|\\*|$1)(%[^:]*)?:$2\$"
}

case_pw_to_lt_utp() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:9/announce"
    PW_OPTS+=(--no-tcp)
    SEED_PROBE=udp_bound
    pw_seed; lt_get --utp-only --peer "$SEEDER"; check_same; stop_pw_seed
}

# transmission-remote --move / --find against piecewise daemon: a downloaded torrent moves
# to another directory (bytes identical there, gone from the old one) and keeps seeding
# from there to a libtorrent leecher that knows only the daemon; --find points it at a
# copy and verifies it. Then a kill -9 in the middle of a cross-file-system move (ext4 ->
# tmpfs) of a large torrent: the restart lists it complete at one of the two places,
# without a download (there is no seeder for it), and a new move completes.
case_daemon_remote_move() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    daemon_start
    mkdir -p "$T/down"
    local out loc
    out=$(remote -a "$TORRENT" -w "$T/down"); [[ $out == *success* ]] || fail "-a: $out"
    wait_until "$WAIT" bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "the download did not complete within $WAIT s"
    check_same
    out=$(remote -t 1 --move "$T/moved"); [[ $out == *success* ]] || fail "--move: $out"
    wait_until 60 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Location:') == *'$T/moved' ]]" ||
        fail "--move: location still $(remote_field Location)"
    cmp "$T/src/$SRC_NAME" "$T/moved/$SRC_NAME" || fail "--move: the moved data differs"
    [[ -e $T/down/$SRC_NAME ]] && fail "--move: the data is still in $T/down"
    wait_until 30 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | awk '\$1 == \"1\"') =~ (Seeding|Idle) ]]" ||
        fail "--move: not seeding again: $(remote -l)"
    [[ $(remote_field 'Percent Done') == 100% ]] || fail "--move: $(remote_field 'Percent Done')"
    # A bad target: refused, nothing moves.
    out=$(remote -t 1 --move relative/dir); [[ $out == *success* ]] && fail "--move relative/dir: $out"

    # Only the daemon serves now: a libtorrent leecher that knows only it completes.
    kill "$SEED_PID" 2>/dev/null; wait "$SEED_PID" 2>/dev/null
    mkdir -p "$T/lt"
    "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/lt" --listen 127.0.0.5:6881 --peer "$LEECHER" \
        --timeout "$WAIT" >"$T/lt-get.log" 2>&1 || fail "libtorrent could not download from the moved torrent"
    cmp "$T/src/$SRC_NAME" "$T/lt/$SRC_NAME" || fail "libtorrent's copy differs"

    # --find: the data is looked for (and verified) elsewhere; nothing moves.
    mkdir -p "$T/found"; cp "$T/moved/$SRC_NAME" "$T/found/"
    out=$(remote -t 1 --find "$T/found"); [[ $out == *success* ]] || fail "--find: $out"
    wait_until 60 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Location:') == *'$T/found' && \$(timeout 30 transmission-remote $DAEMON_RPC -t 1 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "--find: $(remote -t 1 -i | grep -E 'Location|Percent')"
    [[ -f $T/moved/$SRC_NAME ]] || fail "--find moved the data"

    # kill -9 mid-move: a 512 MiB torrent already on disk, moved across file systems.
    mkdir -p "$T/big"
    head -c $((512 * 1048576)) /dev/urandom >"$T/big/big.bin"
    mktorrent -l 22 -a "http://$TRACKER_HOST:$TRACKER_PORT/announce" -o "$T/big.torrent" "$T/big/big.bin" \
        >/dev/null 2>&1 || fail "mktorrent (big) failed"
    local big_ih shm
    big_ih=$(info_hash "$T/big.torrent")
    shm=$(mktemp -d /dev/shm/pw-move.XXXXXX) || { echo "SKIP: no /dev/shm"; exit 77; }
    PW_TMPDIRS+=("$shm")   # removed by cleanup_all, as $T
    out=$(remote -a "$T/big.torrent" -w "$T/big"); [[ $out == *success* ]] || fail "-a big: $out"
    wait_until 120 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "big: not verified: $(remote -t 2 -i | grep -E 'State|Percent')"
    out=$(remote -t 2 --move "$shm/dst"); [[ $out == *success* ]] || fail "--move big: $out"
    local i
    for ((i = 0; i < 3000; i++)); do
        [[ -d $shm/dst/.$big_ih.moving ]] && break
        sleep 0.01
    done
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    ((i < 3000)) || fail "never saw the move's staging folder (the move did not start within 30 s)"
    echo "killed during the copy (after $((i * 10)) ms)"
    daemon_start
    wait_until 60 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "after kill -9 mid-move: $(remote -t 2 -i | grep -E 'State|Percent|Location')"
    loc=$(remote -t 2 -i | awk -F': *' '$1 ~ /^ *Location$/ { print $2 }')
    [[ $loc == "$T/big" || $loc == "$shm/dst" ]] || fail "after kill -9: location $loc"
    [[ $(remote -t 2 -i | grep -E '^ *Downloaded:') == *'None'* ]] || fail "downloaded after the restart: $(remote -t 2 -i | grep -E '^ *Downloaded:')"
    [[ -e $shm/dst/.$big_ih.moving ]] && fail "the staging folder survived the restart"
    [[ -f $loc/big.bin ]] || fail "after kill -9: no data at $loc"
    echo "after kill -9 mid-move: complete at $loc"
    out=$(remote -t 2 --move "$shm/dst2"); [[ $out == *success* ]] || fail "--move big again: $out"
    wait_until 120 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Location:') == *'$shm/dst2' ]]" ||
        fail "the second big move did not finish: $(remote_field Location)"
    cmp "$T/big/big.bin" "$shm/dst2/big.bin" 2>/dev/null && fail "the source stayed after the move"
    [[ $(stat -c %s "$shm/dst2/big.bin") == $((512 * 1048576)) ]] || fail "big.bin at dst2 has the wrong size"
    wait_until 30 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -t 2 -i | grep 'Percent Done') == *'100%'* ]]" ||
        fail "after the second big move: $(remote -t 2 -i | grep -E 'State|Percent')"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: --move (bytes identical, served to libtorrent), --find, kill -9 mid-move kept the data complete"
}

# A second front-end, not Transmission's own code: Debian's python3-transmissionrpc drives
# piecewise daemon (tests/interop/tr_rpc_client.py): add a torrent a libtorrent seeder
# serves, list, files, stop/start, the download completes byte-identical, remove.
case_daemon_second_frontend() {
    need_piecewise
    /usr/bin/python3 -c 'import transmissionrpc' 2>/dev/null ||
        { echo "SKIP: python3-transmissionrpc missing (scripts/setup installs it)"; exit 77; }
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced
    daemon_start
    mkdir -p "$T/down"
    local size out; size=$(stat -c %s "$T/src/$SRC_NAME")
    out=$(timeout $((WAIT + 120)) /usr/bin/python3 "$HERE/tr_rpc_client.py" "${DAEMON_RPC%:*}" \
        "${DAEMON_RPC#*:}" add "$TORRENT" "$T/down" "$SRC_NAME" "$size" "$WAIT" 2>&1) ||
        fail "transmissionrpc: $(echo "$out" | tail -5 | tr '\n' ' ')"
    echo "$out"
    check_same
    out=$(timeout 60 /usr/bin/python3 "$HERE/tr_rpc_client.py" "${DAEMON_RPC%:*}" "${DAEMON_RPC#*:}" \
        remove "$SRC_NAME" 2>&1) || fail "transmissionrpc remove: $(echo "$out" | tail -3 | tr '\n' ' ')"
    echo "$out"
    [[ -f $T/down/$SRC_NAME ]] || fail "remove (data kept) deleted the data"
}

# Download queue driven over the RPC (transmission-remote 3.00 has no queue options, so
# the queue keys and queue-move-* go by curl in both dialects; adding and listing by
# transmission-remote): three torrents, each from its own slow libtorrent seeder, with
# download-queue-size 1. One downloads, the others show "Queued" (status 3); the last
# one moved to the top goes second; all three arrive byte-identical.
q_rpc() { sl_rpc_call "$1"; }
q_status() {   # q_status: "id:status:percentDone:queuePosition ..." of every torrent
    q_rpc '{"method":"torrent-get","arguments":{"fields":["id","status","percentDone","queuePosition"]}}' |
        "$PW_PY" -c 'import json,sys; print(" ".join("%d:%d:%g:%d" % (t["id"], t["status"], t["percentDone"], t["queuePosition"]) for t in json.load(sys.stdin)["arguments"]["torrents"]))'
}
case_daemon_queue() {
    need_piecewise
    command -v transmission-remote >/dev/null || { echo "SKIP: transmission-remote missing"; exit 77; }
    local i hashes=() addrs=(127.0.0.2 127.0.0.5 127.0.0.6) pids=() out
    mkdir -p "$T/src" "$T/seed" "$T/down"
    for i in 1 2 3; do
        make_payload "$T/src/q$i.bin" 4
        mktorrent -l 18 -a "http://$TRACKER_HOST:$TRACKER_PORT/announce" -o "$T/q$i.torrent" "$T/src/q$i.bin" \
            >"$T/mktorrent.out" 2>&1 || fail "mktorrent failed"
        hashes+=("$(info_hash "$T/q$i.torrent")")
        cp "$T/src/q$i.bin" "$T/seed/"
    done
    PAYLOAD_MIB=4
    ot_start "$T/ot" "$TRACKER_HOST" "$TRACKER_PORT" "${hashes[@]}"
    for i in 0 1 2; do   # 1.5 MB/s each: a download lasts about 3 s
        spawn "$T/lt-seed$i.log" "$PW_PY" "$LT_PEER" seed "$T/q$((i + 1)).torrent" --dir "$T/seed" \
            --listen "${addrs[$i]}:6881" --upload-limit 1500000 --timeout $((WAIT * 3 + 120))
        pids+=("$SPAWNED")
    done
    for i in 0 1 2; do
        wait_alive "${pids[$i]}" "$(( START_WAIT + $(check_wait) ))" grep -qE ': checked [0-9]+/[0-9]+ pieces in .* seeding' "$T/lt-seed$i.log" ||
            fail "libtorrent seeder $i not ready: $(tail -3 "$T/lt-seed$i.log")"
        ot_wait_peer "$TRACKER_HOST" "$TRACKER_PORT" "${hashes[$i]}" "${addrs[$i]}:6881" "$ANNOUNCE_WAIT" ||
            fail "seeder $i never announced itself"
    done
    daemon_start
    out=$(q_rpc '{"jsonrpc":"2.0","method":"session_set","params":{"download_queue_size":1,"download_queue_enabled":true},"id":1}')
    [[ $out == *'"result"'* ]] || fail "session_set download_queue_size: $out"
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['download-queue-enabled'], a['download-queue-size']") == "True 1" ]] ||
        fail "session-get after session_set: $(sl_rpc_call '{"method":"session-get"}')"
    for i in 1 2 3; do
        out=$(remote -a "$T/q$i.torrent" -w "$T/down"); [[ $out == *success* ]] || fail "-a q$i: $out"
    done
    wait_until 20 bash -c "[[ \$(timeout 30 transmission-remote $DAEMON_RPC -l | grep -c Queued) == 2 ]]" ||
        fail "two torrents should be queued: $(remote -l) / $(q_status)"
    out=" $(q_status) "
    [[ $out == *" 2:3:"* && $out == *" 3:3:"* && $out != *" 1:3:"* ]] || fail "statuses with a queue of 1: $out"
    out=$(q_rpc '{"method":"queue-move-top","arguments":{"ids":[3]}}')
    [[ $out == *success* ]] || fail "queue-move-top: $out"
    [[ " $(q_status)" == *" 3:3:0:0"* ]] || fail "queue-move-top: 3 not at position 0: $(q_status)"
    # Completion order and, at every look, at most one torrent between 0 and 100 %
    # that is not queued.
    local order="" st end=$((SECONDS + WAIT * 3)) tid code pct active
    while ((SECONDS < end)) && [[ $order != *3* || $order != *2* || $order != *1* ]]; do
        st=$(q_status); active=0
        for i in $st; do
            IFS=: read -r tid code pct _ <<<"$i"
            [[ $code == 4 && $pct != 1 ]] && active=$((active + 1))
            [[ $pct == 1 && $order != *$tid* ]] && order+=$tid
        done
        ((active <= 1)) || fail "more than one torrent downloading: $st"
        sleep 0.3
    done
    [[ $order == 132 ]] || fail "completion order $order, expected 132 (1, then 3 moved to the top, then 2): $(q_status)"
    for i in 1 2 3; do cmp -s "$T/src/q$i.bin" "$T/down/q$i.bin" || fail "q$i.bin differs"; done
    # The order and the queue size survive a restart.
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    daemon_start
    [[ $(sl_rpc_arg '{"method":"session-get"}' "a['download-queue-size']") == 1 ]] || fail "queue size lost on restart"
    [[ $(sl_rpc_arg '{"method":"torrent-get","arguments":{"ids":[1,2,3],"fields":["id","queuePosition"]}}' \
        "' '.join('%d:%d' % (t['id'], t['queuePosition']) for t in a['torrents'])") == "1:1 2:2 3:0" ]] ||
        fail "queue positions after restart: $(q_status)"
    stop_pid "$DAEMON_PID" 15 || fail "piecewise daemon exited $? after SIGTERM (expected 0)"
    echo "PASS: download queue of 1: statuses 3/4, queue-move-top, completion order 1 3 2, 3 files identical, kept across restart"
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

# Connection flood (issue 14): tests/interop/flood_test.sh scaled to fit the harness
# (3,000 connections from 3,000 addresses for 30 s, half handshaking and stalling, half
# silent, while `piecewise get` fetches 64 MiB): the leecher finishes under the flood,
# byte-identical, and the seeder stays within its descriptor cap. About 40 s.
case_flood() {
    need_piecewise
    PW_FLOOD_INSIDE=1 PW_FLOOD_MIB=64 PW_FLOOD_SECONDS=30 \
        timeout -k 5 60 bash "$HERE/flood_test.sh" "$PW_BIN" || die "flood_test failed"
}

# BEP 52 v2 and hybrid torrents --------------------------------------------------------

# v2_payload MIB: $T/src/v2set/ with uneven files, one smaller than a piece, an empty one
# and one in a subfolder (SRC_NAME=v2set).
v2_payload() {
    local mib=$1
    mkdir -p "$T/src/v2set/sub"
    head -c $((mib * 1048576 / 2 + 12345)) /dev/urandom >"$T/src/v2set/one.bin"
    head -c 7 /dev/urandom >"$T/src/v2set/tiny.txt"
    : >"$T/src/v2set/empty.dat"
    head -c $((mib * 1048576 / 2 - 777)) /dev/urandom >"$T/src/v2set/sub/two.bin"
    SRC_NAME=v2set
    PAYLOAD_MIB=$mib
}

# info_agrees: piecewise info --json and libtorrent give the same v1 and v2 info-hashes
# for $TORRENT, and the format FORMAT (info_hash is null for a v2-only torrent).
info_agrees() {
    local format=$1 ours lt1 lt2
    ours=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c '
import json, sys
j = json.load(sys.stdin)
print(j["format"], j["info_hash"] or "none", j["info_hash_v2"] or "none")') ||
        fail "piecewise info --json failed on $TORRENT"
    lt1=$(info_hash "$TORRENT") || fail "libtorrent cannot load $TORRENT"
    lt2=$("$PW_PY" "$LT_PEER" infohash --v2 "$TORRENT") || fail "libtorrent cannot load $TORRENT"
    [[ $format == v2 ]] && lt1=none
    [[ $ours == "$format $lt1 $lt2" ]] ||
        fail "info --json says '$ours', libtorrent says '$format $lt1 $lt2'"
    echo "info --json agrees with libtorrent: $ours"
}

# lt_create FORMAT: $TORRENT made by libtorrent from $T/src/$SRC_NAME (256 KiB pieces).
lt_create() {
    TORRENT=$T/lt.torrent
    "$PW_PY" "$LT_PEER" create "$T/src/$SRC_NAME" --out "$TORRENT" --format "$1" \
        --piece-size 262144 >"$T/lt-create.log" 2>&1 || fail "libtorrent could not create a $1 torrent"
}

# pw_create_format FORMAT: $TORRENT made by piecewise, checked against libtorrent.
pw_create_format() {
    TORRENT=$T/pw.torrent
    "$PW_BIN" create -o "$TORRENT" --piece-size 262144 --format "$1" "$T/src/$SRC_NAME" \
        >"$T/pw-create.log" 2>&1 || fail "piecewise create --format $1 failed"
    info_agrees "$1"
}

# libtorrent makes and seeds a v2-only torrent; piecewise downloads it byte-identical
# (the empty file included).
case_lt_to_pw_v2() {
    need_piecewise
    v2_payload "$LT_MIB"; lt_create v2; info_agrees v2
    lt_seed; pw_get --peer "$SEEDER"; check_same
    [[ -f $T/down/$SRC_NAME/empty.dat ]] || fail "the empty file was not created"
    [[ -z $(find "$T/down" -path '*.pad*') ]] || fail "pad files were written to disk"
}

# piecewise makes and seeds a v2-only torrent; libtorrent downloads it.
case_pw_to_lt_v2() {
    need_piecewise
    v2_payload "$LT_MIB"; pw_create_format v2
    pw_seed; lt_get --peer "$SEEDER"; check_same; stop_pw_seed
}

# piecewise makes and seeds a hybrid torrent; libtorrent downloads it.
case_pw_to_lt_hybrid() {
    need_piecewise
    v2_payload "$LT_MIB"; pw_create_format hybrid
    pw_seed; lt_get --peer "$SEEDER"; check_same; stop_pw_seed
}

# info --json against libtorrent on torrents libtorrent made in all three formats, and
# the same payload made by piecewise has the same info-hashes.
case_pw_info_v2_agrees() {
    need_piecewise
    v2_payload 2
    local f lt_json pw_json
    for f in v1 v2 hybrid; do
        lt_create "$f"; info_agrees "$f"
        [[ $f == v1 ]] && continue   # libtorrent's v1 file order is its own
        lt_json=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["info_hash"], j["info_hash_v2"])')
        pw_create_format "$f"
        pw_json=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c 'import json,sys; j=json.load(sys.stdin); print(j["info_hash"], j["info_hash_v2"])')
        [[ $lt_json == "$pw_json" ]] || fail "$f: libtorrent made $lt_json, piecewise made $pw_json"
    done
    echo "PASS"
}

# Web seeds (BEP 19) -----------------------------------------------------------------

# http_mirror DIR: python's http.server serving DIR on 127.0.0.5:8080 (HTTP_PID). It has
# no range support (every GET is a 200 with the whole file), which web seed clients must
# cope with too.
http_mirror() {
    spawn "$T/http.log" "$PW_PY" -m http.server --bind 127.0.0.5 --directory "$1" 8080
    HTTP_PID=$SPAWNED
    wait_alive "$HTTP_PID" "$START_WAIT" port_listening 127.0.0.5 8080 ||
        fail "http.server did not listen on 127.0.0.5:8080"
}

# Piecewise downloads a multi-file torrent it made with --web-seed from the mirror alone:
# no tracker, no peers, no DHT.
case_webseed_only() {
    need_piecewise
    multi_payload 8; seed_dir_with_payload
    http_mirror "$T/seed"
    pw_create --web-seed "http://127.0.0.5:8080/"
    "$PW_BIN" info "$TORRENT" | grep -q '^  http://127.0.0.5:8080/$' ||
        fail "info does not list the web seed: $("$PW_BIN" info "$TORRENT" | tr '\n' ' ')"
    pw_get; check_same
}

# libtorrent downloads a single-file torrent piecewise made with --web-seed (the URL of
# the file itself) from the mirror alone: what we write is what libtorrent reads.
case_webseed_lt() {
    need_piecewise
    single_payload 16; seed_dir_with_payload
    http_mirror "$T/seed"
    pw_create --web-seed "http://127.0.0.5:8080/payload.bin"
    lt_get; check_same
}

list_cases() { declare -F | awk '{print $3}' | sed -n 's/^case_//p'; }

main() {
    if [[ ${1:-} == --list ]]; then list_cases; exit 0; fi
    local name=${1:?usage: cases.sh NAME | --list}
    declare -F "case_$name" >/dev/null || die "no case $name (cases: $(list_cases | tr '\n' ' '))"
    in_netns || die "run it through tests/interop/run (it needs its own network namespace)"
    install_cleanup
    make_tmpdir "pw-interop-$name"
    T=$TMPDIR_MADE
    # piecewise keeps resume data under $XDG_STATE_HOME: keep it inside the test.
    export XDG_STATE_HOME=$T/state
    PW_VERBOSE=()
    # The DHT stays off unless a case bootstraps it from a loopback node of its own.
    PW_OPTS=(--no-dht)
    if have_piecewise && "$PW_BIN" get --help 2>/dev/null | grep -q -- '--verbose'; then
        PW_VERBOSE=(--verbose)   # peer and tracker events in the logs, for diagnosis
    fi
    "case_$name"
}

main "$@"
