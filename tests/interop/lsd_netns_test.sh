#!/usr/bin/env bash
# Live Local Service Discovery test (BEP 14): runs the LsdLive gtest suite of unit_tests
# inside a fresh network namespace that has only loopback, with multicast enabled on lo
# and 239.0.0.0/8 routed to it, so no multicast datagram can leave the namespace. Two
# LocalDiscovery instances on 127.0.0.1 and 127.0.0.2 must find each other there.
#
#   tests/interop/lsd_netns_test.sh [UNIT_TESTS]    (default build/unit_tests; needs root)
#
# Builds nothing. Exit status 0 when every LsdLive test passed, non-zero otherwise
# (including when none ran or one was skipped); the whole run is bounded by
# $PW_LSD_TIMEOUT seconds (default 60).
set -uo pipefail
bin=${1:-build/unit_tests}
limit=${PW_LSD_TIMEOUT:-60}

[[ -x $bin ]] || { echo "error: $bin is not an executable (build unit_tests first)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "error: needs root (unshare --net)" >&2; exit 2; }
bin=$(realpath "$bin")

out=$(timeout -k 5 "$limit" unshare --net --pid --fork --mount-proc --kill-child bash -c '
    set -e
    ip link set lo up
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo
    ip addr add 127.0.0.2/8 dev lo
    exec env PW_LSD_NETNS=1 "$1" --gtest_filter="LsdLive*" --gtest_color=no
' lsd-netns "$bin" 2>&1)
rc=$?
printf '%s\n' "$out"
if ((rc == 124 || rc == 137)); then
    echo "lsd_netns_test: FAIL (timeout ${limit}s)"
    exit 1
fi
if ((rc != 0)); then
    echo "lsd_netns_test: FAIL (exit $rc)"
    exit 1
fi
# A filter matching nothing, or a test that skipped, passes gtest but not this check.
if ! grep -Eq '^\[  PASSED  \] [1-9][0-9]* test' <<<"$out" || grep -q '^\[  SKIPPED \]' <<<"$out"; then
    echo "lsd_netns_test: FAIL (no LsdLive test ran, or one was skipped)"
    exit 1
fi
echo "lsd_netns_test: PASS"
