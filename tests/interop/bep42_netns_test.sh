#!/usr/bin/env bash
# Live BEP 42 test (DHT security extension): runs the Bep42Live gtest suite of unit_tests
# inside a fresh network namespace that has only loopback, with 198.51.100.0/24
# (TEST-NET-2, RFC 5737) on lo, so that DHT nodes have addresses that are not exempt
# from BEP 42's id check while every datagram stays inside the namespace.
#
#   tests/interop/bep42_netns_test.sh [UNIT_TESTS]    (default build/unit_tests; needs root)
#
# Builds nothing. Exit status 0 when every Bep42Live test passed, non-zero otherwise
# (including when none ran or one was skipped); the run is bounded by
# $PW_BEP42_TIMEOUT seconds (default 60).
set -uo pipefail
bin=${1:-build/unit_tests}
limit=${PW_BEP42_TIMEOUT:-60}

[[ -x $bin ]] || { echo "error: $bin is not an executable (build unit_tests first)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "error: needs root (unshare --net)" >&2; exit 2; }
bin=$(realpath "$bin")

out=$(timeout -k 5 "$limit" unshare --net --pid --fork --mount-proc --kill-child bash -c '
    set -e
    ip link set lo up
    ip addr add 198.51.100.1/24 dev lo
    exec "$1" --gtest_filter="Bep42Live*" --gtest_color=no
' bep42-netns "$bin" 2>&1)
rc=$?
printf '%s\n' "$out"
if ((rc == 124 || rc == 137)); then
    echo "bep42_netns_test: FAIL (timeout ${limit}s)"
    exit 1
fi
if ((rc != 0)); then
    echo "bep42_netns_test: FAIL (exit $rc)"
    exit 1
fi
if ! grep -Eq '^\[  PASSED  \] [1-9][0-9]* test' <<<"$out" || grep -q '^\[  SKIPPED \]' <<<"$out"; then
    echo "bep42_netns_test: FAIL (no Bep42Live test ran, or one was skipped)"
    exit 1
fi
echo "bep42_netns_test: PASS"
