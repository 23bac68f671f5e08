# Interop cases: peers over IPv6 on ::1 (BEP 7 addresses, BEP 10 "ipv6"), against
# libtorrent. Piecewise listens on both families at once (--listen given twice).
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# ipv6_loopback: the namespace's lo carries ::1 (added when the kernel left it off).
ipv6_loopback() {
    ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
        ip -6 addr add ::1/128 dev lo 2>/dev/null ||
        fail "no ::1 on lo in the test namespace"
}

# listening_v6 HOST PORT (wait_seed_ready's probe, HOST "[::1]"): a TCP socket listens
# at [::1]:PORT (ss shows it as "[::1]%lo:PORT"; port_listening's pattern would take
# HOST's brackets as a regular expression's).
listening_v6() { ss -Hltn "sport = :$2" 2>/dev/null | awk '{ print $4 }' | grep -qxE "\[::1\](%[^:]*)?:$2"; }

# libtorrent seeds on [::1]:6881 only; piecewise (127.0.0.3 and ::1, port 6882) is told
# the seeder's IPv6 endpoint and downloads over IPv6 (the seeder has no other address),
# byte-identical.
case_lt_to_pw_ipv6() {
    need_piecewise
    ipv6_loopback
    single_payload "$LT_MIB"; pw_create   # no tracker in the torrent
    SEEDER="[::1]:6881"
    SEED_PROBE=listening_v6 lt_seed
    LEECHER=127.0.0.3:6882
    pw_get --listen "[::1]:6882" --peer "$SEEDER"
    check_same
}

# piecewise seeds on 127.0.0.2 and [::1] (port 6881); libtorrent, listening on
# [::1]:6882 only, dials [::1]:6881 and downloads over IPv6, byte-identical.
case_pw_to_lt_ipv6() {
    need_piecewise
    ipv6_loopback
    single_payload "$LT_MIB"; mktorrent_for "http://$TRACKER_HOST:9/announce"
    PW_OPTS+=(--listen "[::1]:6881")
    pw_seed
    lt_get --listen "[::1]:6882" --peer "[::1]:6881"
    check_same
    stop_pw_seed
}

# The DHT over IPv6 (BEP 32) -------------------------------------------------------
# Every process has ::1 only, so the DHT involved is the IPv6 one; the node everyone
# bootstraps from is a `piecewise dht-node` on [::1] (dht.sh's helpers, DHT_NODE set here).

DHT_NODE6="[::1]:6890"

# piecewise seeds on [::1] only and announces itself to the IPv6 DHT; libtorrent on
# [::1] downloads the magnet, its DHT finding piecewise's announce (metadata by BEP 9).
case_pw_seed_lt_magnet_dht_ipv6() {
    need_piecewise
    ipv6_loopback
    single_payload "$LT_MIB"; pw_create   # no tracker in the torrent
    local DHT_NODE=$DHT_NODE6
    SEEDER="[::1]:6881"
    LEECHER="[::1]:6882"
    dht_node_start
    seed_dir_with_payload
    spawn "$T/pw-seed.log" "$PW_BIN" seed "${PW_VERBOSE[@]}" --dht-bootstrap "$DHT_NODE" --listen "$SEEDER" -d "$T/seed" "$TORRENT"
    SEED_PID=$SPAWNED
    SEED_PROBE=listening_v6 wait_seed_ready "piecewise seed" "$T/pw-seed.log" "$PW_CHECKED_RE"
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the piecewise seeder never announced itself to the IPv6 DHT"
    write_lt_magnet
    mkdir -p "$T/down"
    "$PW_PY" "$T/lt_magnet.py" "magnet:?xt=urn:btih:$(info_hash "$TORRENT")" "$T/down" "$LEECHER" "$DHT_NODE" "$WAIT" \
        >"$T/lt-get.log" 2>&1 || fail "libtorrent magnet download through the IPv6 DHT failed"
    check_same
    grep -m1 'complete in' "$T/lt-get.log"
    stop_pw_seed
    stop_pid "$DHT_PID" 10
}

# libtorrent seeds on [::1] only and announces to the IPv6 DHT; `piecewise get MAGNET` on
# [::1] finds it through the IPv6 DHT alone and downloads.
case_lt_seed_pw_magnet_dht_ipv6() {
    need_piecewise
    ipv6_loopback
    single_payload "$LT_MIB"; pw_create
    local DHT_NODE=$DHT_NODE6
    SEEDER="[::1]:6881"
    LEECHER="[::1]:6882"
    dht_node_start
    seed_dir_with_payload; write_lt_dht
    spawn "$T/lt-seed.log" "$PW_PY" "$T/lt_dht.py" seed "$TORRENT" "$T/seed" "$SEEDER" "$DHT_NODE" $((WAIT + 60))
    SEED_PID=$SPAWNED
    SEED_PROBE=listening_v6 wait_seed_ready "libtorrent DHT seeder" "$T/lt-seed.log" 'state seeding'
    wait_alive "$SEED_PID" "$ANNOUNCE_WAIT" dht_node_has_peer ||
        fail "the seeder's announce never reached the piecewise DHT node over IPv6"
    mkdir -p "$T/down"
    local ih rc
    ih=$(info_hash "$TORRENT")
    timeout -k 5 "$WAIT" "$PW_BIN" get "${PW_VERBOSE[@]}" --dht-bootstrap "$DHT_NODE" -o "$T/down" \
        --listen "$LEECHER" --no-seed "magnet:?xt=urn:btih:$ih" >"$T/pw-get.log" 2>&1
    rc=$?
    [[ $rc == 0 ]] || fail "piecewise get MAGNET over the IPv6 DHT exited $rc"
    check_same
    stop_pid "$SEED_PID" 10
    stop_pid "$DHT_PID" 10
}
