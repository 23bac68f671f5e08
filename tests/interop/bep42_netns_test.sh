#!/usr/bin/env bash
# Live BEP 42 tests (DHT security extension): the Bep42Live gtest suite of unit_tests and,
# with SWARM_TESTS given, the Bep42LiveSession suite of swarm_tests (Settings::
# dht_enforce_node_id, `--no-dht-enforce-node-id`), each inside a fresh network namespace
# that has only loopback, with 198.51.100.0/24 (TEST-NET-2, RFC 5737) on lo, so that DHT
# nodes have addresses that are not exempt from BEP 42's id check while every datagram
# stays inside the namespace.
#
#   tests/interop/bep42_netns_test.sh [UNIT_TESTS [SWARM_TESTS]]
#       (default build/unit_tests; needs root)
#
# Builds nothing. Exit status 0 when every test passed, non-zero otherwise (including when
# none ran or one was skipped); each run is bounded by $PW_BEP42_TIMEOUT seconds
# (default 60).
set -uo pipefail
bin=${1:-build/unit_tests}
swarm=${2:-}
limit=${PW_BEP42_TIMEOUT:-60}

[[ $(id -u) == 0 ]] || { echo "error: needs root (unshare --net)" >&2; exit 2; }

# live BIN FILTER: runs BIN's tests matching FILTER in a namespace of its own.
live() {
    local bin=$1 filter=$2 out rc
    [[ -x $bin ]] || { echo "bep42_netns_test: FAIL ($bin is not an executable; build it first)"; return 1; }
    bin=$(realpath "$bin")
    out=$(timeout -k 5 "$limit" unshare --net --pid --fork --mount-proc --kill-child bash -c '
        set -e
        ip link set lo up
        ip addr add 198.51.100.1/24 dev lo
        exec "$1" --gtest_filter="$2" --gtest_color=no
    ' bep42-netns "$bin" "$filter" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    if ((rc == 124 || rc == 137)); then
        echo "bep42_netns_test: FAIL ($filter: timeout ${limit}s)"
        return 1
    fi
    if ((rc != 0)); then
        echo "bep42_netns_test: FAIL ($filter: exit $rc)"
        return 1
    fi
    if ! grep -Eq '^\[  PASSED  \] [1-9][0-9]* test' <<<"$out" || grep -q '^\[  SKIPPED \]' <<<"$out"; then
        echo "bep42_netns_test: FAIL (no $filter test ran, or one was skipped)"
        return 1
    fi
}

rc=0
live "$bin" "Bep42Live.*" || rc=1
if [[ -n $swarm ]]; then live "$swarm" "Bep42LiveSession.*" || rc=1; fi
((rc == 0)) && echo "bep42_netns_test: PASS"
exit $rc
