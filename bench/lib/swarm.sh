# bench/e2e cases "swarm-1x8" (one seeder, eight leechers started together) and
# "swarm-8x1" (eight seeders, one leecher), each for pw (piecewise only) and lt
# (libtorrent only), on the single-file payload with the tracker.
#
# Addresses: the lone seeder or leecher at 127.0.0.2:6881 / 127.0.0.3:6881, the eight at
# 127.0.0.10-17:6881 (each peer binds its outgoing connections and announces to its own
# address). Leechers exit as soon as they have every piece (piecewise get --no-seed,
# lt_peer.py get), so a finished leecher stops serving the others. Seeders are ready
# (start-up check over, announced) before the clock starts; their CPU is counted from
# /proc over the transfer only, so the start-up check is not in it. Recorded per run:
# wall time until the last leecher is done, summed leecher CPU (whole process, from
# /usr/bin/time), the largest leecher peak RSS, summed seeder CPU, largest seeder RSS.

SWARM_N=8

swarm_addr() { echo "127.0.0.$((10 + $1)):6881"; }

# measure_swarm RUN SHAPE KIND: SHAPE 1x8 or 8x1, KIND pw or lt; records case swarm-SHAPE.
measure_swarm() {
    local run=$1 shape=$2 kind=$3 tag=swarm-$2-$3-$1 i
    rm -rf "$W/dst" "$W/ot"; mkdir -p "$W/dst"
    ot_start "$W/ot" "$TRACKER_HOST" "$TRACKER_PORT" "$IH"

    # Seeders.
    local -a stpids=() spids=() saddrs=() slogs=()
    if [[ $shape == 1x8 ]]; then
        saddrs=("$SEEDER")
    else
        for ((i = 0; i < SWARM_N; i++)); do saddrs+=("$(swarm_addr "$i")"); done
    fi
    for i in "${!saddrs[@]}"; do
        slogs+=("$W/seed-$tag-$i.log")
        start_seeder "$kind" "${saddrs[i]}" "$SRC_DIR" "$TORRENT" "$W/state/swarm-seed-$i" "${slogs[i]}"
        stpids+=("$SEED_TPID"); spids+=("$SEED_PID")
    done
    local -a ticks0=()
    for i in "${!saddrs[@]}"; do
        seeder_ready "${spids[i]}" "${saddrs[i]}" "${slogs[i]}" "seeder $i of $tag"
    done
    for i in "${!saddrs[@]}"; do ticks0+=("$(cpu_ticks "${spids[i]}")"); done

    # Leechers, started together.
    local -a laddrs=() lpids=()
    if [[ $shape == 1x8 ]]; then
        for ((i = 0; i < SWARM_N; i++)); do laddrs+=("$(swarm_addr "$i")"); done
    else
        laddrs=("$LEECHER")
    fi
    local t0 t1
    warm_memory $(((BYTES * 3 >> 21) * ${#laddrs[@]}))
    t0=$(now)
    for i in "${!laddrs[@]}"; do
        # shellcheck disable=SC2046
        spawn "$W/leech-$tag-$i.log" timeout -k 5 "$LIMIT" /usr/bin/time -v -o "$W/leech-$i.time" \
            $(leecher_cmd "$kind" "${laddrs[i]}" "$W/dst/$i" "$TORRENT" "$W/state/swarm-leech-$i")
        lpids+=("$SPAWNED")
    done
    local ok=ok rc
    for i in "${!lpids[@]}"; do
        wait_pid_exit "${lpids[i]}" $((LIMIT + 15))
        rc=$?
        if ((rc != 0)) && [[ $ok == ok ]]; then
            ok="leecher$i-exit$rc"; show_log "leecher $i of $tag" "$W/leech-$tag-$i.log" 20
        fi
    done
    t1=$(now)

    local sticks=0 srss=0 r
    for i in "${!saddrs[@]}"; do
        r=$(cpu_ticks "${spids[i]}")
        sticks=$((sticks + ${r:-${ticks0[i]}} - ${ticks0[i]}))
    done
    for i in "${!saddrs[@]}"; do stop_seeder "${stpids[i]}" "${spids[i]}"; done
    for i in "${!saddrs[@]}"; do
        r=$(time_rss "${slogs[i]}.time")
        ((r > srss)) && srss=$r
    done
    stop_pid "$OT_PID" 2

    local lcpu=0 lrss=0 c
    for i in "${!laddrs[@]}"; do
        c=$(time_cpu "$W/leech-$i.time")
        lcpu=$(awk -v a="$lcpu" -v b="$c" 'BEGIN { printf "%.2f", a + b }')
        r=$(time_rss "$W/leech-$i.time")
        ((r > lrss)) && lrss=$r
        if [[ $ok == ok ]] && ! same_tree "$SRC_DIR/$NAME" "$W/dst/$i/$NAME"; then
            ok="leecher$i-corrupt"
        fi
    done
    local wall bytes=$((BYTES * ${#laddrs[@]}))
    wall=$(elapsed "$t0" "$t1")
    record "$run" "swarm-$shape" "$kind" "$ok" "$wall" "$lcpu" "$lrss" \
        "$(ticks_to_s "$sticks")" "$srss" "$bytes"
    log "run $run swarm-$shape $kind: $ok, ${wall} s, $(mbps "$bytes" "$wall") MB/s in total," \
        "leecher cpu ${lcpu} s"
    rm -rf "$W/dst" "$W"/state/swarm-leech-*
}
