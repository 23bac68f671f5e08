# Interop cases: network options: blocklist, bind interface, SOCKS5 proxy.
# Sourced by tests/interop/cases.sh, which holds the shared helpers and addresses.
# shellcheck shell=bash

# --blocklist and --bind-interface against a libtorrent seeder (127.0.0.2): a gzipped
# list that blocks it leaves the download at 0 peers; a list that does not, with every
# socket bound to lo, completes; bound to another interface (a veth pair with no route to
# 127.0.0.2) nothing connects; a missing interface exits 1 naming it, an unreadable or
# empty blocklist exits 2.
case_pw_blocklist_bind_interface() {
    need_piecewise
    single_payload 8; pw_create
    lt_seed
    local out rc
    printf '# blocks the seeder\nlibtorrent seed:127.0.0.2-127.0.0.2\n' | gzip >"$T/block.p2p.gz"
    timeout -k 5 10 "$PW_BIN" get "${PW_OPTS[@]}" -o "$T/down-blocked" --listen 127.0.0.5:6881 --no-seed \
        --blocklist "$T/block.p2p.gz" --peer "$SEEDER" "$TORRENT" >"$T/pw-blocked.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] || fail "get with the only peer blocked exited $rc (expected the 10 s timeout)"
    grep -q '^blocklist: 1 ranges from .*block.p2p.gz (0 lines skipped)' "$T/pw-blocked.log" ||
        fail "no blocklist line in the output"
    grep -q 'peers [1-9]' "$T/pw-blocked.log" && fail "a blocked peer was connected"

    printf '009.000.000.000 - 009.255.255.255 , 000 , elsewhere\nnot a range\n' >"$T/other.dat"
    pw_get --bind-interface lo --blocklist "$T/other.dat" --peer "$SEEDER"
    grep -q '^blocklist: 1 ranges from .*other.dat (1 lines skipped)' "$T/pw-get.log" ||
        fail "no blocklist line in the output"
    check_same

    ip link add pwv0 type veth peer name pwv1 && ip link set pwv0 up && ip link set pwv1 up ||
        fail "cannot make a veth pair"
    timeout -k 5 10 "$PW_BIN" get "${PW_OPTS[@]}" -o "$T/down-veth" --listen 127.0.0.6:6881 --no-seed \
        --bind-interface pwv0 --peer "$SEEDER" "$TORRENT" >"$T/pw-veth.log" 2>&1
    rc=$?
    [[ $rc == 124 ]] || fail "get bound to pwv0 exited $rc (expected the 10 s timeout)"
    grep -q 'peers [1-9]' "$T/pw-veth.log" && fail "a peer was reached through pwv0"

    out=$("$PW_BIN" get "${PW_OPTS[@]}" --bind-interface pw-none0 --peer "$SEEDER" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 1 && $out == *"no network interface named 'pw-none0'"* ]] ||
        fail "a missing interface gave exit $rc: $out"
    out=$("$PW_BIN" seed "${PW_OPTS[@]}" --blocklist "$T/nothing.p2p" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 2 && $out == *"cannot read blocklist"* ]] || fail "a missing blocklist gave exit $rc: $out"
    : >"$T/empty.p2p"
    out=$("$PW_BIN" seed "${PW_OPTS[@]}" --blocklist "$T/empty.p2p" "$TORRENT" 2>&1); rc=$?
    [[ $rc == 2 && $out == *"no IP range"* ]] || fail "an empty blocklist gave exit $rc: $out"
    echo "PASS: blocked seeder never connected, lo-bound download identical, veth-bound reached nothing"
}

# SOCKS5 proxy: Dante (danted, Debian's dante-server) on 127.0.0.9:1080, no
# authentication. The torrent names its tracker "tracker.test" (this namespace's own
# /etc/hosts, bind-mounted, maps it to 127.0.0.1 for Dante and the libtorrent seeder);
# piecewise downloads with --proxy, and Dante's log and the seeder's peer list must show
# every connection coming from the proxy's address.
PROXY_ADDR=127.0.0.9
PROXY_PORT=1080

dante_start() {
    command -v danted >/dev/null || { echo "SKIP: danted not installed (dante-server)"; exit 77; }
    ip addr add "$PROXY_ADDR/32" dev lo   # Dante binds only to addresses of an interface
    printf '127.0.0.1 tracker.test\n' >"$T/hosts"
    cat /etc/hosts >>"$T/hosts"
    mount --bind "$T/hosts" /etc/hosts || fail "cannot bind-mount $T/hosts over /etc/hosts"
    cat >"$T/danted.conf" <<CONF
logoutput: stderr
internal: $PROXY_ADDR port = $PROXY_PORT
external: $PROXY_ADDR
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    log: connect disconnect error
}
socks pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    command: connect udpassociate udpreply
    log: connect disconnect error
}
CONF
    spawn "$T/danted.log" danted -f "$T/danted.conf" -p "$T/danted.pid"
    DANTE_PID=$SPAWNED
    wait_alive "$DANTE_PID" "$START_WAIT" port_listening "$PROXY_ADDR" "$PROXY_PORT"
    (($? == 0)) || fail "danted did not listen on $PROXY_ADDR:$PROXY_PORT"
}

# proxy_checks WHAT: Dante relayed WHAT (a regex of its log) and the peer connection, and
# the libtorrent seeder saw its downloader at the proxy's address only.
proxy_checks() {
    grep -qE "$1" "$T/danted.log" || fail "Dante's log shows no $1"
    grep -qE "tcp/connect \[: .* -> $PROXY_ADDR\.[0-9]+ ${SEEDER%:*}\.${SEEDER#*:}" "$T/danted.log" ||
        fail "Dante's log shows no connection to the seeder"
    wait_alive "$SEED_PID" 20 grep -qE "peer_(connect|disconnected)_alert: .*$PROXY_ADDR:" "$T/lt-seed.log"
    (($? == 0)) || fail "the seeder never listed a peer at $PROXY_ADDR"
    ! grep -qE "peer_(connect|disconnected)_alert: .*${LEECHER%:*}:" "$T/lt-seed.log" ||
        fail "the seeder saw the downloader's own address ${LEECHER%:*}"
    grep -hE "peer_disconnected_alert: .*$PROXY_ADDR:" "$T/lt-seed.log" | head -1
}

case_pw_proxy_dante() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "http://tracker.test:$TRACKER_PORT/announce"
    dante_start; tracker; lt_seed; seeder_announced
    pw_get --proxy "socks5://$PROXY_ADDR:$PROXY_PORT"
    check_same
    proxy_checks "tcp/connect \[: .* -> $PROXY_ADDR\.[0-9]+ $TRACKER_HOST\.$TRACKER_PORT"
    stop_pid "$DANTE_PID" 5
    # A malformed proxy URL: exit 2 with one line saying why.
    local rc
    "$PW_BIN" get --no-dht --proxy "socks5://$PROXY_ADDR" -o "$T/none" "$TORRENT" >"$T/bad-proxy.out" 2>&1
    rc=$?
    [[ $rc == 2 && $(wc -l <"$T/bad-proxy.out") == 1 ]] ||
        fail "a malformed --proxy gave exit $rc: $(cat "$T/bad-proxy.out")"
    cat "$T/bad-proxy.out"
}

case_pw_proxy_dante_udp() {
    need_piecewise
    single_payload "$LT_MIB"; mktorrent_for "udp://tracker.test:$TRACKER_PORT/announce"
    dante_start; tracker; lt_seed; seeder_announced
    pw_get --proxy "socks5://$PROXY_ADDR:$PROXY_PORT"
    check_same
    proxy_checks "udp/udpassociate"
    stop_pid "$DANTE_PID" 5
}
