# BEP 55 holepunching with libtorrent as the relay. Two piecewise peers act as if behind
# NAT (`--simulate-nat`: incoming TCP refused, a uTP SYN let in only from an endpoint
# they sent one to) and speak uTP only; both dial a libtorrent peer, which can reach
# neither. The seeder (127.0.0.2) has the data; libtorrent (127.0.0.5) is a leecher held
# to 4 KB/s, so it cannot pass the payload on in time; the leecher (127.0.0.3) learns
# the seeder's endpoint from libtorrent's PEX, fails to dial it, asks libtorrent for a
# `rendezvous`, and libtorrent's `connect` to both makes them dial each other at once.

case_lt_relay_holepunch() {
    need_piecewise
    single_payload 8; pw_create
    local relay=127.0.0.5:6881
    mkdir -p "$T/relay"
    spawn "$T/lt-relay.log" "$PW_PY" "$LT_PEER" get "$TORRENT" --dir "$T/relay" --listen "$relay" \
        --utp-only --download-limit 4096 --timeout $((WAIT + 60))
    local relay_pid=$SPAWNED
    wait_alive "$relay_pid" "$START_WAIT" udp_bound "${relay%:*}" "${relay##*:}"
    (($? == 0)) || fail "libtorrent did not bind $relay within ${START_WAIT}s"
    # The seeder dials the relay first, so that the relay's first PEX message to the
    # leecher already names it.
    # The seeder takes no PEX, so that it cannot learn the leecher and dial it unasked
    # (the two dialling each other at once would open both NATs without a relay).
    PW_OPTS+=(--no-tcp --simulate-nat --peer "$relay")
    SEED_PROBE=udp_bound
    local opts=("${PW_OPTS[@]}")
    PW_OPTS+=(--no-pex)
    pw_seed
    PW_OPTS=("${opts[@]}")
    wait_until 30 grep -q "peer_connect_alert\|127.0.0.2" "$T/lt-relay.log" ||
        fail "the seeder never reached the relay"
    pw_get
    check_same
    grep -q "holepunch: asked $relay to introduce $SEEDER" "$T/pw-get.log" ||
        fail "the leecher never asked the relay for a rendezvous"
    grep -q "holepunch: connecting to 127.0.0.3:" "$T/pw-seed.log" ||
        fail "the seeder never dialled the leecher on the relay's connect"
    stop_pw_seed
    # The relay never completes (held to 4 KB/s): its exit status on SIGTERM is 1.
    stop_pid "$relay_pid" 10
    echo "PASS: the leecher reached the NATed seeder through libtorrent's rendezvous"
}
