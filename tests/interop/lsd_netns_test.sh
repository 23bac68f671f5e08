#!/usr/bin/env bash
# Live Local Service Discovery tests (BEP 14), each in a fresh network namespace that has
# only loopback, with multicast enabled on lo, 239.0.0.0/8 routed to it and ff00::/8 routed
# to it as a "local" route, so no multicast datagram can leave the namespace. (IPv6 routes
# through lo other than local ones are reject routes on Linux; a local ff00::/8 route
# delivers the datagrams sent to a group back to the sockets that joined it.)
# - the LsdLive suite of unit_tests: two LocalDiscovery instances on 127.0.0.1 and
#   127.0.0.2 must find each other;
# - with DAEMON_TESTS given, NetworkToggles.LpdLive of daemon_tests: the daemon's
#   `lpd-enabled` turned on and off over RPC starts and stops its announces;
# - with PIECEWISE given, a transfer found by IPv6 LSD only: `piecewise seed` and
#   `piecewise get`, each listening on [::1] alone (so no IPv4 LSD), no tracker, no DHT,
#   no --peer; the download must complete byte-identical.
#
#   tests/interop/lsd_netns_test.sh [UNIT_TESTS [DAEMON_TESTS [PIECEWISE]]]
#       (default build/unit_tests; an empty DAEMON_TESTS skips that part; needs root)
#
# Builds nothing. Exit status 0 when every test passed, non-zero otherwise (including
# when none ran or one was skipped); each run is bounded by $PW_LSD_TIMEOUT seconds
# (default 60).
set -uo pipefail
unit=${1:-build/unit_tests}
daemon=${2:-}
piecewise=${3:-}
limit=${PW_LSD_TIMEOUT:-60}

[[ $(id -u) == 0 ]] || { echo "error: needs root (unshare --net)" >&2; exit 2; }

# live BIN FILTER: runs BIN's tests matching FILTER in a namespace of their own.
live() {
    local bin=$1 filter=$2 out rc
    [[ -x $bin ]] || { echo "lsd_netns_test: FAIL ($bin is not an executable; build it first)"; return 1; }
    bin=$(realpath "$bin")
    out=$(timeout -k 5 "$limit" unshare --net --pid --fork --mount-proc --kill-child bash -c '
        set -e
        ip link set lo up
        ip link set lo multicast on
        ip route add 239.0.0.0/8 dev lo
        ip -6 route add local ff00::/8 dev lo table local
        ip addr add 127.0.0.2/8 dev lo
        exec env PW_LSD_NETNS=1 "$1" --gtest_filter="$2" --gtest_color=no
    ' lsd-netns "$bin" "$filter" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    if ((rc == 124 || rc == 137)); then
        echo "lsd_netns_test: FAIL ($filter: timeout ${limit}s)"
        return 1
    fi
    if ((rc != 0)); then
        echo "lsd_netns_test: FAIL ($filter: exit $rc)"
        return 1
    fi
    # A filter matching nothing, or a test that skipped, passes gtest but not this check.
    if ! grep -Eq '^\[  PASSED  \] [1-9][0-9]* test' <<<"$out" || grep -q '^\[  SKIPPED \]' <<<"$out"; then
        echo "lsd_netns_test: FAIL (no $filter test ran, or one was skipped)"
        return 1
    fi
}

# transfer6 PIECEWISE: the IPv6 LSD transfer, in a namespace of its own.
transfer6() {
    local bin=$1 out rc
    [[ -x $bin ]] || { echo "lsd_netns_test: FAIL ($bin is not an executable; build it first)"; return 1; }
    bin=$(realpath "$bin")
    out=$(timeout -k 5 "$limit" unshare --net --pid --fork --mount-proc --kill-child bash -c '
        set -eu
        ip link set lo up
        ip link set lo multicast on
        ip -6 route add local ff00::/8 dev lo table local
        pw=$1
        T=$(mktemp -d)
        trap "rm -rf \"\$T\"" EXIT
        mkdir -p "$T/seed" "$T/down"
        head -c 3000000 /dev/urandom >"$T/seed/payload.bin"
        "$pw" create -o "$T/t.torrent" --piece-size 262144 "$T/seed/payload.bin" >/dev/null
        "$pw" seed -v --no-dht --lsd --listen "[::1]:6881" -d "$T/seed" "$T/t.torrent" >"$T/seed.log" 2>&1 &
        seeder=$!
        if ! "$pw" get -v --no-seed --no-dht --lsd --listen "[::1]:6882" -o "$T/down" "$T/t.torrent" \
                >"$T/get.log" 2>&1; then
            echo "piecewise get failed"; tail -n 20 "$T/get.log" "$T/seed.log"; exit 1
        fi
        cmp "$T/seed/payload.bin" "$T/down/payload.bin" || { echo "payload differs"; exit 1; }
        # Both sides listen on [::1] only, and nothing but LSD tells either of the other,
        # so the bytes moved over IPv6. With -v each side names the peer that left: the
        # seeder sees the downloader go (bounded wait, 5 s).
        for _ in $(seq 50); do grep -q "^\[::1\]:[0-9]* (" "$T/seed.log" && break; sleep 0.1; done
        kill "$seeder"; wait "$seeder" || true
        grep -m1 "^\[::1\]:[0-9]* (" "$T/seed.log" && grep -m1 "^done: .* 2.9 MiB uploaded" "$T/seed.log" ||
            { echo "the seed log names no IPv6 peer or no upload"; tail -n 20 "$T/seed.log"; exit 1; }
        echo "ipv6 lsd transfer: complete"
    ' lsd-netns "$bin" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    if ((rc == 124 || rc == 137)); then
        echo "lsd_netns_test: FAIL (IPv6 LSD transfer: timeout ${limit}s)"
        return 1
    fi
    if ((rc != 0)) || ! grep -q '^ipv6 lsd transfer: complete$' <<<"$out"; then
        echo "lsd_netns_test: FAIL (IPv6 LSD transfer: exit $rc)"
        return 1
    fi
}

rc=0
live "$unit" "LsdLive*" || rc=1
if [[ -n $daemon ]]; then live "$daemon" "NetworkToggles.LpdLive" || rc=1; fi
if [[ -n $piecewise ]]; then transfer6 "$piecewise" || rc=1; fi
((rc == 0)) && echo "lsd_netns_test: PASS"
exit $rc
