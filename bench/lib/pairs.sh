# bench/e2e cases "pairs": one seeder -> one leecher for each pair of pw-pw, lt-lt,
# lt-pw, pw-lt on the current payload set (see use_set in bench/e2e), and the ceiling:
# bench/ceiling/{sender,receiver} streaming the single file over one plain TCP
# connection (the receiver SHA-1s every 1 MiB and pwrites it).
#
# Seeder 127.0.0.2:6881, leecher 127.0.0.3:6881. Both sides run under /usr/bin/time -v;
# the seeder checks its data when it starts (counted in its CPU time) and the transfer
# starts only once that is over and the tracker knows it.

SEEDER=127.0.0.2:6881
LEECHER=127.0.0.3:6881

# measure_pair RUN PAIR: one transfer of the current set; records case $SET.
measure_pair() {
    local run=$1 pair=$2 s=${2%-*} l=${2#*-}
    local tag=$SET-$pair-$run
    # No resume data: every seeder checks its data at start, as libtorrent's does.
    rm -rf "$W/dst" "$W/ot" "$W/state/seed"; mkdir -p "$W/dst"
    ot_start "$W/ot" "$TRACKER_HOST" "$TRACKER_PORT" "$IH"
    start_seeder "$s" "$SEEDER" "$SRC_DIR" "$TORRENT" "$W/state/seed" "$W/seed-$tag.log"
    local tpid=$SEED_TPID spid=$SEED_PID
    seeder_ready "$spid" "$SEEDER" "$W/seed-$tag.log" "seeder $SET $pair"
    warm_memory $((BYTES * 3 >> 21))
    local t0 t1 rc
    t0=$(now)
    # shellcheck disable=SC2046
    timeout -k 5 "$LIMIT" /usr/bin/time -v -o "$W/leech.time" \
        $(leecher_cmd "$l" "$LEECHER" "$W/dst" "$TORRENT" "$W/state/leech") \
        >"$W/leech-$tag.log" 2>&1
    rc=$?
    t1=$(now)
    stop_seeder "$tpid" "$spid"
    stop_pid "$OT_PID" 2
    local ok=ok
    if ((rc != 0)); then
        ok="exit$rc"; show_log "leecher $SET $pair" "$W/leech-$tag.log" 20
    elif ! same_tree "$SRC_DIR/$NAME" "$W/dst/$NAME"; then
        ok=corrupt
    fi
    local wall cpu
    wall=$(elapsed "$t0" "$t1")
    cpu=$(time_cpu "$W/leech.time")
    # With BENCH_TIMING, piecewise's leecher printed its phases (get --timing): kept as
    # "phase=seconds,..." after the wall time, which counts from the process's start.
    local phases=""
    [[ -n ${BENCH_TIMING:-} ]] &&
        phases=$(awk '$1 == "timing:" { printf "%s%s=%s", n++ ? "," : "", $2, $3 }' "$W/leech-$tag.log")
    record "$run" "$SET" "$pair" "$ok" "$wall" "$cpu" "$(time_rss "$W/leech.time")" \
        "$(time_cpu "$W/seed-$tag.log.time")" "$(time_rss "$W/seed-$tag.log.time")" "$BYTES" "" "$phases"
    log "run $run $SET $pair: $ok, ${wall} s, $(mbps "$BYTES" "$wall") MB/s, leecher cpu ${cpu} s"
    rm -rf "$W/dst" "$W/state/leech"
}

# measure_ceiling RUN: the single file through bench/ceiling; records case "ceiling".
measure_ceiling() {
    local run=$1 single=$W/src/payload.bin
    rm -f "$W/ceiling.out"
    spawn "$W/receiver.log" /usr/bin/time -v -o "$W/leech.time" \
        "$CEIL_DIR/receiver" "$W/ceiling.out" "${LEECHER%:*}" 7000
    local tpid=$SPAWNED
    wait_until 10 port_listening "${LEECHER%:*}" 7000 || die "ceiling receiver did not listen"
    warm_memory $((BYTES * 3 >> 21))
    local t0 t1 ok=ok
    t0=$(now)
    /usr/bin/time -v -o "$W/seed.time" "$CEIL_DIR/sender" "$single" "${LEECHER%:*}" 7000 \
        >"$W/sender.log" 2>&1 || ok=sender-failed
    wait_pid_exit "$tpid" 60 || ok=receiver-failed
    t1=$(now)
    cmp -s "$single" "$W/ceiling.out" || ok=corrupt
    local wall
    wall=$(elapsed "$t0" "$t1")
    record "$run" ceiling ceiling "$ok" "$wall" "$(time_cpu "$W/leech.time")" \
        "$(time_rss "$W/leech.time")" "$(time_cpu "$W/seed.time")" "$(time_rss "$W/seed.time")" \
        "$BYTES"
    log "run $run ceiling: $ok, ${wall} s, $(mbps "$BYTES" "$wall") MB/s"
    rm -f "$W/ceiling.out"
}
