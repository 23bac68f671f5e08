#!/usr/bin/env bash
# Live Local Service Discovery tests (BEP 14), each in a fresh network namespace that has
# only loopback, with multicast enabled on lo, 239.0.0.0/8 routed to it and ff00::/8 routed
# to it as a "local" route, so no multicast datagram can leave the namespace. (IPv6 routes
# through lo other than local ones are reject routes on Linux; a local ff00::/8 route
# delivers the datagrams sent to a group back to the sockets that joined it.)
# - the LsdLive suite of unit_tests: two LocalDiscovery instances on 127.0.0.1 and
#   127.0.0.2 must find each other;
# - with DAEMON_TESTS given, NetworkToggles.LpdLive of daemon_tests: the daemon's
#   `lpd-enabled` turned on and off over RPC starts and stops its announces.
#
#   tests/interop/lsd_netns_test.sh [UNIT_TESTS [DAEMON_TESTS]]
#       (default build/unit_tests; needs root)
#
# Builds nothing. Exit status 0 when every test passed, non-zero otherwise (including
# when none ran or one was skipped); each run is bounded by $PW_LSD_TIMEOUT seconds
# (default 60).
set -uo pipefail
unit=${1:-build/unit_tests}
daemon=${2:-}
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

rc=0
live "$unit" "LsdLive*" || rc=1
if [[ -n $daemon ]]; then live "$daemon" "NetworkToggles.LpdLive" || rc=1; fi
((rc == 0)) && echo "lsd_netns_test: PASS"
exit $rc
