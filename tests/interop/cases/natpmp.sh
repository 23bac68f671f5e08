# Interop cases: port mapping by NAT-PMP (RFC 6886) and PCP (RFC 6887) against a fake
# gateway (tests/interop/fake_natpmp.py) on 127.0.0.1 inside the test's namespace.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

NATPMP_PORT=5351

# `piecewise seed --natpmp --natpmp-gateway 127.0.0.1:PORT` against a NAT-PMP-only gateway:
# its PCP request is answered "unsupported version", so it maps its TCP and UDP peer port
# (6881, from 127.0.0.2) by NAT-PMP, prints the external address and the mappings, and on
# SIGINT deletes both (lifetime 0) before it exits 0. Without --natpmp nothing reaches the
# gateway.
case_pw_natpmp() {
    need_piecewise
    single_payload 1; pw_create
    local glog=$T/gateway-requests.log
    spawn "$T/fake-natpmp.log" "$PW_PY" "$HERE/fake_natpmp.py" "$NATPMP_PORT" "$glog"
    wait_until 10 grep -q '^listening' "$glog" 2>/dev/null || fail "the fake gateway did not start"

    # Opt-in: a seed without --natpmp sends nothing to the gateway.
    seed_dir_with_payload
    spawn "$T/pw-plain.log" "$PW_BIN" seed "${PW_OPTS[@]}" --listen 127.0.0.3:6881 -d "$T/seed" --resume-dir "$T/resume-plain" \
        --natpmp-gateway "127.0.0.1:$NATPMP_PORT" "$TORRENT"
    local plain=$SPAWNED
    wait_until 30 grep -Eq "$PW_CHECKED_RE" "$T/pw-plain.log" || fail "the plain seed did not start"

    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_OPTS[@]}" --listen "$SEEDER" -d "$T/seed" \
        --natpmp --natpmp-gateway "127.0.0.1:$NATPMP_PORT" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_until 30 grep -q '^port mapping: UDP 6881 -> external 203.0.113.7:6881, lifetime 7200 s' "$T/pw-seed.log" ||
        fail "no UDP mapping line from piecewise"
    grep -q '^port mapping: external address 203.0.113.7' "$T/pw-seed.log" || fail "no external address line"
    grep -q '^port mapping: TCP 6881 -> external 203.0.113.7:6881, lifetime 7200 s' "$T/pw-seed.log" ||
        fail "no TCP mapping line"
    grep -q '^address from 127.0.0.2$' "$glog" || fail "the gateway saw no address request from 127.0.0.2"
    grep -q '^map TCP internal 6881 suggested 6881 lifetime 7200 from 127.0.0.2$' "$glog" ||
        fail "the gateway saw no TCP mapping of port 6881"
    grep -q '^map UDP internal 6881 suggested 6881 lifetime 7200 from 127.0.0.2$' "$glog" ||
        fail "the gateway saw no UDP mapping of port 6881"
    grep -q '^unsupported version 2 from 127.0.0.2$' "$glog" || fail "piecewise did not try PCP first"

    kill -INT "$SEED_PID"
    wait_pid_exit "$SEED_PID" 15
    local rc=$?
    [[ $rc == 124 ]] && fail "piecewise seed did not exit within 15 s of SIGINT"
    [[ $rc == 0 ]] || fail "piecewise seed exited $rc after SIGINT (expected 0)"
    grep -q '^map TCP internal 6881 suggested 0 lifetime 0 from 127.0.0.2$' "$glog" ||
        fail "the gateway saw no deletion of the TCP mapping"
    grep -q '^map UDP internal 6881 suggested 0 lifetime 0 from 127.0.0.2$' "$glog" ||
        fail "the gateway saw no deletion of the UDP mapping"
    grep -q '^port mapping: TCP 6881 removed' "$T/pw-seed.log" || fail "no removal line from piecewise"

    stop_pid "$plain" 10
    grep -q 'from 127.0.0.3' "$glog" && fail "a seed without --natpmp talked to the gateway"
    echo "PASS: TCP and UDP 6881 mapped through the fake gateway, deleted on SIGINT; none without --natpmp"
}

# The same against a gateway that speaks PCP: both ports are mapped by PCP MAP requests
# (no NAT-PMP request at all), with the source address as client address, the external
# address comes from the answers, and on SIGINT each mapping is deleted with lifetime 0
# and the nonce it was made with.
case_pw_pcp() {
    need_piecewise
    single_payload 1; pw_create
    local glog=$T/gateway-requests.log
    spawn "$T/fake-pcp.log" "$PW_PY" "$HERE/fake_natpmp.py" "$NATPMP_PORT" "$glog" --pcp
    wait_until 10 grep -q '^listening' "$glog" 2>/dev/null || fail "the fake gateway did not start"
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_OPTS[@]}" --listen "$SEEDER" -d "$T/seed" \
        --natpmp --natpmp-gateway "127.0.0.1:$NATPMP_PORT" "$TORRENT"
    SEED_PID=$SPAWNED
    wait_until 30 grep -q '^port mapping: UDP 6881 -> external 203.0.113.7:6881, lifetime 7200 s (PCP)$' "$T/pw-seed.log" ||
        fail "no UDP mapping line (PCP) from piecewise"
    grep -q '^port mapping: TCP 6881 -> external 203.0.113.7:6881, lifetime 7200 s (PCP)$' "$T/pw-seed.log" ||
        fail "no TCP mapping line (PCP)"
    grep -q '^port mapping: external address 203.0.113.7' "$T/pw-seed.log" || fail "no external address line"
    local proto nonce
    for proto in TCP UDP; do
        nonce=$(sed -n "s/^pcp map $proto internal 6881 suggested 6881 lifetime 7200 nonce \([0-9a-f]\{24\}\) client ::ffff:127.0.0.2 from 127.0.0.2\$/\1/p" "$glog" | head -n 1)
        [[ -n $nonce ]] || fail "the gateway saw no PCP $proto mapping of port 6881: $(cat "$glog")"
        eval "nonce_$proto=$nonce"
    done
    [[ $nonce_TCP != "$nonce_UDP" ]] || fail "one nonce for two mappings"
    grep -Eq '^(address|map) ' "$glog" && fail "a NAT-PMP request reached a PCP gateway: $(cat "$glog")"

    kill -INT "$SEED_PID"
    wait_pid_exit "$SEED_PID" 15
    local rc=$?
    [[ $rc == 124 ]] && fail "piecewise seed did not exit within 15 s of SIGINT"
    [[ $rc == 0 ]] || fail "piecewise seed exited $rc after SIGINT (expected 0)"
    for proto in TCP UDP; do
        eval "nonce=\$nonce_$proto"
        grep -q "^pcp map $proto internal 6881 suggested [0-9]* lifetime 0 nonce $nonce client ::ffff:127.0.0.2 from 127.0.0.2\$" "$glog" ||
            fail "the gateway saw no deletion of the $proto mapping with its nonce: $(cat "$glog")"
    done
    grep -q '^port mapping: UDP 6881 removed' "$T/pw-seed.log" || fail "no removal line from piecewise"
    echo "PASS: TCP and UDP 6881 mapped by PCP (one nonce each), deleted with those nonces on SIGINT"
}
