# bench/e2e case "recheck": a full check of the single-file payload already on disk.
#   pw     piecewise verify (storage::check_pieces on all cores)
#   lt     libtorrent: add_torrent with the data in place, no resume data, timed until
#          torrent_checked_alert (tests/interop/lt_peer.py check), its default settings
#          (hashing_threads 1 in 2.0.8)
#   lt-2t  the same with hashing_threads 2 (one per core of this machine)
# Each reports its own check time (piecewise's "in S s", lt_peer's "in S s"); CPU and
# RSS are the whole process's from /usr/bin/time -v (for lt they include starting Python
# and libtorrent). "warm": the file was just read, so it is in the page cache; "cold":
# after `echo 3 > /proc/sys/vm/drop_caches`, only where that is allowed and the payload
# is not on tmpfs (tmpfs pages are never dropped: /dev/shm has no cold case).
# The SHA-1 rate of the machine comes from `openssl speed -evp sha1 -bytes 1048576`
# on one core and with -multi 2, measured in the same run (case "sha1").

RECHECK_KINDS=(pw lt lt-2t)

# cold_note: empty when cold checks can run here, else why not.
cold_note() {
    if [[ $(stat -f -c %T "$W" 2>/dev/null) == tmpfs ]]; then
        echo "payload on tmpfs ($BENCH_TMP): its pages cannot be dropped, no cold case"
    elif ! { sync && echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
        echo "cannot write /proc/sys/vm/drop_caches here: no cold case"
    fi
}

check_cmd() {
    case $1 in
        pw) echo "$PW_BIN" verify --quiet -d "$SRC_DIR" "$TORRENT" ;;
        lt) echo "$PW_PY" "$LT_PEER" check "$TORRENT" --dir "$SRC_DIR" --timeout "$LIMIT" ;;
        lt-2t) echo "$PW_PY" "$LT_PEER" check "$TORRENT" --dir "$SRC_DIR" --timeout "$LIMIT" \
                   --hashing-threads 2 ;;
    esac
}

# measure_recheck RUN warm|cold KIND: records case recheck-warm / recheck-cold.
measure_recheck() {
    local run=$1 mode=$2 kind=$3 tag=recheck-$2-$3-$1
    if [[ $mode == cold ]]; then
        sync
        echo 3 >/proc/sys/vm/drop_caches || die "drop_caches failed"
    else
        cat "$SRC_DIR/$NAME" >/dev/null
    fi
    local rc ok=ok secs
    # shellcheck disable=SC2046
    timeout -k 5 "$LIMIT" /usr/bin/time -v -o "$W/check.time" $(check_cmd "$kind") \
        >"$W/$tag.log" 2>&1
    rc=$?
    secs=$(sed -n 's/.* in \([0-9.]*\) s.*/\1/p' "$W/$tag.log" | tail -n 1)
    if ((rc != 0)) || [[ -z $secs ]]; then
        ok="exit$rc"; secs=0; show_log "$tag" "$W/$tag.log" 20
    fi
    record "$run" "recheck-$mode" "$kind" "$ok" "$secs" "$(time_cpu "$W/check.time")" \
        "$(time_rss "$W/check.time")" 0 0 "$BYTES"
    log "run $run recheck $mode $kind: $ok, ${secs} s," \
        "$(awk -v b="$BYTES" -v t="$secs" 'BEGIN { printf "%.2f", (t > 0 ? b / t / 1e9 : 0) }') GB/s," \
        "cpu $(time_cpu "$W/check.time") s"
}

# measure_sha1 RUN: openssl's SHA-1 rate on 1 MiB buffers, one process and two
# (-multi 2); records case "sha1" with the rate in bytes/s as the last field.
measure_sha1() {
    local run=$1 n rate
    for n in 1 2; do
        local -a multi=()
        ((n > 1)) && multi=(-multi "$n")
        rate=$(openssl speed -evp sha1 -bytes 1048576 -seconds 3 "${multi[@]}" 2>/dev/null |
            awk '$1 == "sha1" || $1 == "SHA1" { v = $NF } END { sub(/k$/, "", v); printf "%.0f", v * 1000 }')
        [[ -n $rate && $rate != 0 ]] || die "openssl speed gave no SHA-1 rate"
        record "$run" sha1 "openssl-x$n" ok 0 0 0 0 0 0 "$rate"
        log "run $run sha1 x$n: $(awk -v r="$rate" 'BEGIN { printf "%.2f", r / 1e9 }') GB/s"
    done
}
