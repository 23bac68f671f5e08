# Interop cases: verify, full disks, files changed while seeding, kill -9 and resume,
# connection floods.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

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

# Connection flood (issue 14): tests/interop/flood_test.sh scaled to fit the harness
# (3,000 connections from 3,000 addresses, half handshaking and stalling, half silent,
# while `piecewise get` fetches 64 MiB; the flood lasts until the leecher is done, at
# most 60 s): the leecher finishes under the flood, byte-identical, and the seeder stays
# within its descriptor cap. About 10 s.
case_flood() {
    need_piecewise
    PW_FLOOD_INSIDE=1 PW_FLOOD_MIB=64 PW_FLOOD_SECONDS=60 \
        timeout -k 5 90 bash "$HERE/flood_test.sh" "$PW_BIN" || die "flood_test failed"
}

# The same over uTP (BEP 29): `flood.py --utp` opens the 3,000 connections as uTP ones
# (half send the handshake in one DATA packet and then acknowledge nothing, half only
# SYN); the leecher is `piecewise get --no-tcp` and starts after 20 s of flood, when the
# seeder's uTP table would be full of evicted connections waiting for FINs never
# acknowledged. It must finish within 12 s. About 30 s.
case_flood_utp() {
    need_piecewise
    PW_FLOOD_INSIDE=1 PW_FLOOD_UTP=1 PW_FLOOD_MIB=64 PW_FLOOD_SECONDS=60 PW_FLOOD_WARMUP=20 \
        PW_FLOOD_MAX_S=12 timeout -k 5 90 bash "$HERE/flood_test.sh" "$PW_BIN" ||
        die "flood_test (uTP) failed"
}
