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
    wait_alive "$SEED_PID" "$START_WAIT" "${SEED_PROBE:-port_listening}" "${SEEDER%:*}" "${SEEDER##*:}"
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

# The cases, one file per theme (tests/interop/cases/).
for case_file in "$HERE"/cases/*.sh; do
    source "$case_file"
done
unset case_file

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
