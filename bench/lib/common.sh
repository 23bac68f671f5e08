# Helpers shared by the bench/e2e cases (sourced by bench/e2e after scripts/lib.sh and
# tests/interop/lib/opentracker.sh; runs nothing by itself).
#
# Every measurement appends one tab-separated line to $RESULTS (see record) that
# bench/lib/report.py summarises.

# cpu_ticks PID: user+sys clock ticks of a process so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

# ticks_to_s TICKS
ticks_to_s() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'; }

# wait_idle PID TIMEOUT_S: until the process used under 5% of a core for 0.5 s (a seeder
# that checks its data at start is ready only when that is over).
wait_idle() {
    local pid=$1 end=$((SECONDS + $2)) a b hz
    hz=$(getconf CLK_TCK)
    while ((SECONDS < end)); do
        a=$(cpu_ticks "$pid") || return 1
        sleep 0.5
        b=$(cpu_ticks "$pid") || return 1
        (((b - a) * 100 < hz * 5 / 2)) && return 0
    done
    return 1
}

# time_field FILE NAME: a field of /usr/bin/time -v output.
time_field() { awk -F': ' -v k="$2" '$1 ~ k { print $2 }' "$1" 2>/dev/null; }
# time_cpu FILE: user+sys seconds from /usr/bin/time -v output.
time_cpu() {
    awk -v u="$(time_field "$1" 'User time')" -v s="$(time_field "$1" 'System time')" \
        'BEGIN { printf "%.2f", u + s }'
}
# time_rss FILE: peak RSS in KiB from /usr/bin/time -v output (0 when unknown).
time_rss() { local r; r=$(time_field "$1" 'Maximum resident set size'); echo "${r:-0}"; }

# warm_memory MIB: touches MIB of fresh memory (capped at what is free, less 1 GiB) and
# lets it go, right before a clock starts. The machine these figures come from is a VM
# whose free memory is handed back to the host (free page reporting): the first use of
# a page that was free for a while costs a host fault and a zeroed page, charged as CPU
# time to the process that touches it. Pages freed a moment ago are used first and are
# not handed back yet, so after this both engines write into memory that is already
# there. Without it, whichever engine ran on long-free memory paid for it: piecewise's
# leechers' CPU doubled in the first run of swarm-1x8 (bench/RESULTS.md, "Memory the VM
# had handed back"). Callers ask for half as much again as the bytes the measurement
# writes: libtorrent's processes hold memory of their own besides the files they map.
warm_memory() {
    local avail
    avail=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) - 1024 }' /proc/meminfo)
    local mib=$(( $1 < avail ? $1 : avail ))
    ((mib > 0)) || return 0
    "$PW_PY" -c "import sys; b = bytearray(b'\x01') * (int(sys.argv[1]) << 20)" "$mib"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? b / t / 1e6 : 0) }'; }

# record RUN CASE LABEL OK WALL LCPU LRSS SCPU SRSS BYTES [EXTRA]: one result line.
# LCPU/LRSS describe the downloading side (summed CPU, largest RSS when there are
# several), SCPU/SRSS the serving side; RSS in KiB; BYTES is what the wall time moved.
record() {
    local IFS=$'\t'
    printf '%s\n' "$*" >>"$RESULTS"
}

# child_of PID: the first child of PID (the program under /usr/bin/time or timeout).
child_of() { pgrep -P "$1" | head -n 1; }

# peer_child TIMEPID: waits up to 10 s for the program /usr/bin/time started.
peer_child() {
    local c=""
    wait_until 10 pgrep -P "$1" >/dev/null
    c=$(child_of "$1")
    echo "$c"
}

# same_tree A B: the payloads match (a file or a directory tree).
same_tree() {
    if [[ -d $1 ]]; then diff -rq "$1" "$2" >/dev/null 2>&1; else cmp -s "$1" "$2"; fi
}

# seeder_cmd KIND ADDR DIR TORRENT RESUMEDIR: command line of a seeder.
# BENCH_ENC picks the payload encryption of both sides: "plain" (piecewise
# --encryption disable, libtorrent --plaintext-only) or "rc4" (piecewise --encryption
# require, libtorrent --encrypt: MSE with RC4 forced), so that both engines always move
# the same bytes. Plain unless a case says otherwise; BENCH_ENC=default in the
# environment passes neither flag (each engine's own default: piecewise picks RC4 when
# both sides allow it, libtorrent plaintext after an encrypted handshake).
BENCH_ENC=${BENCH_ENC:-plain}
enc_flags() {   # enc_flags KIND
    case $1-$BENCH_ENC in
        pw-plain) echo --encryption disable ;;
        pw-rc4) echo --encryption require ;;
        lt-plain) echo --plaintext-only ;;
        lt-rc4) echo --encrypt ;;
    esac
}

# BENCH_TRANSPORT=utp: uTP only on both sides (piecewise --no-tcp, libtorrent --utp-only);
# otherwise each engine's TCP (the bench's libtorrent has uTP off).
BENCH_TRANSPORT=${BENCH_TRANSPORT:-tcp}
transport_flags() {   # transport_flags KIND
    case $1-$BENCH_TRANSPORT in
        pw-utp) echo --no-tcp ;;
        lt-utp) echo --utp-only ;;
    esac
}

# udp_bound HOST PORT: a UDP socket is bound there (a uTP-only peer has no TCP listener).
udp_bound() {
    ss -Hlun "sport = :$2" 2>/dev/null | awk '{ print $4 }' | grep -qE "^(\\[?::\\]?|0\\.0\\.0\\.0|\\*|$1)(%[^:]*)?:$2\$"
}

# BENCH_SUPER_SEED=1: both engines' seeders super-seed (BEP 16; bench/e2e --super-seed).
seeder_cmd() {
    case $1 in
        pw) echo "$PW_BIN" seed --no-dht --quiet --listen "$2" -d "$3" --resume-dir "$5" $(enc_flags pw) $(transport_flags pw) ${BENCH_SUPER_SEED:+--super-seed} "$4" ;;
        lt) echo "$PW_PY" "$LT_PEER" seed "$4" --dir "$3" --listen "$2" --quiet --timeout 3600 $(enc_flags lt) $(transport_flags lt) ${BENCH_SUPER_SEED:+--super-seed} ;;
    esac
}

# leecher_cmd KIND ADDR DIR TORRENT RESUMEDIR: command line of a leecher that exits once
# it has every piece.
leecher_cmd() {
    case $1 in
        pw) echo "$PW_BIN" get --no-dht -o "$3" --listen "$2" --no-seed --quiet --resume-dir "$5" $(enc_flags pw) $(transport_flags pw) ${BENCH_TIMING:+--timing} "$4" ;;
        lt) echo "$PW_PY" "$LT_PEER" get "$4" --dir "$3" --listen "$2" --quiet --timeout "$LIMIT" $(enc_flags lt) $(transport_flags lt) ;;
    esac
}

# start_seeder KIND ADDR DIR TORRENT RESUMEDIR LOG: starts it under /usr/bin/time -v
# (report in LOG.time); sets SEED_TPID (the time process) and SEED_PID (the seeder).
start_seeder() {
    local kind=$1 addr=$2 dir=$3 torrent=$4 resume=$5 logf=$6
    mkdir -p "$resume"
    # shellcheck disable=SC2046
    spawn "$logf" /usr/bin/time -v -o "$logf.time" $(seeder_cmd "$kind" "$addr" "$dir" "$torrent" "$resume")
    SEED_TPID=$SPAWNED
    SEED_PID=$(peer_child "$SEED_TPID")
}

# seeder_ready PID ADDR LOG NAME: listening, its start-up check over (idle), and known
# to the tracker. Dies with the log otherwise.
seeder_ready() {
    local pid=$1 addr=$2 logf=$3 name=$4
    local probe=port_listening
    [[ $BENCH_TRANSPORT == utp ]] && probe=udp_bound
    if [[ -z $pid ]] || ! wait_until 60 "$probe" "${addr%:*}" "${addr#*:}" ||
        ! wait_idle "$pid" 180 ||
        ! wait_until 30 tracker_knows "$addr"; then
        show_log "$name" "$logf"
        die "$name: the seeder did not get ready"
    fi
}

# tracker_knows ADDR: opentracker lists ADDR (ip:port) for $IH. The list is read whole
# before it is searched (ot_wait_peer pipes it into grep -q, which can close the pipe
# while the lister is still printing a long list).
tracker_knows() {
    local peers
    peers=$(ot_peers "$TRACKER_HOST" "$TRACKER_PORT" "$IH") || return 1
    grep -qx "$1" <<<"$peers"
}

# stop_seeder TPID PID: SIGTERM to the seeder, then waits for /usr/bin/time to write.
stop_seeder() {
    kill -TERM "$2" 2>/dev/null
    wait_pid_exit "$1" 15 >/dev/null || stop_pid "$1" 1
}
