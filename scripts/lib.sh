# Shared shell helpers for scripts/test, scripts/demo, bench/e2e and tests/interop.
# Source it from bash; it defines functions and a few variables and runs nothing.
#
# Process bookkeeping: every background process a script starts goes through `spawn`,
# which records its PID; `cleanup_all` (installed by `install_cleanup`) kills exactly
# those PIDs, never processes found by name.

PW_ROOT=${PW_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PW_BIN=${PW_BIN:-$PW_ROOT/build/piecewise}
PW_PY=/usr/bin/python3
LT_PEER=$PW_ROOT/tests/interop/lt_peer.py

PW_PIDS=()
PW_TMPDIRS=()
PW_MOUNTS=()   # mount points to unmount before the temporary directories go

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# spawn LOGFILE CMD ARGS... : start CMD in the background, stdout+stderr to LOGFILE.
# The PID is left in $SPAWNED and recorded for cleanup.
spawn() {
    local out=$1; shift
    "$@" >"$out" 2>&1 &
    SPAWNED=$!
    PW_PIDS+=("$SPAWNED")
}

# stop_pid PID [GRACE_S]: SIGTERM, wait up to GRACE_S (default 5) s, then SIGKILL.
# Returns the process's exit status when it was a child of this shell.
stop_pid() {
    local pid=$1 grace=${2:-5} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

cleanup_all() {
    local pid d
    for pid in "${PW_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PW_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PW_PIDS=()
    for d in "${PW_MOUNTS[@]}"; do umount "$d" 2>/dev/null; done
    PW_MOUNTS=()
    if [[ -z ${PW_KEEP_TMP:-} ]]; then
        for d in "${PW_TMPDIRS[@]}"; do rm -rf -- "$d"; done
    else
        for d in "${PW_TMPDIRS[@]}"; do log "kept $d"; done
    fi
    PW_TMPDIRS=()
}

install_cleanup() {
    trap cleanup_all EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# make_tmpdir PREFIX: a fresh world-readable directory (opentracker chroots into one
# below it and drops privileges), removed by cleanup_all. Result in $TMPDIR_MADE.
make_tmpdir() {
    TMPDIR_MADE=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$TMPDIR_MADE"
    PW_TMPDIRS+=("$TMPDIR_MADE")
}

# wait_until TIMEOUT_S CMD...: run CMD every 0.2 s until it succeeds; 1 on timeout.
wait_until() {
    local limit=$1; shift
    local end=$((SECONDS + limit))
    while ((SECONDS < end)); do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}

# wait_alive PID TIMEOUT_S CMD...: like wait_until, but gives up as soon as process PID
# has exited (CMD gets one last try then). 0 when CMD succeeded, 1 on timeout, 2 when
# PID exited first.
wait_alive() {
    local pid=$1 limit=$2; shift 2
    local end=$((SECONDS + limit))
    while ((SECONDS < end)); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || { "$@" && return 0; return 2; }
        sleep 0.2
    done
    "$@" && return 0
    return 1
}

# port_open HOST PORT: something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# port_listening HOST PORT: a TCP socket listens there (asked of the kernel with ss, so
# no probe connection reaches the listener).
port_listening() {
    ss -Hltn "sport = :$2" 2>/dev/null | awk '{ print $4 }' | grep -qE "^(\\[?::\\]?|0\\.0\\.0\\.0|\\*|$1)(%[^:]*)?:$2\$"
}

# wait_pid_exit PID TIMEOUT_S: wait for a child to exit; its status, or 124 on timeout.
wait_pid_exit() {
    local pid=$1 limit=$2
    local end=$((SECONDS + limit))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < end)) || return 124
        sleep 0.2
    done
    wait "$pid"
}

# make_payload FILE MIB: random bytes.
make_payload() { head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"; }

# info_hash TORRENT: the v1 info-hash in hex, computed by libtorrent (so it does not
# depend on our own binary).
info_hash() { "$PW_PY" "$LT_PEER" infohash "$1"; }

# in_netns: true inside a namespace started by run_in_netns.
in_netns() { [[ -n ${PW_NETNS:-} ]]; }

# run_in_netns CMD...: run CMD in a fresh network+PID namespace with only loopback up.
# Every process started inside dies with it.
run_in_netns() {
    PW_NETNS=1 unshare --net --pid --fork --mount-proc --kill-child \
        bash -c 'ip link set lo up && exec "$@"' netns "$@"
}

have_piecewise() { [[ -x $PW_BIN ]]; }

# show_log NAME FILE [LINES]: print the tail of a log, indented, for failure reports.
show_log() {
    local lines=${3:-40}
    [[ -f $2 ]] || return 0
    printf -- '----- %s (%s, last %s lines) -----\n' "$1" "$2" "$lines"
    tail -n "$lines" "$2" | sed 's/^/  | /'
}

# human_mib BYTES
human_mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
