#!/usr/bin/env bash
# Live BEP 7 test (a peer announces from each of its listen addresses): runs the
# Ipv6.Bep7Live* tests of swarm_tests inside fresh network and mount namespaces, where
# /etc/hosts (bind-mounted over, inside the mount namespace only) gives the tracker name
# "dual.tracker.test" both 127.0.0.1 and ::1. Every packet stays on the namespace's lo.
#
#   tests/interop/bep7_netns_test.sh [SWARM_TESTS]    (default build/swarm_tests; needs root)
#
# Builds nothing. Exit status 0 when every Bep7Live test passed, non-zero otherwise
# (including when none ran or one was skipped); the run is bounded by
# $PW_BEP7_TIMEOUT seconds (default 120).
set -uo pipefail
bin=${1:-build/swarm_tests}
limit=${PW_BEP7_TIMEOUT:-120}

[[ -x $bin ]] || { echo "error: $bin is not an executable (build swarm_tests first)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "error: needs root (unshare --net --mount)" >&2; exit 2; }
bin=$(realpath "$bin")
hosts=$(mktemp /tmp/pw-bep7-hosts.XXXXXX)
trap 'rm -f "$hosts"' EXIT
printf '127.0.0.1 localhost\n127.0.0.1 dual.tracker.test\n::1 dual.tracker.test\n' >"$hosts"

out=$(timeout -k 5 "$limit" unshare --net --mount --pid --fork --mount-proc --kill-child bash -c '
    set -e
    ip link set lo up
    mount --bind "$2" /etc/hosts
    PW_NETNS=1 exec "$1" --gtest_filter="Ipv6.Bep7Live*" --gtest_color=no
' bep7-netns "$bin" "$hosts" 2>&1)
rc=$?
printf '%s\n' "$out"
if ((rc == 124 || rc == 137)); then
    echo "bep7_netns_test: FAIL (timeout ${limit}s)"
    exit 1
fi
if ((rc != 0)); then
    echo "bep7_netns_test: FAIL (exit $rc)"
    exit 1
fi
if ! grep -Eq '^\[  PASSED  \] [1-9][0-9]* test' <<<"$out" || grep -q '^\[  SKIPPED \]' <<<"$out"; then
    echo "bep7_netns_test: FAIL (no Bep7Live test ran, or one was skipped)"
    exit 1
fi
echo "bep7_netns_test: PASS"
