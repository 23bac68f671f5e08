# Interop cases: port mapping by UPnP IGD (UPnP Device Architecture 1.1, WANIPConnection:1)
# against a fake gateway (tests/interop/fake_igd.py) inside the test's namespace: SSDP by
# multicast on the namespace's loopback, the description and SOAP over HTTP on 127.0.0.1.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

IGD_SSDP_PORT=1900
IGD_HTTP_PORT=5000

# `piecewise seed --upnp` finds the fake IGD by an SSDP search (239.255.255.250:1900 on the
# namespace's loopback), maps its TCP and UDP peer port (6881, from 127.0.0.2, lease
# 3600 s), prints the external address and the mappings, and on SIGINT deletes both before
# it exits 0. A seed with --upnp-igd URL skips the search; one without --upnp sends nothing.
case_pw_upnp() {
    need_piecewise
    ip link set lo multicast on
    ip route add 239.0.0.0/8 dev lo 2>/dev/null || true
    single_payload 1; pw_create
    local glog=$T/igd-requests.log
    spawn "$T/fake-igd.log" "$PW_PY" "$HERE/fake_igd.py" "$IGD_SSDP_PORT" "$IGD_HTTP_PORT" "$glog" --multicast
    wait_until 10 grep -q '^listening' "$glog" 2>/dev/null || fail "the fake IGD did not start"

    # Opt-in: a seed without --upnp sends nothing to the gateway.
    seed_dir_with_payload
    spawn "$T/pw-plain.log" "$PW_BIN" seed "${PW_OPTS[@]}" --listen 127.0.0.3:6881 -d "$T/seed" \
        --resume-dir "$T/resume-plain" "$TORRENT"
    local plain=$SPAWNED
    wait_until 30 grep -Eq "$PW_CHECKED_RE" "$T/pw-plain.log" || fail "the plain seed did not start"

    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_OPTS[@]}" --listen "$SEEDER" -d "$T/seed" --upnp "$TORRENT"
    SEED_PID=$SPAWNED
    wait_until 30 grep -q '^port mapping (UPnP): UDP 6881 -> external 203.0.113.7:6881, lease 3600 s' "$T/pw-seed.log" ||
        fail "no UDP mapping line from piecewise"
    grep -q '^port mapping (UPnP): external address 203.0.113.7' "$T/pw-seed.log" || fail "no external address line"
    grep -q '^port mapping (UPnP): TCP 6881 -> external 203.0.113.7:6881, lease 3600 s' "$T/pw-seed.log" ||
        fail "no TCP mapping line"
    grep -q '^search ST urn:schemas-upnp-org:device:InternetGatewayDevice:1 from 127.0.0.2$' "$glog" ||
        fail "the IGD saw no SSDP search from 127.0.0.2"
    grep -q '^description from 127.0.0.2$' "$glog" || fail "the IGD's description was not fetched"
    grep -q '^GetExternalIPAddress from 127.0.0.2$' "$glog" || fail "the IGD saw no GetExternalIPAddress"
    grep -q '^AddPortMapping TCP external 6881 internal 6881 client 127.0.0.2 lease 3600 from 127.0.0.2$' "$glog" ||
        fail "the IGD saw no TCP mapping of port 6881 for 127.0.0.2"
    grep -q '^AddPortMapping UDP external 6881 internal 6881 client 127.0.0.2 lease 3600 from 127.0.0.2$' "$glog" ||
        fail "the IGD saw no UDP mapping of port 6881 for 127.0.0.2"

    kill -INT "$SEED_PID"
    wait_pid_exit "$SEED_PID" 15
    local rc=$?
    [[ $rc == 124 ]] && fail "piecewise seed did not exit within 15 s of SIGINT"
    [[ $rc == 0 ]] || fail "piecewise seed exited $rc after SIGINT (expected 0)"
    grep -q '^DeletePortMapping TCP external 6881 from 127.0.0.2$' "$glog" ||
        fail "the IGD saw no deletion of the TCP mapping"
    grep -q '^DeletePortMapping UDP external 6881 from 127.0.0.2$' "$glog" ||
        fail "the IGD saw no deletion of the UDP mapping"
    grep -q '^port mapping (UPnP): TCP 6881 removed' "$T/pw-seed.log" || fail "no removal line from piecewise"

    # --upnp-igd: the description URL directly, no search.
    spawn "$T/pw-igd.log" "$PW_BIN" seed "${PW_OPTS[@]}" --listen 127.0.0.4:6882 -d "$T/seed" \
        --resume-dir "$T/resume-igd" --upnp --upnp-igd "http://127.0.0.1:$IGD_HTTP_PORT/desc.xml" "$TORRENT"
    local igd_seed=$SPAWNED
    wait_until 30 grep -q '^port mapping (UPnP): TCP 6882 -> external 203.0.113.7:6882, lease 3600 s' "$T/pw-igd.log" ||
        fail "no TCP mapping line from the --upnp-igd seed"
    grep -q '^description from 127.0.0.4$' "$glog" || fail "the --upnp-igd seed did not fetch the description"
    grep -q 'search .* from 127.0.0.4$' "$glog" && fail "the --upnp-igd seed sent an SSDP search"
    stop_pid "$igd_seed" 10

    stop_pid "$plain" 10
    grep -q 'from 127.0.0.3$' "$glog" && fail "a seed without --upnp talked to the gateway"
    echo "PASS: found by SSDP, TCP and UDP 6881 mapped through the fake IGD, deleted on SIGINT; --upnp-igd skips the search; none without --upnp"
}
