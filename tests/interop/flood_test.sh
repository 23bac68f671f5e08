#!/usr/bin/env bash
# Connection flood (issue 14): `piecewise seed` on 127.0.0.2 is flooded with 3,000 TCP
# connections from 3,000 addresses 127.1.x.y (tests/interop/flood.py: half send a valid
# handshake and go silent, half send nothing; closed ones reconnect after 0.5 s) for up
# to 60 s, while an honest `piecewise get --no-seed` downloads the payload; the flood is
# stopped once the leecher is done. Inside a fresh network namespace with only loopback.
#
#   tests/interop/flood_test.sh [PIECEWISE]    (default build/piecewise; needs root)
#
# Checks: the leecher under the flood finishes while the flood is still on, byte-identical;
# the seeder's open descriptors (sampled from /proc/PID/fd every 50 ms) never exceed
# its connection cap (--max-connections, default 500) plus 64; the seeder exits 0 on
# SIGTERM. Prints the leecher's time without and with the flood, the seeder's peak
# descriptors and peak RSS, and the flood's own summary. Bounded by $PW_FLOOD_TIMEOUT
# seconds (default 90). Environment: PW_FLOOD_MIB (payload, default 256), PW_FLOOD_COUNT
# (connections, default 3000), PW_FLOOD_SECONDS (the longest flood, default 60; the
# leecher has 40 s), PW_FLOOD_MAX_CONN (the
# seeder's --max-connections, default 500), PW_FLOOD_WARMUP (seconds of flood before the
# leecher starts, default 3), PW_FLOOD_MAX_S (fail when the leecher under the flood takes
# longer; default: it has 40 s), PW_FLOOD_LEECHER=lt (the honest leecher is
# libtorrent, tests/interop/lt_peer.py, instead of `piecewise get`), PW_FLOOD_UTP=1 (the
# flood is uTP connections, `flood.py --utp`, and the leecher uses uTP only: both
# download over uTP, the seeder accepts both).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-build/piecewise}
limit=${PW_FLOOD_TIMEOUT:-90}

if [[ ${PW_FLOOD_INSIDE:-} != 1 ]]; then
    [[ -x $bin ]] || { echo "error: $bin is not an executable (build piecewise_cli first)" >&2; exit 2; }
    [[ $(id -u) == 0 ]] || { echo "error: needs root (unshare --net)" >&2; exit 2; }
    bin=$(realpath "$bin")
    timeout -k 5 "$limit" unshare --net --pid --fork --mount-proc --kill-child \
        env PW_FLOOD_INSIDE=1 bash "$here/flood_test.sh" "$bin"
    rc=$?
    if ((rc == 124 || rc == 137)); then echo "flood_test: FAIL (timeout ${limit}s)"; exit 1; fi
    exit $rc
fi

# ---- inside the namespace ----
ip link set lo up
mib=${PW_FLOOD_MIB:-256}
count=${PW_FLOOD_COUNT:-3000}
seconds=${PW_FLOOD_SECONDS:-60}
maxconn=${PW_FLOOD_MAX_CONN:-500}
base=/dev/shm
[[ -w $base ]] || base=/tmp
work=$(mktemp -d "$base/pw-flood.XXXXXX")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
fail() {
    echo "flood_test: FAIL ($*)"
    [[ -n ${PW_FLOOD_KEEP:-} ]] && cp -r "$work"/*.log "$work"/flood.out "$PW_FLOOD_KEEP"/ 2>/dev/null
    exit 1
}

mkdir -p "$work/src"
head -c $((mib << 20)) /dev/urandom >"$work/src/payload.bin"
"$bin" create -o "$work/t.torrent" "$work/src/payload.bin" >/dev/null || fail "create"
ih=$("$bin" info --json "$work/t.torrent" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')

"$bin" seed -q --no-dht --listen 127.0.0.2:6881 --max-connections "$maxconn" \
    --resume-dir "$work/r-seed" -d "$work/src" "$work/t.torrent" &
seed_pid=$!

# Peak descriptors and RSS of the seeder, sampled until it exits.
(
    peak=0
    while [[ -d /proc/$seed_pid ]]; do
        n=$(ls /proc/$seed_pid/fd 2>/dev/null | wc -l)
        ((n > peak)) && { peak=$n; echo "$peak" >"$work/fd-peak"; }
        sleep 0.05
    done
) &

utp=${PW_FLOOD_UTP:-}
lt_utp=() pw_utp=() flood_utp=()
[[ -n $utp ]] && { lt_utp=(--utp-only); pw_utp=(--no-tcp); flood_utp=(--utp); }

get() {  # LISTEN_IP OUT_DIR: downloads, prints seconds taken
    local t0 t1
    t0=$(now)
    if [[ ${PW_FLOOD_LEECHER:-pw} == lt ]]; then
        /usr/bin/python3 "$here/lt_peer.py" get "$work/t.torrent" --dir "$2" --listen "$1:6881" \
            "${lt_utp[@]}" --peer 127.0.0.2:6881 --timeout 40 >"$work/get-$1.log" 2>&1 || return 1
    else
        timeout 40 "$bin" get -v --no-seed --no-dht "${pw_utp[@]}" --listen "$1:6881" \
            --peer 127.0.0.2:6881 --resume-dir "$work/r-$1" -o "$2" "$work/t.torrent" \
            >"$work/get-$1.log" 2>&1 || return 1
    fi
    t1=$(now)
    echo "$t1 - $t0" | bc
}

# The seeder checks its data first; the leecher waits for it by itself.
plain=$(get 127.0.0.3 "$work/plain") || fail "the leecher without the flood did not complete"
cmp -s "$work/src/payload.bin" "$work/plain/payload.bin" || fail "download without flood differs"
rm -rf "$work/plain"

/usr/bin/python3 "$here/flood.py" --target 127.0.0.2:6881 --info-hash "$ih" --count "$count" \
    --seconds "$seconds" "${flood_utp[@]}" >"$work/flood.out" 2>&1 &
flood_pid=$!
sleep "${PW_FLOOD_WARMUP:-3}"  # let the flood fill every slot first
flooded=$(get 127.0.0.4 "$work/flooded") || fail "the leecher under the flood did not complete"
kill -0 "$flood_pid" 2>/dev/null || fail "the flood ended before the leecher finished"
kill -TERM "$flood_pid"  # it prints its summary and exits
wait "$flood_pid"
cmp -s "$work/src/payload.bin" "$work/flooded/payload.bin" || fail "download under flood differs"
if [[ -n ${PW_FLOOD_MAX_S:-} ]] && (($(echo "$flooded > $PW_FLOOD_MAX_S" | bc))); then
    fail "the leecher under the flood took ${flooded} s (more than ${PW_FLOOD_MAX_S} s)"
fi
fds=$(cat "$work/fd-peak")
rss=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$seed_pid/status)
kill -TERM "$seed_pid"
wait "$seed_pid"
seed_rc=$?

echo "payload ${mib} MiB${utp:+ over uTP}; leecher without flood: ${plain} s; under a flood of ${count}${utp:+ uTP} connections: ${flooded} s"
echo "seeder: peak ${fds} open descriptors (--max-connections ${maxconn}), peak RSS ${rss}"
cat "$work/flood.out"
((fds <= maxconn + 64)) || fail "the seeder held $fds descriptors"
((seed_rc == 0)) || fail "seed exited $seed_rc on SIGTERM"
[[ -n ${PW_FLOOD_KEEP:-} ]] && cp -r "$work"/*.log "$work"/flood.out "$PW_FLOOD_KEEP"/ 2>/dev/null
echo "flood_test: PASS"
