# Interop cases: a hybrid torrent (BEP 52 with BEP 47 pad files) made and seeded by
# piecewise, downloaded by v1-only clients that know nothing of BEP 52 or of pad files:
# rtorrent 0.9.8 and Enhanced CTorrent dnh3.3.2 (Debian's `rtorrent` and `ctorrent`).
# They see the info dictionary's v1 `files` list, pad files included, and may write each
# pad file to disk as `.pad/N`.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

HYB_MIB=${HYB_MIB:-16}   # payload for the v1-only client cases

need_tool() { command -v "$1" >/dev/null || { echo "SKIP: $1 not installed (scripts/setup)"; exit 77; }; }

# hybrid_tracker_seed: $T/src/album (uneven files, so the hybrid torrent has pad files)
# made into a hybrid torrent with the tracker's URL, the tracker started, piecewise seeding
# it and listed by the tracker.
hybrid_tracker_seed() {
    multi_payload "$HYB_MIB"
    pw_create --format hybrid -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    local pads
    pads=$("$PW_BIN" info --json "$TORRENT" | "$PW_PY" -c '
import json, sys
j = json.load(sys.stdin)
assert j["format"] == "hybrid", j["format"]
print(sum(1 for f in j["files"] if f.get("pad")))') || fail "piecewise info --json failed on $TORRENT"
    ((pads > 0)) || fail "the hybrid torrent has no pad files: the case tests nothing"
    echo "hybrid torrent with $pads pad files"
    tracker; pw_seed; seeder_announced
}

# same_real_files: every file of $T/src/$SRC_NAME is in $T/down/$SRC_NAME with the same
# bytes. Anything else there must be a pad file the client wrote: `.pad/N`, zero bytes,
# at most N of them (a client may leave one short). On success SAME_WHAT says what was
# compared; on failure SAME_WHY names the first difference.
same_real_files() {
    local src=$T/src/$SRC_NAME down=$T/down/$SRC_NAME rel size n=0 bytes=0 pads=0
    SAME_WHY=
    while IFS= read -r -d '' rel; do
        cmp -s "$src/$rel" "$down/$rel" || { SAME_WHY="${rel#./} differs or is missing"; return 1; }
        n=$((n + 1)) bytes=$((bytes + $(stat -c %s "$src/$rel")))
    done < <(cd "$src" && find . -type f -print0)
    while IFS= read -r -d '' rel; do
        [[ -f $src/$rel ]] && continue
        [[ $rel =~ ^\./\.pad/([1-9][0-9]*)$ ]] || { SAME_WHY="${rel#./} is neither a file of the torrent nor .pad/N"; return 1; }
        size=$(stat -c %s "$down/$rel")
        ((size <= BASH_REMATCH[1])) || { SAME_WHY="${rel#./} holds $size bytes"; return 1; }
        cmp -s -n "$size" "$down/$rel" /dev/zero || { SAME_WHY="${rel#./} is not all zeros"; return 1; }
        pads=$((pads + 1))
    done < <(cd "$down" 2>/dev/null && find . -type f -print0)
    SAME_WHAT="$n files identical ($bytes bytes), $pads pad files on disk (all zeros)"
}

# check_same_real: same_real_files, or a failure naming the first difference.
check_same_real() {
    same_real_files || fail "downloaded data: $SAME_WHY"
    echo "PASS: $SAME_WHAT"
}

# rtorrent 0.9.8, headless (system.daemon.set: no curses, runs in the foreground), with
# a session directory of its own, no rtorrent.rc, DHT, PEX and UDP trackers off, listening
# on 127.0.0.3:6881 only. Once every piece is in, it hashes the whole torrent again by
# SHA-1 (pad bytes included) and then touches $T/rt/finished (event.download.finished).
case_pw_hybrid_to_rtorrent() {
    need_piecewise; need_tool rtorrent
    hybrid_tracker_seed
    local rt=$T/rt
    mkdir -p "$rt/session" "$T/down"
    cat >"$rt/rtorrent.rc" <<EOF
system.daemon.set = true
session.path.set = $rt/session
directory.default.set = $T/down
network.bind_address.set = ${LEECHER%:*}
network.local_address.set = ${LEECHER%:*}
network.port_range.set = ${LEECHER##*:}-${LEECHER##*:}
network.port_random.set = no
dht.mode.set = disable
protocol.pex.set = no
trackers.use_udp.set = no
log.open_file = "rt", $T/rtorrent-events.log
log.add_output = "info", "rt"
log.add_output = "tracker_debug", "rt"
log.add_output = "storage_info", "rt"
method.set_key = event.download.finished, pw_case_done, "execute.nothrow = touch, $rt/finished"
load.start = $TORRENT
EOF
    spawn "$T/rtorrent.log" rtorrent -n -o "import=$rt/rtorrent.rc"
    local pid=$SPAWNED rc
    wait_alive "$pid" "$WAIT" test -e "$rt/finished"
    rc=$?
    ((rc == 2)) && fail "rtorrent exited before the download completed"
    ((rc == 0)) || fail "rtorrent did not complete within $WAIT s (the seeder's log and rtorrent's follow)"
    echo "rtorrent reports the download finished"
    stop_pid "$pid" 10
    check_same_real
    stop_pw_seed
}

# ctorrent (Enhanced CTorrent dnh3.3.2): -e 0 makes it exit once the download is
# complete; it listens on 127.0.0.3:6881 and finds the seeder through the tracker only.
# It checks every piece by its SHA-1 as it arrives. Its `stopped` announce waits until
# 15 s after the `started` one (ctorrent's own spacing of tracker requests), so the case
# takes about 17 s though the download itself takes one.
case_pw_hybrid_to_ctorrent() {
    need_piecewise; need_tool ctorrent
    hybrid_tracker_seed
    mkdir -p "$T/down"
    local rc
    # -s names the torrent's top directory; -b keeps the bitfield file in $T.
    (cd "$T" && timeout -k 5 "$WAIT" ctorrent -e 0 -s "$T/down/$SRC_NAME" -b "$T/ctorrent.bf" \
        -i "${LEECHER%:*}" -p "${LEECHER##*:}" "$TORRENT" </dev/null >"$T/ctorrent.log" 2>&1)
    rc=$?
    [[ $rc == 124 ]] && fail "ctorrent did not finish within $WAIT s"
    [[ $rc == 0 ]] || fail "ctorrent exited $rc: $(tail -3 "$T/ctorrent.log" | tr '\n' ' ')"
    check_same_real
    stop_pw_seed
}
