# Interop cases: downloads and uploads between piecewise and libtorrent, Transmission and
# aria2 (TCP and uTP, trackers and direct peers, file selection).
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# libtorrent seeds, piecewise downloads.
case_lt_to_pw_tracker() {
    need_piecewise
    multi_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced; pw_get; check_same
}

# get --timing: every phase is printed once, in order, in seconds since the start.
case_lt_to_pw_timing() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; lt_seed; seeder_announced; pw_get --timing; check_same
    local got
    got=$(awk '$1 == "timing:" { print $2 }' "$T/pw-get.log" | tr '\n' ' ')
    [[ $got == "session checked announced first-block complete stopped exit " ]] ||
        fail "timing phases: '$got'"
    awk '$1 == "timing:" { if ($3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $3 + 0 < last) bad = 1; last = $3 + 0 }
         END { exit bad }' "$T/pw-get.log" || fail "timing values not increasing seconds"
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

# get --part-files: while they download, files are NAME.part (seen mid-download, the
# seeder held to about 4 s); they end byte-identical under their own names (diff -r would
# list a leftover .part).
case_lt_to_pw_part_files() {
    need_piecewise
    multi_payload "$LT_MIB"; pw_create
    lt_seed --upload-limit $((LT_MIB * 1048576 / 4))
    pw_get --peer "$SEEDER" --part-files &
    local get_pid=$! seen=
    for _ in $(seq 1 400); do
        seen=$(find "$T/down" -name '*.part' 2>/dev/null | head -1)
        [[ -n $seen ]] && break
        kill -0 "$get_pid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$get_pid" || fail "piecewise get --part-files failed: $(tail -3 "$T/pw-get.log")"
    [[ -n $seen ]] || fail "no NAME.part file seen while downloading"
    check_same
    echo "PASS: ${seen#"$T/down/"} while downloading"
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

# uTP only with Transmission (libutp): Transmission seeds with uTP on, and
# `piecewise get --no-tcp` learns it from the tracker and dials it over uTP.
case_tr_to_pw_utp() {
    need_piecewise
    single_payload "$TR_MIB"; mktorrent_for "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker; seed_dir_with_payload
    TR_UTP=true tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    tr_add "$TORRENT" "$T/seed"
    tr_wait_seeding "$(check_wait)" || fail "Transmission did not seed: $(tr_progress_line)"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    pw_get --no-tcp; check_same
}

# `piecewise seed --no-tcp` seeds, Transmission (uTP on) downloads: it announces first,
# the seeder's `started` announce returns it and the seeder dials it over uTP.
case_pw_to_tr_utp() {
    need_piecewise
    single_payload "$TR_MIB"; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    TR_UTP=true tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    PW_OPTS+=(--no-tcp)
    SEED_PROBE=udp_bound
    pw_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; stop_pw_seed
}

# uTP through a lossy link with libtorrent at the other end (issue 12): a UDP relay on
# 127.0.0.9 (tests/interop/lossy_relay.py: 25 ms each way plus up to 10 ms of jitter,
# which reorders, 1% loss, 1% duplicates) stands between the two, which dial the relay.
# Both directions; the download must be byte-identical.
lossy_relay() {   # lossy_relay TARGET_HOST:PORT: starts the relay on 127.0.0.9:7000
    spawn "$T/relay.log" "$PW_PY" "$HERE/lossy_relay.py" --listen 127.0.0.9:7000 --target "$1" \
        --seconds $((WAIT + 60))
    RELAY_PID=$SPAWNED
    wait_until 10 ss -Hlun "sport = :7000" | grep -q 127.0.0.9 || true
}

# stop_relay: stops it and checks that it carried the transfer and dropped some of it.
stop_relay() {
    stop_pid "$RELAY_PID" 5
    local line
    line=$(grep '^relay:' "$T/relay.log") || fail "the relay printed no summary"
    echo "$line"
    [[ $line =~ ^relay:\ ([0-9]+)\ forwarded,\ ([0-9]+)\ dropped ]] || fail "relay summary: $line"
    ((BASH_REMATCH[1] > 1000 && BASH_REMATCH[2] > 0)) || fail "the relay did not carry a lossy transfer: $line"
}

case_lt_to_pw_utp_lossy() {
    need_piecewise
    single_payload 4; pw_create
    lt_seed --utp-only
    lossy_relay "$SEEDER"
    pw_get --no-tcp --peer 127.0.0.9:7000; check_same
    stop_relay
}

case_pw_to_lt_utp_lossy() {
    need_piecewise
    single_payload 4; mktorrent_for "http://$TRACKER_HOST:9/announce"
    PW_OPTS+=(--no-tcp)
    SEED_PROBE=udp_bound
    pw_seed
    lossy_relay "$SEEDER"
    lt_get --utp-only --peer 127.0.0.9:7000; check_same; stop_pw_seed
    stop_relay
}

# Super-seeding (BEP 16): `piecewise seed --super-seed` feeds three libtorrent leechers
# that know each other. All finish with the right bytes, and the seeder uploads close to
# one copy: what the leechers downloaded minus what they uploaded (libtorrent's exact
# payload counts) must stay under SUPER_MAX_COPIES copies (an ordinary seed here uploads
# most of all three). SUPER_SEED_FLAG= (empty) runs the same case as an ordinary seed.
case_pw_super_seed_to_lt() {
    need_piecewise
    single_payload "$LT_MIB"; pw_create   # 256 KiB pieces
    PW_OPTS+=(${SUPER_SEED_FLAG---super-seed})
    pw_seed
    local leechers=(127.0.0.11:6881 127.0.0.12:6881 127.0.0.13:6881) pids=() i j
    for i in 0 1 2; do
        local peers=(--peer "$SEEDER")
        for ((j = 0; j < i; j++)); do peers+=(--peer "${leechers[j]}"); done
        mkdir -p "$T/down$i"
        spawn "$T/lt-get$i.log" "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/down$i" \
            --listen "${leechers[i]}" --timeout $((WAIT + 60)) --linger 600 --quiet "${peers[@]}"
        pids+=("$SPAWNED")
    done
    for i in 0 1 2; do
        wait_alive "${pids[i]}" "$WAIT" grep -q ': complete in ' "$T/lt-get$i.log" ||
            fail "libtorrent leecher $i did not complete within ${WAIT}s"
    done
    local down=0 up=0 line
    for i in 0 1 2; do
        stop_pid "${pids[i]}" 10 || fail "libtorrent leecher $i exited with an error"
        diff -q "$T/src/$SRC_NAME" "$T/down$i/$SRC_NAME" >/dev/null || fail "leecher $i: data differs"
        line=$(grep ': final ' "$T/lt-get$i.log") || fail "leecher $i printed no final line"
        [[ $line =~ uploaded\ ([0-9]+)\ downloaded\ ([0-9]+) ]] || fail "leecher $i: '$line'"
        up=$((up + BASH_REMATCH[1])); down=$((down + BASH_REMATCH[2]))
    done
    stop_pw_seed
    local size copies
    size=$(stat -c %s "$T/src/$SRC_NAME")
    copies=$(awk -v s=$((down - up)) -v n="$size" 'BEGIN { printf "%.2f", s / n }')
    echo "seeder uploaded $copies copies ($((down - up)) bytes) to 3 leechers; $(grep '^done:' "$T/pw-seed.log")"
    awk -v c="$copies" -v m="${SUPER_MAX_COPIES:-1.5}" 'BEGIN { exit !(c < m) }' ||
        fail "seeder uploaded $copies copies (limit ${SUPER_MAX_COPIES:-1.5})"
    echo "PASS: 3 leechers byte-identical, seeder uploaded $copies copies"
}

# Super-seeding to a lone Transmission leecher: with nobody else to pass a piece on to,
# each piece it gets must bring the next offer at once, or the download would stall.
# Transmission asks for a newly announced piece only after a delay of its own, so a lone
# leecher holds eight offers rather than two (two made it crawl at 0.5 MiB/s: 33 s for
# this case, against about 20 s with eight, most of it Transmission's start).
case_pw_super_seed_to_tr() {
    need_piecewise
    single_payload 8; pw_create -t "http://$TRACKER_HOST:$TRACKER_PORT/announce"
    tracker
    tr_start "$T/tr" "$TR_ADDR" "$TR_PORT" 9091
    mkdir -p "$T/down"; tr_add "$TORRENT" "$T/down"
    tracker_lists "$TR_ADDR:$TR_PORT" "Transmission"
    PW_OPTS+=(--super-seed)
    pw_seed
    tr_wait_complete "$WAIT" || fail "Transmission did not complete: $(tr_progress_line)"
    check_same; stop_pw_seed
}
